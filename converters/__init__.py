"""edgekit.converters: prune, export and quantize models per format, and verify them with real runtimes.

``backend.py`` says what a format backend is; ``tflite``, ``onnx`` and ``openvino`` hold one backend class each,
registered by name in edgekit.formats.FORMATS. ``common/`` holds everything format-agnostic; ``recipes/`` the
per-architecture policy.
"""
