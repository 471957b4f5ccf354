"""The data of one `edgekit convert` run: which samples calibrate, which verify, which decide mixed precision.

The user's .npz files are validated and split here (converters/common/heldout decides the split, data_checks
compares calibration with held-out data) before anything is converted; the zoo brings its own splits.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from edgekit.converters.common import data as data_mod
from edgekit.converters.common.source import SourceModel
from edgekit.converters.recipes import Recipe
from edgekit.errors import UsageError
from edgekit.reporting.fidelity import Fidelity
from edgekit.reporting.metric import Metric

SPEED_SAMPLES = 64  # calibration samples a user's int8 speed variants are judged on without a search


@dataclass(frozen=True)
class RunData:
    calibration: dict[str, np.ndarray] | None
    calibration_origin: str
    eval_inputs: dict[str, np.ndarray]
    evaluated_on: str
    evaluate: Callable | None
    metric: Metric | None
    primary_output: str
    primary_is_classes: bool = True  # the primary output holds class scores: top-1 agreement is judged
    # top-1 agreement is shown: for class scores, and for any (N, C) output of a user's model, which may be logits
    # nothing says are classes (shown for the reader, not judged)
    show_top1: bool = True
    labels: np.ndarray | None = None  # --eval class labels of eval_inputs
    findings: tuple[dict, ...] = ()  # calibration vs held-out checks (converters/common/data_checks)
    validation: dict[str, np.ndarray] | None = None  # a user's samples set aside for a mixed-precision search
    validation_origin: str | None = None


def _top1_evaluator(inputs, labels, primary):
    def evaluate(predict):
        return {"top1": float(np.mean(predict(inputs)[primary].argmax(-1) == labels)), "n_heldout": int(len(labels))}
    return evaluate


def prepare_data(src: SourceModel, recipe: Recipe, calib: dict | None, evald: dict | None, need_calib: bool,
                  validation: str | None = None) -> RunData:
    """Validate the user's data and decide which samples calibrate and which verify (converters/common/heldout:
    never the same ones); compare the two before anything is quantized (converters/common/data_checks)."""
    from edgekit.converters.common.data_checks import calibration_findings
    from edgekit.converters.common.heldout import assign

    specs = src.static_inputs()
    primary = src.zoo.primary_output if src.zoo else src.outputs[0]
    if calib is not None:
        calib = data_mod.by_input_name(calib, specs)
        data_mod.check_inputs(calib, specs, "calibration")
    if evald is not None:
        evald = data_mod.by_input_name(evald, specs)
        data_mod.check_inputs(evald, specs, "evaluation")
        if data_mod.LABELS_KEY in evald:  # wrong labels are refused before any conversion work
            evald[data_mod.LABELS_KEY] = data_mod.class_labels(evald[data_mod.LABELS_KEY], len(evald[specs[0].name]))
    if calib is None and evald is None and not src.zoo:
        raise UsageError(
            ("int8 quantization needs real calibration data, and none was given." if need_calib else
             "Nothing to verify the artifacts on: no --eval and no --calib data."),
            got=f"model {src.path or src.name} with no --calib and no --eval",
            tip=f"Pass --calib data.npz with {data_mod.MIN_CALIBRATION}+ real samples keyed by input name "
            f"({', '.join(t.name for t in specs)}) and --eval eval.npz (held-out samples, integer class labels under "
            "'labels'); one file is split into calibration and held-out parts."
            + ("" if not need_calib else " Or choose --precision fp32/fp16."))
    plan = assign(calib, evald, specs, need_calib=need_calib, own_calibration=src.zoo is not None,
                  own_heldout=src.zoo is not None, validation=None if src.zoo else validation)
    calibration, origin = plan.calibration, plan.calibration_origin
    if calibration is None and src.zoo and need_calib:
        calibration, origin = src.zoo.calibration_inputs(recipe.calibration_samples), "zoo training split"
    if plan.evaluation is not None:
        inputs = {t.name: np.asarray(plan.evaluation[t.name], t.dtype) for t in specs}
        labels = plan.evaluation.get(data_mod.LABELS_KEY)
        evaluate = None if labels is None else _top1_evaluator(inputs, labels, primary)
        data = RunData(calibration, origin, inputs, plan.evaluated_on, evaluate, Metric("top1") if evaluate else None,
                     primary, labels=labels)
    else:
        z = src.zoo
        data = RunData(calibration, origin, z.heldout_inputs(), "zoo held-out split", z.evaluate, z.metric_definition,
                     primary, z.primary_is_classes, show_top1=z.primary_is_classes)
    findings = () if calibration is None else tuple(
        calibration_findings(calibration, data.eval_inputs, specs, data.evaluated_on))
    return dataclasses.replace(data, findings=findings, validation=plan.validation,
                               validation_origin=plan.validation_origin)


def classes_of(data: RunData, reference: dict[str, np.ndarray], src: SourceModel) -> RunData:
    """Whether the primary output holds class scores (so top-1 agreement is judged): the zoo says so; a user's
    model does when its --eval labels are classes of it, or when the output is a probability distribution.
    Labels beyond the output's classes are refused here, before any conversion."""
    if src.zoo:
        return data
    out = np.asarray(reference[data.primary_output])
    if data.labels is not None:
        classes = out.shape[-1] if out.ndim >= 2 else 0
        if classes < 2 or int(data.labels.max(initial=0)) >= classes:
            from edgekit.errors import DataError

            raise DataError(
                f"The evaluation labels do not fit the model's output '{data.primary_output}'.",
                got=f"labels 0..{int(data.labels.max(initial=0))}; the output has shape {tuple(out.shape)} "
                f"({classes} classes)" if classes >= 2 else f"labels; the output has shape {tuple(out.shape)}",
                tip="Labels are class indices of the first output (top-1 accuracy); drop 'labels' for a model that "
                "does not classify.")
        return dataclasses.replace(data, primary_is_classes=True)
    probs = out.ndim >= 2 and out.shape[-1] > 1 and np.issubdtype(out.dtype, np.floating) and bool(
        np.all(out >= 0) and np.allclose(out.sum(-1), 1.0, atol=1e-3))
    return dataclasses.replace(data, primary_is_classes=probs)


def search_request(src: SourceModel, recipe: Recipe, data: RunData, fidelity: Fidelity, max_drop: float | None,
                   progress: Callable[[str], None], layers: bool = True):
    """The run's mixed-precision request: its budget, validation samples and the samples that rank candidate
    layers. ``layers=False`` (no --mixed-precision / --max-accuracy-drop): no layer search, the Scorer only judges
    the int8 speed variants (converters/common/speed_guard): on a zoo model's validation split, for a user's model
    on calibration samples against fp32 by the fidelity thresholds (the report is still scored on held-out data)."""
    from edgekit.converters.common.mixed_precision import Budget, Search, Validation

    if src.zoo and src.zoo.has_validation_split:
        validation, rank = None, src.zoo.calibration_inputs(recipe.calibration_samples)
        about = "the zoo's validation split"
    elif not layers or src.zoo:  # a zoo model without a validation split (face-id) is judged like a user's
        inputs = {k: v[:SPEED_SAMPLES] for k, v in (data.calibration or {}).items()}
        validation, rank = Validation(inputs, None, "calibration samples"), inputs
        about = "calibration samples, by the fidelity thresholds vs fp32"
    else:
        labels = data.validation.get(data_mod.LABELS_KEY)
        inputs = {k: v for k, v in data.validation.items() if k != data_mod.LABELS_KEY}
        if labels is not None:
            labels = data_mod.class_labels(labels, len(next(iter(inputs.values()))))
        validation, rank, about = Validation(inputs, labels, data.validation_origin), inputs, data.validation_origin
        if max_drop is not None and labels is None:
            progress("mixed precision: no labels in the validation samples, so the budget is the fidelity thresholds, "
                     "not --max-accuracy-drop (which still gates the held-out result)")
    if layers:
        progress(f"mixed precision: every int8 build is searched on {about}")
    return Search(src, recipe, Budget(max_drop, fidelity), validation, data.primary_output, data.primary_is_classes,
                  rank, layers=layers)
