"""Which samples calibrate int8 and which verify the artifacts: never the same ones.

Agreement measured on the samples that set the int8 ranges flatters the artifact (integer images calibrating a
model fed 0..1 floats once scored agreement 1.0 on that same data while real inputs gave zeros). So when the user
gives one file (or the same samples twice), it is split: a fixed random quarter is held out for verification and
the rest calibrates; samples of --eval that also appear in the calibration set are left out of verification.
Every choice is stated in the run's ``evaluated_on``.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass

import numpy as np

from edgekit.converters.common.data import LABELS_KEY, MIN_CALIBRATION, calibration_subset
from edgekit.errors import DataError

HELDOUT_FRACTION = 0.25
MIN_HELDOUT = 10  # fewer held-out samples than this cannot tell a working artifact from a broken one
_SEED = 20261202  # a fixed permutation: the same file splits the same way every run


@dataclass(frozen=True)
class Assignment:
    calibration: dict[str, np.ndarray] | None  # at most MAX_CALIBRATION samples, in the inputs' dtypes
    calibration_origin: str
    evaluation: dict[str, np.ndarray] | None  # inputs (and labels) to verify on; None: the zoo's held-out split
    evaluated_on: str | None
    # samples a mixed-precision search decides on (labels kept when the file has them): disjoint from evaluation
    validation: dict[str, np.ndarray] | None = None
    validation_origin: str | None = None


def _take(data: dict[str, np.ndarray], index: np.ndarray) -> dict[str, np.ndarray]:
    return {k: np.asarray(v)[index] for k, v in data.items()}


def _n(data: dict[str, np.ndarray]) -> int:
    return len(next(v for k, v in data.items() if k != LABELS_KEY))


def _typed(data: dict | None, specs) -> dict | None:
    """Inputs in the dtypes the model takes (what calibration and verification feed), labels as given."""
    if data is None:
        return None
    return {**data, **{s.name: np.asarray(data[s.name], s.dtype) for s in specs}}


def sample_keys(data: dict[str, np.ndarray], names) -> list[bytes]:
    """One digest per sample over every input (labels excluded): equal samples, equal keys."""
    n = _n(data)
    arrays = [np.ascontiguousarray(data[k]).reshape(n, -1) for k in sorted(names)]
    return [hashlib.sha256(b"".join(a[i].tobytes() for a in arrays)).digest() for i in range(n)]


def split(data: dict[str, np.ndarray], role: str, keep: int = MIN_CALIBRATION,
          kept_for: str | None = None) -> tuple[dict, dict]:
    """(kept part, held-out part) of one file: a fixed random quarter (at least MIN_HELDOUT) held out; at least
    ``keep`` samples must remain (to calibrate int8, or ``kept_for`` when the quarter is set aside for a
    mixed-precision search)."""
    n = _n(data)
    held = max(MIN_HELDOUT, round(n * HELDOUT_FRACTION))
    if n - held < keep:
        raise DataError(
            "Too few calibration samples to calibrate int8 and still verify on samples not used for calibration "
            f"(the {role} data is split into a calibration part and a held-out part)." if kept_for is None else
            f"Too few samples to {kept_for} and still set a quarter aside to decide mixed precision (the {role} data "
            "is split into two parts that never overlap).",
            got=f"{n} samples; {keep} to {kept_for or 'calibrate int8'} + {MIN_HELDOUT} held out are needed",
            tip="Give more samples, or pass separate files: --calib (training samples) and --eval (held-out).")
    order = np.random.default_rng(_SEED).permutation(n)
    return _take(data, np.sort(order[held:])), _take(data, np.sort(order[:held]))


def assign(calib: dict | None, evald: dict | None, specs, *, need_calib: bool, own_calibration: bool,
           own_heldout: bool, validation: str | None = None) -> Assignment:
    """Decide the calibration and verification samples. ``calib``/``evald`` are validated user data (or None);
    ``own_calibration``/``own_heldout``: the source brings its own (a zoo model's training and held-out splits).
    ``validation`` ("any" or "labelled"): also set samples aside for a mixed-precision search, from the samples
    not held out; "labelled" takes them from the --eval file (verifying on the rest) when only it has labels."""
    names = [s.name for s in specs]
    calib, evald = _typed(calib, specs), _typed(evald, specs)
    same = calib is not None and evald is not None and _n(calib) == _n(evald) and \
        sample_keys(calib, names) == sample_keys(evald, names)
    if same:  # one file passed twice: it holds the labels, if any
        calib = None
    separate = False  # an --eval file of its own: samples also in the calibration set are left out of it
    if evald is not None and calib is None and need_calib and not own_calibration:
        pool, held = split(evald, "--eval")
        plan = Assignment(None, f"--eval file: {_n(pool)} samples not held out", held,
                          f"{_n(held)} of the {_n(evald)} --eval samples held out (a fixed random quarter, not used "
                          "for calibration)")
    elif calib is not None and evald is None and not own_heldout:
        if not need_calib:  # nothing is calibrated in this run
            return Assignment(None, "none", calib, "the --calib samples (no int8 in this run, nothing calibrated)")
        pool, held = split(calib, "--calib")
        plan = Assignment(None, f"--calib file: {_n(pool)} samples not held out", held,
                          f"{_n(held)} of the {_n(calib)} --calib samples held out (a fixed random quarter, not used "
                          "for calibration)")
    else:
        pool, separate = calib, evald is not None
        plan = Assignment(None, "--calib file" if calib is not None else "none", evald,
                          None if evald is None else "--eval file")
    if validation and pool is not None:
        plan, pool = _set_aside(plan, pool, labelled=validation == "labelled", from_eval=separate)
    if pool is None:
        return plan
    calibration = calibration_subset(pool, specs)
    plan = dataclasses.replace(plan, calibration=calibration)
    if not separate:
        return plan
    used = set(sample_keys(calibration, names))
    keep = np.array([k not in used for k in sample_keys(plan.evaluation, names)])
    if keep.all():
        return plan
    if keep.sum() < MIN_HELDOUT:
        raise DataError(
            "The --eval samples are (almost) all in the calibration set: verifying on them would measure "
            "the artifact on the data that set its int8 ranges.",
            got=f"{int((~keep).sum())} of {len(keep)} --eval samples are also --calib samples",
            tip="Pass held-out samples with --eval, or one file only (edgekit then holds a quarter out).")
    return dataclasses.replace(plan, evaluation=_take(plan.evaluation, np.flatnonzero(keep)),
                               evaluated_on=plan.evaluated_on.replace("--eval file", f"--eval file ({int((~keep).sum())}"
                               " samples that are also calibration samples left out)", 1))


def _set_aside(plan: Assignment, pool: dict, labelled: bool, from_eval: bool) -> tuple[Assignment, dict]:
    """The search's validation samples: with an --eval file of its own, a fixed random quarter of it (held-out data
    is what the device will see, and what the report is judged on: calibration files hold training samples, which a
    model often scores perfectly and which may look nothing like it — measured on EfficientNet-Lite0, OpenVINO int8
    met the fidelity thresholds on the calibration photos, 18.0 dB, and missed them on the held-out ones, 7.3 dB),
    the artifacts verified on the rest; otherwise a quarter of the calibration pool. A labelled budget takes the
    samples that have labels."""
    eval_labels = plan.evaluation is not None and LABELS_KEY in plan.evaluation
    if from_eval and (eval_labels or not labelled or LABELS_KEY not in pool):
        rest, val = split(plan.evaluation, "--eval", keep=MIN_HELDOUT, kept_for="verify the artifacts")
        return dataclasses.replace(
            plan, evaluation=rest, evaluated_on=f"{plan.evaluated_on}; {_n(val)} of its samples set aside to decide "
            "mixed precision", validation=val,
            validation_origin=f"{_n(val)} {'labelled ' if eval_labels else ''}--eval samples (a fixed random "
            "quarter), not verified on"), pool
    pool, val = split(pool, "calibration", kept_for="calibrate int8")
    return dataclasses.replace(
        plan, calibration_origin=f"{plan.calibration_origin} ({_n(val)} set aside to decide mixed precision)",
        validation=val, validation_origin=f"{_n(val)} samples of the calibration data (a fixed random quarter), "
        "neither calibrated on nor verified on"), pool
