"""Calibration data that does not look like the inputs the model will see, found before quantizing.

int8 ranges come from the calibration samples, so calibration that is scaled differently from real inputs
(0..255 integers for a model fed 0..1 floats) or is noise (random arrays instead of images) gives an artifact
that is wrong on real inputs while it agrees with fp32 on its own calibration data. Each float input's
calibration samples are compared with the held-out samples the artifacts are verified on: the range the
middle 99 % of values span and where their mean lies, and how much neighbouring values move together (real
images, audio and series are smooth; noise is not). Findings are named checks in the run's summary; the
degradation check then says what it cost.
"""

from __future__ import annotations

import numpy as np

from edgekit.converters.common.data import spread

RANGE_COVERAGE_MIN = 0.6  # calibration must span at least this share of the held-out inputs' range ...
RANGE_EXCESS_MAX = 4.0  # ... and at most this many times it (else int8 resolution is spent where no input is)
SHIFT_MAX = 1.0  # calibration's mean this many held-out standard deviations away: normalised differently
SMOOTH_HELDOUT = 0.5  # a held-out neighbour correlation above this says the input has structure ...
SMOOTH_LOST = 0.5  # ... which calibration with less than this share of it lacks
_MIN_AXIS = 8  # axes shorter than this (channels, a few features) carry no neighbourhood


def _spread(x: np.ndarray, n: int = 300) -> np.ndarray:
    """At most ``n`` samples spread evenly, as float64."""
    return x[spread(len(x), n)].astype(np.float64)


def _range(x: np.ndarray) -> tuple[float, float]:
    lo, hi = np.percentile(x, [0.5, 99.5])
    return float(lo), float(hi)


def neighbour_correlation(x: np.ndarray) -> float | None:
    """The largest correlation of neighbouring values along any sample axis of length >= 8, or None."""
    best = None
    for axis in range(1, x.ndim):
        if x.shape[axis] < _MIN_AXIS:
            continue
        a = np.take(x, range(x.shape[axis] - 1), axis=axis).ravel()
        b = np.take(x, range(1, x.shape[axis]), axis=axis).ravel()
        if a.std() == 0 or b.std() == 0:
            continue
        r = float(np.corrcoef(a, b)[0, 1])
        best = r if best is None else max(best, r)
    return best


def calibration_findings(calibration: dict[str, np.ndarray], heldout: dict[str, np.ndarray], specs,
                         heldout_origin: str) -> list[dict]:
    """One finding per float input whose calibration samples are scaled or structured unlike the held-out ones."""
    out = []
    for spec in specs:
        cal, held = np.asarray(calibration[spec.name]), np.asarray(heldout[spec.name])
        if not np.issubdtype(np.dtype(spec.dtype), np.floating):
            continue  # token ids and masks are not ranged
        cal, held = _spread(cal), _spread(held)
        (a, b), (c, d) = _range(cal), _range(held)
        overlap = max(0.0, min(b, d) - max(a, c))
        coverage = overlap / (d - c) if d > c else 1.0
        shift = abs(cal.mean() - held.mean()) / held.std() if held.std() > 0 else 0.0
        if d > c and (coverage < RANGE_COVERAGE_MIN or (b - a) > RANGE_EXCESS_MAX * max(overlap, 1e-12)
                      or shift > SHIFT_MAX):
            whole = bool(np.all(cal == np.round(cal)))
            how = (f"{(b - a) / (d - c):.3g}x the width" if (b - a) > RANGE_EXCESS_MAX * (d - c) else
                   "no overlap with it" if overlap == 0 else f"{coverage:.0%} of it" if coverage < RANGE_COVERAGE_MIN
                   else f"a mean {shift:.1f} held-out standard deviations away")
            out.append({"check": "calibration-range", "artifact": "every int8 artifact", "message": (
                f"calibration input '{spec.name}' spans [{a:.4g}, {b:.4g}] but the held-out inputs ({heldout_origin}) "
                f"span [{c:.4g}, {d:.4g}] (middle 99 %): {how}"
                + (", and it holds whole numbers only (integer images for a model fed scaled floats?)" if whole else "")
                + ". int8 ranges come from calibration: scale and normalise it exactly as the model's real inputs.")})
            continue
        r_held, r_cal = neighbour_correlation(held), neighbour_correlation(cal)
        if r_held is not None and r_cal is not None and r_held > SMOOTH_HELDOUT and r_cal < SMOOTH_LOST * r_held:
            out.append({"check": "calibration-noise-like", "artifact": "every int8 artifact", "message": (
                f"calibration input '{spec.name}' looks like noise: neighbouring values correlate {r_cal:.2f}, "
                f"against {r_held:.2f} in the held-out inputs ({heldout_origin}). int8 ranges set on noise do not "
                "fit real inputs: calibrate on real samples (a few hundred from the training data).")})
    return out
