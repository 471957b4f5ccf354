"""edgekit: take neural networks from a workstation to edge devices.

Importing edgekit is light (numpy, click and the standard library); TensorFlow, ONNX Runtime and
OpenVINO are imported only inside the functions that use them.
"""

__version__ = "0.1.0"
