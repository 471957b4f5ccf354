"""Which samples calibrate int8 and which verify the artifacts: never the same ones.

Agreement measured on the samples that set the int8 ranges flatters the artifact (integer images calibrating a
model fed 0..1 floats once scored agreement 1.0 on that same data while real inputs gave zeros). So when the user
gives one file (or the same samples twice), it is split: a fixed random quarter is held out for verification and
the rest calibrates; samples of --eval that also appear in the calibration set are left out of verification.
Every choice is stated in the run's ``evaluated_on``.
"""

from __future__ import annotations

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


def split(data: dict[str, np.ndarray], role: str) -> tuple[dict, dict]:
    """(calibration part, held-out part) of one file: a fixed random quarter (at least MIN_HELDOUT) held out."""
    n = _n(data)
    held = max(MIN_HELDOUT, round(n * HELDOUT_FRACTION))
    if n - held < MIN_CALIBRATION:
        raise DataError(
            f"Too few calibration samples to calibrate int8 and still verify on samples not used for calibration "
            f"(the {role} data is split into a calibration part and a held-out part).",
            got=f"{n} samples; {MIN_CALIBRATION} for calibration + {MIN_HELDOUT} held out are needed",
            tip="Give more samples, or pass separate files: --calib (training samples) and --eval (held-out).")
    order = np.random.default_rng(_SEED).permutation(n)
    return _take(data, np.sort(order[held:])), _take(data, np.sort(order[:held]))


def assign(calib: dict | None, evald: dict | None, specs, *, need_calib: bool, own_calibration: bool,
           own_heldout: bool) -> Assignment:
    """Decide the calibration and verification samples. ``calib``/``evald`` are validated user data (or None);
    ``own_calibration``/``own_heldout``: the source brings its own (a zoo model's training and held-out splits)."""
    names = [s.name for s in specs]
    calib, evald = _typed(calib, specs), _typed(evald, specs)
    same = calib is not None and evald is not None and _n(calib) == _n(evald) and \
        sample_keys(calib, names) == sample_keys(evald, names)
    if same:  # one file passed twice: it holds the labels, if any
        calib = None
    if evald is not None and calib is None and need_calib and not own_calibration:
        part, held = split(evald, "--eval")
        return Assignment(calibration_subset(part, specs), f"--eval file: {_n(part)} samples not held out",
                          held, f"{_n(held)} of the {_n(evald)} --eval samples held out (a fixed random quarter, "
                          "not used for calibration)")
    if calib is not None and evald is None and not own_heldout:
        if not need_calib:  # nothing is calibrated in this run
            return Assignment(None, "none", calib, "the --calib samples (no int8 in this run, nothing calibrated)")
        part, held = split(calib, "--calib")
        return Assignment(calibration_subset(part, specs), f"--calib file: {_n(part)} samples not held out", held,
                          f"{_n(held)} of the {_n(calib)} --calib samples held out (a fixed random quarter, not used "
                          "for calibration)")
    calibration = calibration_subset(calib, specs) if calib is not None else None
    if evald is None:
        return Assignment(calibration, "--calib file" if calibration is not None else "none", None, None)
    evaluated_on = "--eval file"
    if calibration is not None:
        used = set(sample_keys(calibration, names))
        keep = np.array([k not in used for k in sample_keys(evald, names)])
        if not keep.all():
            if keep.sum() < MIN_HELDOUT:
                raise DataError(
                    "The --eval samples are (almost) all in the calibration set: verifying on them would measure "
                    "the artifact on the data that set its int8 ranges.",
                    got=f"{int((~keep).sum())} of {len(keep)} --eval samples are also --calib samples",
                    tip="Pass held-out samples with --eval, or one file only (edgekit then holds a quarter out).")
            evald = _take(evald, np.flatnonzero(keep))
            evaluated_on += f" ({int((~keep).sum())} samples that are also calibration samples left out)"
    return Assignment(calibration, "--calib file" if calibration is not None else "none", evald, evaluated_on)
