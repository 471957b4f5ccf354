"""edgekit.converters: prune, export and quantize models per format, and verify them with real runtimes.

``common/`` holds the format-agnostic logic; ``tflite``, ``onnx`` and ``openvino`` are thin per-format hooks.
"""
