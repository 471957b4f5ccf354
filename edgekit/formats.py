"""The one table of artifact formats and the runtimes that execute them, looked up by name.

Everything else derives from it: which runtime opens a file (by suffix), which module implements that runtime's
Session, which pip extra brings it, and which converter backend writes the format. Adding a format is one line
here plus its backend file in converters/. Light on purpose: a device reads this table too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

# int16: int8 weights with int16 activations (LiteRT's 16x8 mode, ONNX QDQ with 16-bit activations), for models
# whose activations need more than 256 levels; int8: int8 weights and activations.
PRECISIONS = ("fp32", "fp16", "int16", "int8")
CALIBRATED = ("int16", "int8")  # static quantization: activation ranges come from real calibration samples
# Built only when asked for by name, never by 'all': LiteRT runs 16x8 on reference kernels (gnn-grid: 25 ms vs
# 0.5 ms fp32 on the host) and ONNX Runtime emulates 16-bit QDQ in float; it is for models int8 cannot hold.
OPT_IN = ("int16",)


@dataclass(frozen=True)
class Runtime:
    name: str
    session_module: str  # implements open_session(path, threads=, devices=)
    import_name: str  # the module a missing install shows up as
    distribution: str  # pip distribution
    extra: str  # edgekit extra that installs it on a device
    description: str


@dataclass(frozen=True)
class Format:
    name: str
    runtime: str  # key in RUNTIMES
    artifact: str  # file name of the artifact inside its output directory
    backend: str  # "module:Class" of its converter backend (workstation only)
    description: str
    precisions: tuple[str, ...] = ("fp32", "fp16", "int8")  # what its backend can write

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.artifact).suffix


RUNTIMES: dict[str, Runtime] = {
    r.name: r
    for r in (
        Runtime("litert", "edgekit.runtime._litert", "ai_edge_litert.interpreter", "ai-edge-litert", "litert",
                "ai-edge-litert (LiteRT interpreter)"),
        Runtime("onnxruntime", "edgekit.runtime._onnxruntime", "onnxruntime", "onnxruntime", "onnxruntime",
                "ONNX Runtime"),
        Runtime("openvino", "edgekit.runtime._openvino", "openvino", "openvino", "openvino", "OpenVINO Runtime"),
    )
}

FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("tflite", "litert", "model.tflite", "edgekit.converters.tflite:TFLiteBackend",
               "LiteRT flatbuffer, builtin ops only", PRECISIONS),
        Format("onnx", "onnxruntime", "model.onnx", "edgekit.converters.onnx:OnnxBackend",
               "ONNX (int8 as QDQ, which TensorRT consumes)", PRECISIONS),
        # NNCF 3.4 quantizes activations to 8 bits only (int8, or FP8 modes): no int16
        Format("openvino-ir", "openvino", "model.xml", "edgekit.converters.openvino:OpenVINOBackend",
               "OpenVINO IR (model.xml + model.bin)"),
    )
}

# file suffix -> format: how an artifact on disk is opened
BY_SUFFIX: dict[str, Format] = {f.suffix: f for f in FORMATS.values()}
