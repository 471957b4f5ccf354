"""Builds each (format, precision) artifact once, in a work directory. The builder only caches intermediates
(one canonical SavedModel per Keras form the recipe's routes need, one fp32 ONNX model) and asks the format's
backend (converters/backend.py) to write each artifact; it never branches on a format name."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from edgekit.converters.backend import ONNX, SAVED_MODEL, TORCH_PROGRAM, Backend, ExportSpec, Start, backend_class
from edgekit.converters.common.source import BRIDGED_OF, INTERMEDIATES_OF, SourceModel
from edgekit.converters.recipes import Recipe
from edgekit.errors import UsageError
from edgekit.formats import CALIBRATED, FORMATS, RUNTIMES


_KIND_NAMES = {"zoo": "a zoo", "keras": "a .keras", "saved_model": "a SavedModel", "onnx": "an .onnx",
               "torch": "a PyTorch"}


def check_route(src_kind: str, fmt: str) -> tuple[str, ...]:
    """The starts of ``fmt``'s backend a ``src_kind`` source can make (its own intermediates, else one a
    translator bridges to), or a UsageError when there is none."""
    starts = backend_class(fmt).starts
    usable = tuple(s for s in starts if s in INTERMEDIATES_OF[src_kind]) or tuple(
        s for s in starts if s in BRIDGED_OF.get(src_kind, ()))
    if not usable:
        f = FORMATS[fmt]
        raise UsageError(
            f"Converting {_KIND_NAMES[src_kind]} model to {fmt} ({RUNTIMES[f.runtime].description}) is not "
            "supported yet.",
            got=f"the {fmt} backend starts from {' or '.join(starts)}; {_KIND_NAMES[src_kind]} model gives "
            f"{' or '.join(INTERMEDIATES_OF[src_kind])}",
            tip="Convert from the original Keras model or SavedModel, or pick a target of another format.",
        )
    return usable


class Builder:
    """Builds each (format, precision) artifact once, from lazily made intermediates."""

    def __init__(self, src: SourceModel, recipe: Recipe, calibration, work: Path, search=None,
                 threads: int | None = None, speed_guard: bool = True):
        self.src, self.recipe, self.calibration, self.work = src, recipe, calibration, work
        # the run's mixed-precision request (converters/common/mixed_precision.Search): its Scorer judges every int8
        # build's speed variants (converters/common/speed_guard), and when ``search.layers`` it searches which
        # layers each int8 build keeps float. None: neither (only a zoo recipe's own layer classes are searched)
        self.search = search
        self.threads = threads or min(os.cpu_count() or 1, 4)  # for timing int8 against fp32
        # False (--no-speed-guard): int8 is kept as built, so the artifact does not depend on this host's CPU
        self.speed_guard = speed_guard
        self.progress = lambda msg: None  # the current cell's progress line (set by the pipeline)
        self.speed: dict[str, dict] = {}  # format -> speed_guard decision of its int8 artifact
        self._cache: dict[tuple[str, str], Path] = {}
        self._saved_models: dict[str, Path] = {}  # Keras form -> canonical SavedModel
        self._onnx_fp32: Path | None = None
        self._torch_program: Path | None = None
        self._failed: dict[str, Exception] = {}  # intermediate -> why it could not be made (not retried per cell)
        self.fallbacks: dict[str, dict] = {}  # format -> float-fallback decision of its int8 artifact
        self._scorer = None

    def backend(self, fmt: str) -> Backend:
        cls = backend_class(fmt)
        return cls(self.recipe.options_for(cls.options_type))

    def _once(self, key: str, make):
        """Make an intermediate once; a failure is remembered and raised again for every cell that needs it."""
        if key in self._failed:
            raise self._failed[key]
        try:
            return make()
        except Exception as exc:
            self._failed[key] = exc
            raise

    def saved_model(self, form: str) -> Path:
        if form not in self._saved_models:
            self._saved_models[form] = self._once(f"saved_model-{form}", lambda: self.src.export_saved_model(
                self.work / f"saved_model-{form}", form))
        return self._saved_models[form]

    def onnx_fp32(self) -> Path:
        if self._onnx_fp32 is None:  # the source decides how it becomes ONNX (its own file, via a SavedModel or
            # via its PyTorch program)
            self._onnx_fp32 = self._once("onnx", lambda: self.src.export_onnx(
                self.work / "fp32.onnx", lambda: self.saved_model(self.recipe.route("onnx").form), self.torch_program))
        return self._onnx_fp32

    def torch_program(self) -> Path:
        if self._torch_program is None:
            self._torch_program = self._once("torch_program", lambda: self.src.export_torch_program(
                self.work / "program.pt2"))
        return self._torch_program

    def start_kind(self, fmt: str) -> str:
        """The recipe's start for ``fmt`` when this source can make it, else the backend's first one it can
        (an .onnx source reaches OpenVINO through ONNX whatever the recipe prefers)."""
        usable = check_route(self.src.kind, fmt)
        preferred = self.recipe.route(fmt).start
        return preferred if preferred in usable else usable[0]

    def start(self, fmt: str) -> Start:
        kind = self.start_kind(fmt)
        if kind == SAVED_MODEL:
            form = self.recipe.route(fmt).form
            return Start(SAVED_MODEL, self.saved_model(form), form)
        if kind == TORCH_PROGRAM:
            return Start(TORCH_PROGRAM, self.torch_program())
        assert kind == ONNX, kind
        # the ONNX file has a Keras form only when it was exported from the source's SavedModel
        form = self.recipe.route("onnx").form if SAVED_MODEL in self.src.intermediates else None
        return Start(ONNX, self.onnx_fp32(), form)

    def spec(self, precision: str, float_layers: tuple[str, ...] = ()) -> ExportSpec:
        return ExportSpec(precision, {t.name: t.shape for t in self.src.static_inputs()},
                          self.calibration if precision in CALIBRATED else None, float_layers)

    def export(self, fmt: str, precision: str, out: Path, float_layers: tuple[str, ...] = ()) -> Path:
        """Write ``fmt`` at ``precision`` into the directory ``out``; return the artifact's path."""
        return self.write(fmt, self.spec(precision, float_layers), out)

    def write(self, fmt: str, spec: ExportSpec, out: Path) -> Path:
        backend = self.backend(fmt)
        dst = out / backend.artifact
        backend.export(self.start(fmt), dst, spec)
        return dst

    def build(self, fmt: str, precision: str) -> Path:
        """The (format, precision) artifact's directory, built once for every target of that format; a build that
        failed fails again, with the same reason, for the next target that needs it."""
        key = (fmt, precision)
        if key not in self._cache:
            self._cache[key] = self._once(f"{fmt}-{precision}", lambda: self._build(fmt, precision))
        return self._cache[key]

    def _build(self, fmt: str, precision: str) -> Path:
        out = self.work / f"{fmt}-{precision}"
        searching = self.search is not None and self.search.layers
        try:
            if precision == "int8" and (searching or (self.recipe.float_fallback_types and self.src.zoo)):
                made = self._int8_with_fallback(fmt)
            else:
                made = out
                out.mkdir()
                self.export(fmt, precision, out)
            if precision == "int8" and self.search is not None and self.speed_guard:
                made = self._not_slower(fmt, made)
            if made != out:
                shutil.rmtree(out, ignore_errors=True)
                shutil.copytree(made, out)
        except BaseException:
            shutil.rmtree(out, ignore_errors=True)
            raise
        return out

    def scorer(self):
        """The run's Scorer of int8 artifacts on validation samples (made once: it runs fp32 on them)."""
        if self._scorer is None:
            from edgekit.converters.common import mixed_precision as mp

            self._scorer = self.search.scorer() if self.search else mp.make_scorer(
                self.src, self.recipe, None, None, "", True)
        return self._scorer

    def _not_slower(self, fmt: str, made: Path) -> Path:
        """converters/common/speed_guard: ``made`` (an int8 build's directory) or a faster variant's."""
        from edgekit.converters.common.layer_error import feeds_of
        from edgekit.converters.common.speed_guard import not_slower

        backend = self.backend(fmt)
        feeds = feeds_of(self.search.rank_inputs)
        kept = tuple(self.fallbacks.get(fmt, {}).get("float_layers", ()))

        def variants(built: Path):
            profile = backend.ops(built, feeds[0], self.threads)
            out = []
            for k, (label, spec) in enumerate(backend.speed_variants(self.start_kind(fmt), self.spec("int8", kept),
                                                                     profile)):
                def build(spec=spec, k=k) -> Path:
                    where = self.work / f"{fmt}-int8-speed{k}"
                    where.mkdir()
                    return self.write(fmt, spec, where)
                out.append((label, build))
            return out

        s = self.scorer()
        chosen, decision = not_slower(made / backend.artifact, self.build(fmt, "fp32") / backend.artifact, feeds,
                                      self.threads, variants, s.judge, s.metric, s.higher_is_better, self.progress)
        self.speed[fmt] = decision.to_json()
        return chosen.parent

    def _int8_with_fallback(self, fmt: str) -> Path:
        """Search which layers stay float (converters/common/float_fallback) on validation samples: a zoo recipe's
        layer classes, or the layers the all-int8 artifact's per-layer error blames (mixed_precision)."""
        from edgekit.converters.common import mixed_precision as mp
        from edgekit.converters.common.float_fallback import FallbackDecision, choose_float_layers
        from edgekit.converters.common.layer_error import feeds_of

        def build(layers: tuple[str, ...]) -> Path:
            self.progress(f"float-layer search, trial {len(decision.trials) + 1}: "
                          + (f"{len(layers)} layer(s) kept float" if layers else "all int8"))
            out = self.work / f"{fmt}-int8-trial{len(decision.trials)}"
            out.mkdir()
            return self.export(fmt, "int8", out, layers)

        s = self.scorer()
        decision = FallbackDecision(s.metric, s.reference, s.tolerance, s.higher_is_better, s.reference_is)
        if self.src.zoo and self.recipe.float_fallback_types:
            candidates = self.src.layer_names(self.recipe.float_fallback_types)
        else:
            def candidates(int8: Path) -> list[str]:
                fp32 = self.build(fmt, "fp32") / int8.name
                return mp.blamed_layers(self.backend(fmt).tensors, fp32, int8, feeds_of(self.search.rank_inputs),
                                        self.src.layer_names())
        chosen = choose_float_layers(candidates, build, s.score, decision, None if isinstance(candidates, list)
                                     else mp.SINGLES)
        self.fallbacks[fmt] = {"split": s.split, **decision.to_json()}
        return chosen.parent
