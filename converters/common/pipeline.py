"""`edgekit convert`: one source model -> verified artifacts for each (target, precision).

Artifacts are built once per (format, precision) in a work directory, then copied into
build/<model>/<target>/<precision>/ through a staging directory, verified there with the device's runtime
on the host, and only then renamed into place, so a failure never leaves a half-written artifact.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import edgekit
from edgekit._fs import atomic_write_json, file_sha256, staged_directory
from edgekit.converters.common import data as data_mod
from edgekit.converters.common.builder import Builder
from edgekit.converters.common.pruning import PruneSpec
from edgekit.converters.common.source import SourceModel, kind_of_spec, load_source, with_input_shapes
from edgekit.converters.common.verify import verify_artifact
from edgekit.converters.recipes import Recipe, get_recipe
from edgekit.errors import EdgekitError, MissingDependencyError, UsageError, summarize
from edgekit.formats import FORMATS
from edgekit.reporting.metric import Metric
from edgekit.reporting.records import ConvertReport, ConvertSummary, FailedCell
from edgekit.targets import Target

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    target: Target
    precision: str


def plan_jobs(targets: list[Target], precision: str | None, every: bool) -> list[Job]:
    """No --precision: every supported precision when --target all, else each target's default."""
    jobs = []
    for t in targets:
        if precision == "all" or (precision is None and every):
            jobs += [Job(t, p) for p in t.precisions]
        else:
            jobs.append(Job(t, t.check_precision(precision or t.default_precision)))
    return jobs


def check_supported(model: str | SourceModel, jobs: list[Job], prune: PruneSpec | None = None) -> None:
    """Reject requests no converter here can do, before any heavy import."""
    from edgekit.converters.common.builder import check_route

    kind = model.kind if isinstance(model, SourceModel) else kind_of_spec(model)
    model = model.name if isinstance(model, SourceModel) else model
    if prune is not None and kind not in ("zoo", "keras"):
        raise UsageError(
            "Pruning needs the Keras model: it fine-tunes the weights after removing some.",
            got=f"{model} --prune {prune}",
            tip="Prune the original .keras model (or a zoo model by name), or convert without --prune.",
        )
    for fmt in dict.fromkeys(j.target.format for j in jobs):
        try:
            check_route(kind, fmt)
        except UsageError as exc:
            bad = [j.target.name for j in jobs if j.target.format == fmt]
            raise UsageError(exc.what, got=f"{model} --target {', '.join(dict.fromkeys(bad))}: {exc.got}",
                             tip=exc.tip) from None


@dataclass(frozen=True)
class _Data:
    calibration: dict[str, np.ndarray] | None
    calibration_origin: str
    eval_inputs: dict[str, np.ndarray]
    evaluated_on: str
    evaluate: Callable | None
    metric: Metric | None
    primary_output: str
    primary_is_classes: bool = True


def _top1_evaluator(inputs, labels, primary):
    def evaluate(predict):
        return {"top1": float(np.mean(predict(inputs)[primary].argmax(-1) == labels)), "n_heldout": int(len(labels))}
    return evaluate


def _prepare_data(src: SourceModel, recipe: Recipe, calib: dict | None, evald: dict | None, need_calib: bool) -> _Data:
    specs = src.static_inputs()
    primary = src.zoo.primary_output if src.zoo else src.outputs[0]
    calibration, origin = None, "none"
    if calib is not None:
        calibration, origin = data_mod.calibration_subset(calib, specs), "--calib file"
    elif src.zoo:
        calibration, origin = src.zoo.calibration_inputs(recipe.calibration_samples), "zoo training split"
    elif need_calib:
        raise UsageError(
            "int8 quantization needs real calibration data, and none was given.",
            got=f"model {src.path or src.name} with no --calib",
            tip=f"Pass --calib data.npz with {data_mod.MIN_CALIBRATION}+ training samples keyed by input name "
            f"({', '.join(t.name for t in specs)}), or choose --precision fp32/fp16.",
        )
    if evald is not None:
        evald = data_mod.by_input_name(evald, specs)
        data_mod.check_inputs(evald, specs, "evaluation")
        inputs = {t.name: np.asarray(evald[t.name], t.dtype) for t in specs}
        labels = evald.get(data_mod.LABELS_KEY)
        evaluate = None if labels is None else _top1_evaluator(inputs, np.asarray(labels).astype(int), primary)
        return _Data(calibration, origin, inputs, "--eval file", evaluate, Metric("top1") if evaluate else None,
                     primary)
    if src.zoo:
        z = src.zoo
        return _Data(calibration, origin, z.heldout_inputs(), "zoo held-out split", z.evaluate, z.metric_definition,
                     primary, z.primary_is_classes)
    if calibration is None:
        raise UsageError(
            "Nothing to verify the artifacts on: no --eval and no --calib data.",
            got=str(src.path or src.name),
            tip="Pass --eval eval.npz (held-out samples keyed by input name, labels under 'labels').",
        )
    return _Data(calibration, origin, calibration, "calibration data (no --eval given: agreement only)",
                 None, None, primary)


def gzip_size(directory: Path, files) -> int:
    """Bytes of the artifact files gzip-compressed (level 9): what sparsity saves in a download or a flash."""
    import gzip

    return sum(len(gzip.compress((directory / f).read_bytes(), 9, mtime=0)) for f in files)


def _prune_source(src: SourceModel, recipe: Recipe, spec: PruneSpec, train_path: str | None,
                  progress: Callable[[str], None]) -> tuple[SourceModel, dict]:
    """The pruned (and fine-tuned) model as a new source named <model>-<method><percent>."""
    from edgekit.converters.common.pruning import prune_keras

    if train_path:
        primary = src.zoo.primary_output if src.zoo else src.outputs[0]
        from edgekit.converters.common.keras_source import output_tensors

        head = output_tensors(src._model)[primary]._keras_history[0]
        from_logits = type(head).__name__ != "Softmax" and head.get_config().get("activation") != "softmax"
        training = data_mod.user_training_set(data_mod.load_npz(train_path, "training"), src.inputs, primary,
                                              from_logits, train_path)
    else:
        training = src.zoo.training_set() if src.zoo else None
    tip = (f"The zoo model {src.name} has no fine-tuning set yet." if src.zoo else
           "Pass --train train.npz (training samples keyed by input name, integer labels under 'labels').")
    progress(f"pruning {spec}" + ("" if training is None else f", fine-tuning on {training.origin}"))
    model, record = prune_keras(src._model, spec, training, exclude=recipe.prune_exclude,
                                structured_unsupported=recipe.structured_pruning_unsupported, no_training_tip=tip,
                                progress=progress)
    for warning in record["warnings"]:
        log.warning(warning)
    return dataclasses.replace(src, name=f"{src.name}-{spec.tag}", _model=model), record


def _metadata(src: SourceModel, recipe: Recipe, job: Job, data: _Data, files: dict[str, str],
              export_route: dict, pruning: dict | None = None) -> dict:
    calib = data.calibration if job.precision == "int8" else None
    return {
        "edgekit_version": edgekit.__version__,
        "model": src.name,
        "source": {"kind": src.kind, "path": str(src.path) if src.path else None, "sha256": src.sha256,
                   **src.details},
        "recipe": recipe.name,
        "export_route": export_route,
        "pruning": None if pruning is None else {"method": pruning["method"], "ratio": pruning["ratio"]},
        "target": job.target.name,
        "format": job.target.format,
        "runtime": job.target.runtime,
        "precision": job.precision,
        "inputs": [{"name": t.name, "shape": list(t.shape), "dtype": t.dtype} for t in src.static_inputs()],
        "outputs": list(src.outputs),
        "calibration": None if calib is None else {
            "samples": int(len(next(iter(calib.values())))),
            "origin": data.calibration_origin,
            "sha256": data_mod.data_hash(calib),
        },
        "files": files,
    }


def convert(model: str | SourceModel, jobs: list[Job], out_root: Path, *, calib_path=None,
            eval_path=None, threads: int | None = None, prune: PruneSpec | None = None,
            train_path: str | None = None, custom_objects: str | None = None,
            input_shapes: dict[str, tuple[int, ...]] | None = None,
            progress: Callable[[str], None] = lambda msg: None) -> ConvertSummary:
    """Convert ``model`` (a zoo name or model path, or a loaded source: edgekit.api) for every job into
    build/<model>/ (build/<model>-<method><percent>/ when pruned) and return that directory's summary: every
    verified artifact there, this run's and earlier ones'. The data are .npz paths or dicts of arrays."""
    check_supported(model, jobs, prune)
    started = time.perf_counter()
    calib = data_mod.load_data(calib_path, "calibration")
    evald = data_mod.load_data(eval_path, "evaluation")
    if isinstance(model, SourceModel):
        src = model
        src.inputs = with_input_shapes(src.inputs, input_shapes, src.name)
    else:
        progress(f"loading {model}")
        src = load_source(model, custom_objects, input_shapes)
    recipe = get_recipe(src.architecture)
    pruning = None
    if prune is not None:
        src, pruning = _prune_source(src, recipe, prune, train_path, progress)
    data = _prepare_data(src, recipe, calib, evald, any(j.precision == "int8" for j in jobs))
    progress("running the fp32 reference")
    reference_predict = src.reference()
    reference = reference_predict(data.eval_inputs)
    reference_metrics = data.evaluate(reference_predict) if data.evaluate else {}
    evaluation = {"sha256": data_mod.data_hash(data.eval_inputs),
                  "samples": int(len(next(iter(data.eval_inputs.values()))))}
    model_dir = Path(out_root) / src.name
    run = _Run(src, recipe, data, reference, reference_metrics, evaluation, pruning, threads, model_dir)
    failed = []
    with tempfile.TemporaryDirectory(prefix="edgekit-convert-") as tmp:
        builder = Builder(src, recipe, data.calibration, Path(tmp))
        for i, job in enumerate(jobs, 1):
            t = job.target
            try:
                _convert_one(run, builder, job, lambda msg: progress(f"[{i}/{len(jobs)}] {t.name} {job.precision}: "
                                                                    f"{msg}"))
            except MissingDependencyError:
                raise  # not this cell's problem: every cell needs the install fixed first
            except Exception as exc:  # one cell's failure is its row, not the run's end
                log.debug("%s %s failed", t.name, job.precision, exc_info=True)
                reason = (f"{exc.message}" + (f" TIP: {exc.tip}" if exc.tip else "")) if isinstance(
                    exc, EdgekitError) else f"unexpected {type(exc).__name__}: {summarize(exc)}"
                progress(f"[{i}/{len(jobs)}] {t.name} {job.precision}: FAILED: {reason}")
                failed.append(FailedCell(t.name, t.format, job.precision, reason))
    from edgekit.reporting.convert import write_model_directory

    summary = ConvertSummary(
        model=src.name, source={"kind": src.kind, "sha256": src.sha256}, recipe=recipe.name, metric=data.metric,
        evaluated_on=data.evaluated_on, reference_metrics=reference_metrics,
        baseline=src.zoo.baseline() if src.zoo else {}, pruning=pruning,
        notes=tuple(src.zoo.notes() if src.zoo else ()), artifacts=(),
        wall_seconds=round(time.perf_counter() - started, 1), failed=tuple(failed),
    )
    return write_model_directory(model_dir, summary, evaluation)


@dataclass(frozen=True)
class _Run:
    """What every cell of one convert run shares."""

    src: SourceModel
    recipe: Recipe
    data: _Data
    reference: dict[str, np.ndarray]  # fp32 outputs on the evaluation inputs
    reference_metrics: dict
    evaluation: dict  # sha256 and size of the evaluation inputs
    pruning: dict | None
    threads: int | None
    model_dir: Path


def _convert_one(run: _Run, builder: Builder, job: Job, progress: Callable[[str], None]) -> ConvertReport:
    """Build one (target, precision) artifact, verify it with the target's runtime in a staging directory and
    move it into build/<model>/<target>/<precision>/ only when everything succeeded."""
    t, data = job.target, run.data
    progress(f"converting to {t.format}")
    built = builder.build(t.format, job.precision)
    with staged_directory(run.model_dir / t.name / job.precision) as stage:
        for f in built.iterdir():
            shutil.copyfile(f, stage / f.name)
        files = {f.name: file_sha256(f) for f in sorted(stage.iterdir())}
        progress(f"verifying with {t.runtime}")
        artifact = FORMATS[t.format].artifact
        result = verify_artifact(
            stage / artifact, threads=run.threads or min(t.threads, os.cpu_count() or 1),
            eval_inputs=data.eval_inputs, reference=run.reference, primary_output=data.primary_output,
            primary_is_classes=data.primary_is_classes, evaluate=data.evaluate,
        )
        start = builder.start(t.format)
        meta = _metadata(run.src, run.recipe, job, data, files, {"start": start.kind, "form": start.form},
                         run.pruning)
        meta["format_details"] = builder.backend(t.format).describe(stage / artifact)
        # what the file itself takes and gives (int8 I/O of a LiteRT int8 model, with its scales);
        # edgekit's Session converts float inputs for it, a program using the runtime directly must too
        meta["artifact_io"] = result.io
        atomic_write_json(stage / "metadata.json", meta)
        report = ConvertReport(
            model=run.src.name, target=t.name, format=t.format, precision=job.precision,
            artifact={"file": artifact, "size_bytes": sum((stage / f).stat().st_size for f in files),
                      "gzip_bytes": gzip_size(stage, files)},
            evaluated_on=data.evaluated_on, metric=data.metric, metrics=result.metrics,
            reference_metrics=run.reference_metrics, agreement=result.agreement,
            latency={"where": "host", **result.latency}, cold_start={"where": "host", **result.cold_start},
            memory={"where": "host", **result.memory}, runtime=result.runtime,
            runtime_options=result.runtime_options,
            device_runtime={"devices": list(t.devices), "requirements": list(t.device_requirements)},
            float_fallback=builder.fallbacks.get(t.format) if job.precision == "int8" else None,
            metadata=meta, built_at=_now(), evaluation=run.evaluation,
        )
        atomic_write_json(stage / "report.json", report.to_json())
    return report


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
