"""Artifact formats and the runtimes that execute them, looked up by name."""

from __future__ import annotations

from dataclasses import dataclass

PRECISIONS = ("fp32", "fp16", "int8")


@dataclass(frozen=True)
class Format:
    name: str
    runtime: str
    artifact: str  # file name of the artifact inside its output directory
    description: str


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("tflite", "litert", "model.tflite", "LiteRT flatbuffer, builtin ops only"),
        Format("onnx", "onnxruntime", "model.onnx", "ONNX (int8 as QDQ, which TensorRT consumes)"),
        Format("openvino-ir", "openvino", "model.xml", "OpenVINO IR (model.xml + model.bin)"),
    )
}

RUNTIMES = {
    "litert": "ai-edge-litert (LiteRT interpreter)",
    "onnxruntime": "ONNX Runtime",
    "openvino": "OpenVINO Runtime",
}
