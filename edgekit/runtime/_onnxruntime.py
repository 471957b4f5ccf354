"""ONNX Runtime backend. On a Jetson the providers are TensorRT > CUDA > CPU; on the host, CPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgekit._lazy import require
from edgekit.errors import InputFileError, summarize
from edgekit.runtime import Session, TensorInfo

_ORT_DTYPES = {"tensor(float)": "float32", "tensor(float16)": "float16", "tensor(int8)": "int8",
               "tensor(uint8)": "uint8", "tensor(int64)": "int64", "tensor(int32)": "int32"}


def _info(node) -> TensorInfo:
    shape = tuple(d if isinstance(d, int) else None for d in node.shape)
    return TensorInfo(node.name, shape, _ORT_DTYPES.get(node.type, node.type))


class OrtSession(Session):
    runtime = "onnxruntime"

    def __init__(self, path: Path, threads: int | None, devices: tuple[str, ...] | None):
        ort = require("onnxruntime", purpose="Running .onnx models")
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        if threads:
            opts.intra_op_num_threads = threads
        available = set(ort.get_available_providers())
        wanted = [p for p in (devices or ("CPUExecutionProvider",)) if p in available] or ["CPUExecutionProvider"]
        try:
            # QDQS8ToU8Transformer rewrites int8 activations to uint8 for x86's u8s8 kernels; on CPUs without VNNI
            # (AVX2 only: an AMD EPYC here) those saturate in VPMADDUBSW, and face-id's symmetric int8 QDQ model
            # gave top-1 0.03 instead of 0.99. The s8s8 kernels compute it right (what a Jetson's ORT runs).
            self._sess = ort.InferenceSession(str(path), sess_options=opts, providers=wanted,
                                              disabled_optimizers=["QDQS8ToU8Transformer"])
        except Exception as exc:  # ORT raises its own Fail/InvalidProtobuf types
            raise InputFileError(
                f"ONNX Runtime cannot load '{path.name}' ({type(exc).__name__}: {summarize(exc)}).",
                got=str(path),
                tip="Check that the file is a complete ONNX model; re-export it if it was truncated.",
            ) from exc
        self.inputs = [_info(i) for i in self._sess.get_inputs()]
        self.outputs = [_info(o) for o in self._sess.get_outputs()]
        self._dtypes = {t.name: np.dtype(t.dtype) for t in self.inputs}
        self.options = {"threads": threads, "providers": self._sess.get_providers()}

    def _run(self, feeds):
        feeds = {k: v.astype(self._dtypes[k], copy=False) for k, v in feeds.items()}
        values = self._sess.run(None, feeds)
        return {t.name: np.asarray(v, dtype=np.float32) if np.asarray(v).dtype == np.float16 else v
                for t, v in zip(self.outputs, values)}


def open_session(path: Path, *, threads=None, devices=None) -> Session:
    return OrtSession(path, threads, devices)
