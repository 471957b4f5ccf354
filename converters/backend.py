"""What a format's converter backend is, and the registry that finds one by format name.

One class per format in one file (converters/tflite.py, onnx.py, openvino.py), as NNCF splits an algorithm into
``backend.py`` + ``<framework>_backend.py``. A backend says which intermediate its export starts from, which typed
options a recipe may set for it, and writes the artifact for one precision. Everything format-agnostic (sources,
intermediates, calibration data, float fallback, verification) lives in converters/common and never branches on
a format name. The registry is edgekit.formats.FORMATS: its ``backend`` column names the class.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from edgekit.errors import UsageError, did_you_mean
from edgekit.formats import FORMATS
from edgekit.runtime import as_model_input  # noqa: F401  (re-exported: the converters' name for it)

# Intermediates an export can start from: the canonical static-batch SavedModel of a Keras form
# (converters/common/keras_forms), the fp32 ONNX model (exported from a SavedModel or a PyTorch program, or the
# user's own .onnx), or the canonical PyTorch program (.pt2 at static shapes, inputs by keyword:
# converters/common/torch_source).
SAVED_MODEL = "saved_model"
ONNX = "onnx"
TORCH_PROGRAM = "torch_program"
INTERMEDIATES = (SAVED_MODEL, ONNX, TORCH_PROGRAM)


@dataclass(frozen=True)
class Start:
    """The intermediate an export reads: which kind, and where it is."""

    kind: str  # one of INTERMEDIATES
    path: Path
    form: str | None = None  # the Keras form it was exported from (None for a user's .onnx)


@dataclass(frozen=True)
class ExportSpec:
    """What to write: the precision, the static input shapes every target compiles, real calibration samples
    (int8 only) and the Keras layers an int8 build keeps in float (chosen by converters/common/float_fallback).
    ``weights_only``: int8 weights with float activations (LiteRT's dynamic-range int8, which quantizes activations
    per inference), offered by a backend's ``speed_variants`` where static int8 runs slower than fp32."""

    precision: str
    input_shapes: Mapping[str, tuple[int, ...]]
    calibration: Mapping[str, np.ndarray] | None = None
    float_layers: tuple[str, ...] = ()
    weights_only: bool = False

    def calibration_samples(self) -> list[dict[str, np.ndarray]]:
        """One-sample feeds by input name, in order, each in its input's dtype (token ids stay integers)."""
        if not self.calibration:
            raise UsageError("int8 conversion needs calibration data.", got="no calibration samples",
                             tip="Pass --calib data.npz with real training samples keyed by input name.")
        n = len(next(iter(self.calibration.values())))
        return [{k: as_model_input(v[i : i + 1]) for k, v in self.calibration.items()} for i in range(n)]


@dataclass(frozen=True)
class NoOptions:
    """A backend whose recipes set nothing."""


class Backend(ABC):
    format: ClassVar[str]  # key in edgekit.formats.FORMATS
    starts: ClassVar[tuple[str, ...]]  # intermediates it can start from, preferred first
    options_type: ClassVar[type] = NoOptions  # the frozen dataclass a recipe fills for this backend

    def __init__(self, options=None):
        if options is not None and not isinstance(options, self.options_type):
            raise TypeError(f"{type(self).__name__} takes {self.options_type.__name__}. Got: {type(options).__name__}")
        self.options = options if options is not None else self.options_type()

    @property
    def artifact(self) -> str:
        return FORMATS[self.format].artifact

    def describe(self, artifact: Path) -> dict:
        """Facts of this format a built artifact's metadata records (e.g. its ONNX opset); none by default."""
        return {}

    @abstractmethod
    def export(self, start: Start, dst: Path, spec: ExportSpec) -> None:
        """Write the artifact ``dst`` (its companions, e.g. model.bin, beside it) from ``start``."""

    def speed_variants(self, start_kind: str, spec: ExportSpec, profile) -> tuple[tuple[str, ExportSpec], ...]:
        """Other int8 builds (a label and the spec) that may run faster than ``spec``'s where its per-op profile
        (``profile``, a edgekit.profiling.op_profile.OpProfile) shows int8 kernels missing; converters/common/
        speed_guard times them. None by default."""
        return ()

    @abstractmethod
    def ops(self, artifact: Path, feed: dict[str, np.ndarray], threads: int):
        """The artifact's ops as its runtime runs them on ``feed``: a edgekit.profiling.op_profile.OpProfile."""

    @abstractmethod
    def tensors(self, artifact: Path, feeds: list[dict[str, np.ndarray]]) -> tuple[dict[str, list], list[str]]:
        """Every float-valued intermediate tensor of ``artifact`` run by its runtime, dequantized: name -> its value
        on each feed, and the names in graph order; what converters/common/layer_error compares."""


def backend_class(fmt: str) -> type[Backend]:
    if fmt not in FORMATS:
        raise UsageError(f"Unknown format '{fmt}'.{did_you_mean(fmt, FORMATS)}", got=fmt,
                         tip=f"Known formats: {', '.join(FORMATS)}.")
    module, name = FORMATS[fmt].backend.split(":")
    return getattr(importlib.import_module(module), name)
