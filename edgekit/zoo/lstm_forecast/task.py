"""lstm-forecast's task, device side (numpy only; shipped in bundles): forecasts in megawatts and their errors.

Input ``window`` (1, 48, 2) standardised with the training mean/std; output ``forecast`` (1, 12), the next 12
half-hours standardised. ``data`` holds the windows, their targets in MW and the training normalisation.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

INPUT, OUTPUT = "window", "forecast"

Predict = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]


def to_megawatts(forecast: np.ndarray, norm: np.ndarray) -> np.ndarray:
    """A standardised forecast in MW, with the training ``norm`` = (mean, std)."""
    mean, std = norm
    return forecast.astype(np.float64) * std + mean


def errors(pred_mw: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    err = pred_mw - targets
    return {"mae_mw": float(np.mean(np.abs(err))), "rmse_mw": float(np.sqrt(np.mean(err**2)))}


def evaluate(predict: Predict, data: dict) -> dict[str, float]:
    """MAE / RMSE in megawatts over every window and horizon step of ``data``."""
    x = data[INPUT]
    pred = to_megawatts(predict({INPUT: x})[OUTPUT], data["norm"])
    return {**errors(pred, data["targets_mw"]), "n_windows": int(len(x))}
