"""LiteRT (ai-edge-litert) backend: runs the model's default signature, by input name."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from edgekit._lazy import require
from edgekit.errors import InputFileError
from edgekit.runtime import Session, TensorInfo, dequantize, quantize


def _info(name: str, d: dict) -> TensorInfo:
    scale, zero_point = d["quantization"]
    quantized = (float(scale), int(zero_point)) if scale and np.issubdtype(np.dtype(d["dtype"]), np.integer) else None
    return TensorInfo(name, tuple(int(s) if s >= 0 else None for s in d["shape_signature"]),
                      np.dtype(d["dtype"]).name, quantized)


# LiteRT writes this to fd 2 when it applies XNNPACK, at the first invoke: before every app's own output
_XNNPACK_INFO = b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n"


def _without_xnnpack_info(run):
    """``run()`` with fd 2 captured; what the runtime wrote there goes back to stderr without the XNNPACK line
    (a warning or an error it prints stays visible)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as scratch:
        os.dup2(scratch.fileno(), 2)
        try:
            return run()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            scratch.seek(0)
            said = scratch.read().replace(_XNNPACK_INFO, b"")
            if said:
                os.write(2, said)


class LiteRTSession(Session):
    runtime = "litert"

    def __init__(self, path: Path, threads: int | None, preserve_all_tensors: bool = False):
        lite = require("ai_edge_litert.interpreter", purpose="Running .tflite models")
        try:  # preserve_all_tensors: every intermediate stays readable after a run (per-layer error; slower)
            self._interp = lite.Interpreter(model_path=str(path), num_threads=threads,
                                            experimental_preserve_all_tensors=preserve_all_tensors)
        except ValueError as exc:
            raise InputFileError(
                f"LiteRT cannot load '{path.name}': it is not a valid .tflite model ({exc}).",
                got=str(path),
                tip="Re-create the artifact with `edgekit convert`.",
            ) from exc
        signatures = self._interp.get_signature_list()
        key = "serving_default" if "serving_default" in signatures else next(iter(signatures), None)
        if key is None:
            raise InputFileError(
                f"'{path.name}' has no signature, so its inputs cannot be fed by name.",
                got=str(path),
                tip="Convert from a Keras model or SavedModel with `edgekit convert`, which always writes one.",
            )
        self._runner = self._interp.get_signature_runner(key)
        self._in = self._runner.get_input_details()
        self._out = self._runner.get_output_details()
        self.inputs = [_info(n, d) for n, d in self._in.items()]
        self.outputs = [_info(n, d) for n, d in self._out.items()]
        self.options = {"threads": threads, "device": "CPU", "signature": key}
        self._invoked = False

    def _run(self, feeds):
        args = {}
        for name, x in feeds.items():
            d = self._in[name]
            dtype = np.dtype(d["dtype"])
            scale, zp = d["quantization"]
            if np.issubdtype(dtype, np.integer) and scale:
                args[name] = quantize(x, scale, zp, dtype)
            else:
                args[name] = x.astype(dtype, copy=False)
        if self._invoked:
            raw = self._runner(**args)
        else:
            raw = _without_xnnpack_info(lambda: self._runner(**args))
            self._invoked = True
        out = {}
        for name, y in raw.items():
            scale, zp = self._out[name]["quantization"]
            out[name] = dequantize(y, scale, zp) if np.issubdtype(y.dtype, np.integer) and scale else y
        return out


def open_session(path: Path, *, threads=None, devices=None) -> Session:
    return LiteRTSession(path, threads)
