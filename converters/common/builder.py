"""Builds each (format, precision) artifact once, in a work directory, from lazily made intermediates:
one canonical SavedModel per Keras form the recipe's routes need, and one fp32 ONNX export."""

from __future__ import annotations

import shutil
from pathlib import Path

from edgekit._fs import atomic_write_bytes
from edgekit.converters.common.source import SourceModel
from edgekit.converters.recipes import Recipe
from edgekit.formats import FORMATS


class Builder:
    """Builds each (format, precision) artifact once, from lazily made intermediates."""

    def __init__(self, src: SourceModel, recipe: Recipe, calibration, work: Path):
        self.src, self.recipe, self.calibration, self.work = src, recipe, calibration, work
        self._cache: dict[tuple[str, str], Path] = {}
        self._saved_models: dict[str, Path] = {}  # Keras form -> canonical SavedModel
        self._onnx_fp32: Path | None = None
        self.fallbacks: dict[str, dict] = {}  # format -> float-fallback decision of its int8 artifact
        self._validation_reference: float | None = None

    def saved_model(self, fmt: str) -> Path:
        form = self.recipe.route(fmt).form
        if form not in self._saved_models:
            self._saved_models[form] = self.src.export_saved_model(self.work / f"saved_model-{form}", form)
        return self._saved_models[form]

    def onnx_fp32(self) -> Path:
        from edgekit.converters import onnx as onnx_conv

        if self._onnx_fp32 is None:
            dst = self.work / "fp32.onnx"
            if self.src.kind == "onnx":
                self._onnx_fp32 = onnx_conv.onnx_static_batch(self.src.path, dst)
            else:
                self._onnx_fp32 = onnx_conv.saved_model_to_onnx(
                    self.saved_model("onnx"), [t.name for t in self.src.inputs], dst)
        return self._onnx_fp32

    def build(self, fmt: str, precision: str) -> Path:
        key = (fmt, precision)
        if key not in self._cache:
            out = self.work / f"{fmt}-{precision}"
            if precision == "int8" and self.recipe.float_fallback_types and self.src.zoo:
                shutil.copytree(self._int8_with_fallback(fmt), out)
            else:
                out.mkdir()
                _EXPORTERS[fmt](self, out / FORMATS[fmt].artifact, precision)
            self._cache[key] = out
        return self._cache[key]

    def _int8_with_fallback(self, fmt: str) -> Path:
        """Search which layers stay float (converters/common/float_fallback) on the zoo's validation split."""
        from edgekit.converters.common.float_fallback import FallbackDecision, choose_float_layers
        from edgekit.runtime import open_session

        zoo, artifact = self.src.zoo, FORMATS[fmt].artifact
        if self._validation_reference is None:
            self._validation_reference = zoo.validate(self.src.reference())[zoo.metric]
        tolerance = self.recipe.float_fallback_tolerance
        if zoo.metric_unit != "proportion":  # a proportion drops in points; other metrics relative to fp32
            tolerance *= abs(self._validation_reference)
        decision = FallbackDecision(zoo.metric, self._validation_reference, round(tolerance, 6), zoo.higher_is_better)

        def build(layers: tuple[str, ...]) -> Path:
            trial = self.work / f"{fmt}-int8-trial{len(decision.trials)}"
            trial.mkdir()
            _EXPORTERS[fmt](self, trial / artifact, "int8", layers)
            return trial / artifact

        def score(path: Path) -> float:
            return zoo.validate(open_session(path).predict)[zoo.metric]

        candidates = self.src.layer_names(self.recipe.float_fallback_types)
        chosen = choose_float_layers(candidates, build, score, decision)
        self.fallbacks[fmt] = {"candidates": candidates, "split": "validation", **decision.to_json()}
        return chosen.parent

    def to_tflite(self, dst: Path, precision: str, float_layers: tuple[str, ...] = ()) -> None:
        from edgekit.converters.tflite import saved_model_to_tflite

        atomic_write_bytes(dst, saved_model_to_tflite(self.saved_model("tflite"), precision, self.calibration,
                                                      float_layers))

    def to_onnx(self, dst: Path, precision: str, float_layers: tuple[str, ...] = ()) -> None:
        from edgekit.converters import onnx as onnx_conv

        base = self.onnx_fp32()
        if precision == "fp32":
            shutil.copyfile(base, dst)
        elif precision == "fp16":
            onnx_conv.onnx_to_fp16(base, dst)
        else:
            onnx_conv.onnx_to_int8(base, dst, self.calibration, float_layers)

    def to_openvino_ir(self, dst: Path, precision: str, float_layers: tuple[str, ...] = ()) -> None:
        from edgekit.converters import openvino as ov_conv

        shapes = {t.name: t.shape for t in self.src.static_inputs()}
        nncf_options = {**self.recipe.nncf_options(), "float_layers": float_layers}
        if self.src.kind == "onnx" or self.recipe.route("openvino-ir").start == "onnx":
            ov_conv.onnx_to_openvino(self.onnx_fp32(), shapes, dst, precision, self.calibration, nncf_options)
        else:
            ov_conv.saved_model_to_openvino(self.saved_model("openvino-ir"), shapes, dst, precision,
                                            self.calibration, nncf_options)


# format name -> how the builder makes it
_EXPORTERS = {"tflite": Builder.to_tflite, "onnx": Builder.to_onnx, "openvino-ir": Builder.to_openvino_ir}
