"""gnn-grid's task, device side (numpy only; shipped in bundles): decode the model's state and score it.

Inputs ``features`` (1, 118, 6) and ``adjacency`` (1, 118, 118), fed by name. Output ``state`` (1, 118, 2):
voltage magnitude and angle, scaled as ((vm - 1) / VM_SCALE, (va - VA_OFFSET) / VA_SCALE).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

FEATURES_INPUT, ADJ_INPUT, OUTPUT = "features", "adjacency", "state"
VM_SCALE, VA_OFFSET, VA_SCALE = 0.01, 30.0, 10.0

Predict = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]


def decode_state(z: np.ndarray) -> np.ndarray:
    """The model's scaled output -> (voltage magnitude p.u., angle degrees) per bus."""
    return np.stack([1.0 + z[..., 0] * VM_SCALE, VA_OFFSET + z[..., 1] * VA_SCALE], -1)


def feeds(features: np.ndarray, adjacency: np.ndarray) -> dict[str, np.ndarray]:
    """Model inputs for a batch of injections on the one fixed grid (its adjacency repeated per sample)."""
    return {FEATURES_INPUT: features, ADJ_INPUT: np.broadcast_to(adjacency, (len(features), *adjacency.shape)).copy()}


def errors(pred: np.ndarray, y: np.ndarray) -> dict[str, float]:
    vm, va = pred[..., 0] - y[..., 0], pred[..., 1] - y[..., 1]
    return {"vm_rmse_pu": float(np.sqrt(np.mean(vm**2))), "vm_max_err_pu": float(np.abs(vm).max()),
            "va_rmse_deg": float(np.sqrt(np.mean(va**2))), "va_max_err_deg": float(np.abs(va).max())}


def evaluate(predict: Predict, data: dict) -> dict[str, float]:
    """RMSE and max error of voltage magnitude (p.u.) and angle (degrees) against the solver's AC solution."""
    y = data["state_true"]
    pred = decode_state(predict(feeds(data[FEATURES_INPUT], data["adjacency_matrix"]))[OUTPUT].astype(np.float64))
    return {**errors(pred, y), "n_samples": int(len(y))}
