"""edgekit: take neural networks from a workstation to edge devices.

Importing edgekit is light (numpy, click and the standard library); TensorFlow, ONNX Runtime and
OpenVINO are imported only inside the functions that use them.
"""

__version__ = "0.1.0"

# before any runtime is imported, in every edgekit process (CLI, Python API, a bundle's app on a device)
from edgekit._telemetry import turn_off as _telemetry_off  # noqa: E402

_telemetry_off()


def __getattr__(name: str):
    # edgekit.convert is the Python API (edgekit/api.py), imported on first use so `import edgekit` stays light;
    # by name, so a device bundle's import closure (bundle/package.lib_files) does not take the converters along
    if name == "convert":
        import importlib

        return importlib.import_module("edgekit.api").convert
    raise AttributeError(f"module 'edgekit' has no attribute {name!r}")
