"""One Session over LiteRT, ONNX Runtime and OpenVINO: load an artifact, run it with inputs by name.

This is the light layer a device uses (numpy + exactly one runtime). Inputs and outputs are always float
numpy arrays keyed by name; a quantized model's int8 I/O is (de)quantized here, so callers never see it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgekit.errors import InputFileError, UsageError, did_you_mean
from edgekit.formats import BY_SUFFIX, RUNTIMES


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple[int | None, ...]  # None for a dynamic dimension
    dtype: str  # dtype the model itself takes/gives, e.g. "int8" for a fully quantized LiteRT model
    quantization: tuple[float, int] | None = None  # (scale, zero point) of quantized I/O; run() converts for you

    def to_json(self) -> dict:
        return {"name": self.name, "shape": [d if d is not None else -1 for d in self.shape], "dtype": self.dtype,
                "quantization": None if self.quantization is None else
                {"scale": self.quantization[0], "zero_point": self.quantization[1]}}


class Session:
    """Base class; backends fill in ``inputs``, ``outputs``, ``_run`` and ``options``."""

    runtime: str = ""
    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    options: dict  # threads, device / providers actually used: recorded in reports

    def _run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """One inference call; ``feeds`` must match the model's input shapes (by name)."""
        names = [t.name for t in self.inputs]
        if set(feeds) != set(names):
            missing, extra = sorted(set(names) - set(feeds)), sorted(set(feeds) - set(names))
            raise UsageError(
                "Inputs do not match the model's input names.",
                got=f"missing {missing}, unexpected {extra}",
                tip=f"Feed exactly: {', '.join(names)}.",
            )
        feeds = {k: np.asarray(v) for k, v in feeds.items()}
        for t in self.inputs:
            check_shape(t, feeds[t.name].shape)
        return self._run(feeds)

    @property
    def batch(self) -> int | None:
        """The inputs' static batch size (static_batch), or None when it is dynamic."""
        return static_batch(self.inputs)

    def predict(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run a whole batch, splitting it into the model's static batch when it has one."""
        return run_in_batches(self.run, feeds, self.batch)


def static_batch(inputs: list[TensorInfo]) -> int | None:
    """The batch size the inputs fix: the first dimension of the first input that fixes one (an input whose batch
    is open takes that size too: ONNX models declare a recurrent state's batch as 1 beside an open sequence), or
    None when every input's batch is open."""
    return next((t.shape[0] for t in inputs if t.shape and t.shape[0] is not None), None)


def as_model_input(x: np.ndarray) -> np.ndarray:
    """Float data as float32 (what float model inputs take); integer and boolean data as they are."""
    return np.asarray(x, np.float32) if np.issubdtype(np.asarray(x).dtype, np.floating) else np.asarray(x)


def check_shape(spec: TensorInfo, shape: tuple[int, ...]) -> None:
    """One clear error for a wrong window length, feature count or image size, whatever the runtime."""
    want = spec.shape
    if len(shape) != len(want) or any(w is not None and w != g for w, g in zip(want, shape)):
        shown = ", ".join("N" if w is None else str(w) for w in want)
        raise UsageError(
            f"Input '{spec.name}' has the wrong shape.",
            got=f"shape={tuple(shape)}; the model expects ({shown})",
            tip="Each sample must have exactly the model's input shape (e.g. the window length and feature "
            "count it was trained with); predict() splits larger batches for you.",
        )


def run_in_batches(run, feeds: dict[str, np.ndarray], step: int | None) -> dict[str, np.ndarray]:
    """Call ``run`` on slices of ``step`` samples (all at once when None) and concatenate each output."""
    n = len(next(iter(feeds.values())))
    if not step or step >= n:
        return run(feeds)
    parts = [run({k: v[i : i + step] for k, v in feeds.items()}) for i in range(0, n, step)]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def open_session(
    path: str | Path, *, threads: int | None = None, devices: tuple[str, ...] | None = None
) -> Session:
    """Load ``path`` (.tflite, .onnx or OpenVINO .xml) with the runtime its format needs.

    ``devices`` lists preferred devices (OpenVINO) or execution providers (ONNX Runtime) in order;
    the first one available is used. Default: CPU.
    """
    path = Path(path)
    fmt = BY_SUFFIX.get(path.suffix)
    if fmt is None:
        raise UsageError(
            f"Cannot tell which runtime runs '{path.name}'.{did_you_mean(path.suffix, BY_SUFFIX)}",
            got=f"suffix {path.suffix!r}",
            tip=f"Artifacts end in one of: {', '.join(BY_SUFFIX)}.",
        )
    if not path.is_file():
        raise InputFileError("Model artifact not found.", got=str(path), tip="Check the path.")
    backend = importlib.import_module(RUNTIMES[fmt.runtime].session_module)
    return backend.open_session(path, threads=threads, devices=devices)


def quantize(x: np.ndarray, scale: float, zero_point: int, dtype: np.dtype) -> np.ndarray:
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale) + zero_point, info.min, info.max).astype(dtype)


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    return ((q.astype(np.float32) - zero_point) * scale).astype(np.float32)
