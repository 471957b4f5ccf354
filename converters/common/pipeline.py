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
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import edgekit
from edgekit._fs import atomic_write_json, file_sha256, scratch_directory, staged_directory
from edgekit._heartbeat import heartbeat
from edgekit.converters.common import data as data_mod
from edgekit.converters.common.builder import Builder
from edgekit.converters.common.pruning import PruneSpec
from edgekit.converters.common.run_data import RunData, classes_of, prepare_data, search_request
from edgekit.converters.common.source import SourceModel, kind_of_spec, load_source, with_input_shapes
from edgekit.converters.common.verify import verify_artifact
from edgekit.converters.recipes import Recipe, get_recipe
from edgekit.errors import EdgekitError, MissingDependencyError, UsageError, summarize
from edgekit.formats import CALIBRATED, FORMATS, OPT_IN
from edgekit.reporting.fidelity import Fidelity, judge
from edgekit.reporting.records import ConvertReport, ConvertSummary, FailedCell
from edgekit.targets import Target

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    target: Target
    precision: str


def plan_jobs(targets: list[Target], precision: str | None, every: bool) -> list[Job]:
    """No --precision: every supported precision when --target all, else each target's default. 'all' leaves out
    the opt-in precisions (edgekit.formats.OPT_IN), which are built when named. --target all with one precision:
    the targets that offer it."""
    if every and precision not in (None, "all"):
        targets = [t for t in targets if precision in t.precisions] or targets[:1]  # none: the first one's error
    jobs = []
    for t in targets:
        if precision == "all" or (precision is None and every):
            jobs += [Job(t, p) for p in t.precisions if p not in OPT_IN]
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


def _metadata(src: SourceModel, recipe: Recipe, job: Job, data: RunData, files: dict[str, str],
              export_route: dict, pruning: dict | None = None) -> dict:
    calib = data.calibration if job.precision in CALIBRATED else None
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
            input_shapes: dict[str, tuple[int, ...]] | None = None, fidelity: Mapping[str, float] | None = None,
            mixed_precision: bool = False, max_accuracy_drop: float | None = None, speed_guard: bool = True,
            reuse_from: Path | None = None, progress: Callable[[str], None] = lambda msg: None) -> ConvertSummary:
    """Convert ``model`` (a zoo name or model path, or a loaded source: edgekit.api) for every job into
    build/<model>/ (build/<model>-<method><percent>/ when pruned) and return that directory's summary: every
    verified artifact there, this run's and earlier ones'. The data are .npz paths or dicts of arrays;
    ``fidelity`` overrides thresholds of the recipe's Fidelity (edgekit.reporting.fidelity) by field name.
    ``max_accuracy_drop`` (points of top-1 or a zoo metric; % for other metrics) or ``mixed_precision`` (the
    fidelity thresholds) makes every int8 build search which layers stay float (converters/common/mixed_precision)
    on validation samples that are never verified on. ``speed_guard`` False keeps every int8 build as built
    instead of timing it against fp32 on this host (converters/common/speed_guard). ``reuse_from`` (a build
    root, e.g. build/) lends the verified artifacts this run would build unchanged
    (edgekit.reporting.convert.lendable_reports) instead of building them again."""
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
    thresholds = recipe.fidelity.overridden(fidelity)
    pruning = None
    if prune is not None:
        src, pruning = _prune_source(src, recipe, prune, train_path, progress)
    searching = (mixed_precision or max_accuracy_drop is not None) and any(j.precision == "int8" for j in jobs)
    data = prepare_data(src, recipe, calib, evald, any(j.precision in CALIBRATED for j in jobs),
                         validation=("labelled" if max_accuracy_drop is not None else "any") if searching else None)
    for f in data.findings:
        progress(f"check {f['check']}: {f['message']}")
    progress("running the fp32 reference")
    reference_predict = src.reference()
    reference = reference_predict(data.eval_inputs)
    data = classes_of(data, reference, src)
    reference_metrics = data.evaluate(reference_predict) if data.evaluate else {}
    evaluation = {"sha256": data_mod.data_hash(data.eval_inputs),
                  "samples": int(len(next(iter(data.eval_inputs.values()))))}
    model_dir = Path(out_root) / src.name
    run = _Run(src, recipe, data, reference, reference_metrics, evaluation, pruning, threads, model_dir, thresholds)
    failed, degraded = [], []
    lent = _lendable(run, Path(reuse_from)) if reuse_from is not None and not prune and not searching else {}
    from edgekit.reporting.convert import copy_verified, write_model_directory

    def record() -> ConvertSummary:
        """The model directory's summary and reports, from what is on disk now (after every cell: a run killed
        later leaves a summary of the artifacts that are there)."""
        return write_model_directory(model_dir, ConvertSummary(
            model=src.name, source={"kind": src.kind, "sha256": src.sha256}, recipe=recipe.name, metric=data.metric,
            evaluated_on=data.evaluated_on, reference_metrics=reference_metrics,
            baseline=src.zoo.baseline() if src.zoo else {}, pruning=pruning,
            notes=tuple(src.zoo.notes() if src.zoo else ()), artifacts=(),
            wall_seconds=round(time.perf_counter() - started, 1), failed=tuple(failed), degraded=tuple(degraded),
            sanity=data.findings,
        ), evaluation)

    with scratch_directory("edgekit-convert-") as tmp:
        search = search_request(src, recipe, data, thresholds, max_accuracy_drop, progress, searching) if any(
            j.precision == "int8" for j in jobs) else None
        builder = Builder(src, recipe, data.calibration, Path(tmp), search, threads, speed_guard)
        for i, job in enumerate(jobs, 1):
            t = job.target
            if (t.name, job.precision) in lent:
                copy_verified(Path(reuse_from) / src.name, model_dir, t.name, job.precision)
                progress(f"[{i}/{len(jobs)}] {t.name} {job.precision}: reusing the verified artifact in "
                         f"{Path(reuse_from) / src.name / t.name / job.precision}")
                record()
                continue
            try:
                report = _convert_one(run, builder, job, lambda msg: progress(
                    f"[{i}/{len(jobs)}] {t.name} {job.precision}: {msg}"))
                if report.degraded:
                    degraded.append(f"{t.name} {job.precision}")
                    progress(f"[{i}/{len(jobs)}] {t.name} {job.precision}: DEGRADED: {report.degraded[0]}")
            except MissingDependencyError:
                raise  # not this cell's problem: every cell needs the install fixed first
            except Exception as exc:  # one cell's failure is its row, not the run's end
                log.debug("%s %s failed", t.name, job.precision, exc_info=True)
                reason = (f"{exc.message}" + (f" TIP: {exc.tip}" if exc.tip else "")) if isinstance(
                    exc, EdgekitError) else f"unexpected {type(exc).__name__}: {summarize(exc)}"
                progress(f"[{i}/{len(jobs)}] {t.name} {job.precision}: FAILED: {reason}")
                failed.append(FailedCell(t.name, t.format, job.precision, reason))
            if i < len(jobs):
                record()
    return record()


def _lendable(run: _Run, reuse_from: Path) -> dict[tuple[str, str], ConvertReport]:
    """The verified artifacts under reuse_from/<model>/ that this run would build unchanged (read once per run)."""
    from edgekit.reporting.convert import lendable_reports

    calib = run.data.calibration
    return lendable_reports(reuse_from / run.src.name, run.src.sha256, run.evaluation["sha256"], run.recipe.name,
                            None if not calib else data_mod.data_hash(calib))


@dataclass(frozen=True)
class _Run:
    """What every cell of one convert run shares."""

    src: SourceModel
    recipe: Recipe
    data: RunData
    reference: dict[str, np.ndarray]  # fp32 outputs on the evaluation inputs
    reference_metrics: dict
    evaluation: dict  # sha256 and size of the evaluation inputs
    pruning: dict | None
    threads: int | None
    model_dir: Path
    fidelity: Fidelity  # the recipe's thresholds with the user's overrides


def _convert_one(run: _Run, builder: Builder, job: Job, progress: Callable[[str], None]) -> ConvertReport:
    """Build one (target, precision) artifact, verify it with the target's runtime in a staging directory and
    move it into build/<model>/<target>/<precision>/ only when everything succeeded."""
    t, data = job.target, run.data
    n_calibration = len(next(iter(data.calibration.values()))) if job.precision in CALIBRATED and data.calibration \
        else None
    progress(f"converting to {t.format}" + (f" (calibrating on {n_calibration} samples)" if n_calibration else ""))
    builder.progress = progress
    with heartbeat(progress, f"converting to {t.format}", samples=n_calibration):
        built = builder.build(t.format, job.precision)
    from edgekit.reporting.convert import forget_record

    with staged_directory(run.model_dir / t.name / job.precision, lambda: forget_record(run.model_dir)) as stage:
        for f in built.iterdir():
            shutil.copyfile(f, stage / f.name)
        files = {f.name: file_sha256(f) for f in sorted(stage.iterdir())}
        progress(f"verifying with {t.runtime}")
        artifact = FORMATS[t.format].artifact
        with heartbeat(progress, f"verifying with {t.runtime}"):
            result = verify_artifact(
                stage / artifact, threads=run.threads or min(t.threads, os.cpu_count() or 1),
                eval_inputs=data.eval_inputs, reference=run.reference, primary_output=data.primary_output,
                with_top1=data.show_top1, evaluate=data.evaluate,
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
            int8_speed=builder.speed.get(t.format) if job.precision == "int8" else None,
            metadata=meta, built_at=_now(), evaluation=run.evaluation,
        )
        if job.precision in CALIBRATED:
            progress(f"per-layer error vs fp32 with {t.runtime}")
            layers = _layer_report(run, builder, t.format, stage / artifact)
            ops = _op_profile(run, builder, t.format, stage / artifact, run.threads or min(t.threads, os.cpu_count() or 1))
            report = dataclasses.replace(report, layers=layers, ops=ops)
        report = dataclasses.replace(report, fidelity=judge(run.fidelity, report, data.primary_is_classes))
        atomic_write_json(stage / "report.json", report.to_json())
    return report


def _layer_report(run: _Run, builder: Builder, fmt: str, artifact: Path) -> dict:
    """converters/common/layer_error on 16 held-out samples against the fp32 build of the same format: written as
    layers.json beside the artifact, summarised in its report. A diagnostic: its failure is recorded, not raised."""
    from edgekit.converters.common.layer_error import feeds_of, layer_report

    feeds = feeds_of(run.data.eval_inputs)
    try:
        fp32 = builder.build(fmt, "fp32") / artifact.name
        found = layer_report(builder.backend(fmt).tensors, fp32, artifact, feeds, run.src.layer_names(),
                             run.fidelity.min_snr_db if run.fidelity.min_snr_db is not None else 10.0)
    except Exception as exc:
        log.debug("per-layer error failed", exc_info=True)
        return {"error": f"{type(exc).__name__}: {summarize(exc)}"}
    atomic_write_json(artifact.parent / "layers.json", found.to_json())
    return found.summary()


def _op_profile(run: _Run, builder: Builder, fmt: str, artifact: Path, threads: int) -> dict:
    """edgekit/profiling/op_profile on one held-out sample: ops.json beside the artifact, its summary in the report.
    A diagnostic: its failure is recorded, not raised."""
    feed = {k: v[:1] for k, v in run.data.eval_inputs.items()}
    try:
        found = builder.backend(fmt).ops(artifact, feed, threads)
    except Exception as exc:
        log.debug("per-op profile failed", exc_info=True)
        return {"error": f"{type(exc).__name__}: {summarize(exc)}"}
    atomic_write_json(artifact.parent / "ops.json", found.to_json())
    return found.summary()


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
