"""Unstructured magnitude pruning for Keras 3: per-layer masks on kernels, a gradual schedule, fixed masks.

Schedule (Zhu & Gupta 2017): sparsity rises from 0 to the target as s(t) = s_f (1 - (1 - t / t_end)^3) over the
first 60 % of fine-tuning steps, masks recomputed every 1/10 of that span from the current magnitudes; then the
masks are frozen and the last 40 % of steps fine-tune the surviving weights. Every layer gets the same sparsity
(exactly round(s_f * size) zeros per kernel). Masks are re-applied after each optimiser step, so pruned weights
stay exactly zero whatever the optimiser does.
"""

from __future__ import annotations

import numpy as np

PRUNABLE = ("Conv1D", "Conv2D", "Conv2DTranspose", "DepthwiseConv2D", "Dense")
RAMP_FRACTION, UPDATES = 0.6, 10


def _kernel(layer):
    return layer.depthwise_kernel if type(layer).__name__ == "DepthwiseConv2D" else layer.kernel


def magnitude_mask(weights: np.ndarray, sparsity: float) -> np.ndarray:
    """1 for the weights kept, 0 for the round(sparsity * size) smallest magnitudes (ties broken by position)."""
    flat = np.abs(weights).ravel()
    n_zero = int(round(sparsity * flat.size))
    mask = np.ones(flat.size, np.float32)
    mask[np.argsort(flat, kind="stable")[:n_zero]] = 0.0
    return mask.reshape(weights.shape)


def schedule(step: int, total: int, target: float) -> float:
    end = max(1, int(total * RAMP_FRACTION))
    if step >= end:
        return target
    return target * (1.0 - (1.0 - step / end) ** 3)


class Masker:
    """Masks for the kernels of the named layers; ``after_step`` is fine_tune's hook."""

    def __init__(self, model, layer_names: list[str], target: float, total_steps: int):
        import tensorflow as tf

        self.target, self.total = target, max(total_steps, 1)
        self.kernels = [_kernel(model.get_layer(n)) for n in layer_names]
        self.names = list(layer_names)
        self.masks = [tf.Variable(np.ones(k.shape, np.float32), trainable=False) for k in self.kernels]
        self.end = max(1, int(self.total * RAMP_FRACTION))
        self.every = max(1, self.end // UPDATES)
        self.sparsity = 0.0

        @tf.function
        def apply():
            for k, m in zip(self.kernels, self.masks):
                k.assign(k * m)

        self._apply = apply

    def update(self, sparsity: float) -> None:
        """Recompute every mask from the current magnitudes (pruned weights are already zero)."""
        for k, m in zip(self.kernels, self.masks):
            m.assign(magnitude_mask(np.asarray(k), sparsity))
        self.sparsity = sparsity
        self._apply()

    def after_step(self, step: int) -> None:
        if step <= self.end and (step % self.every == 0 or step == self.end):
            self.update(schedule(step, self.total, self.target))
        else:
            self._apply()

    def finish(self) -> None:
        """Frozen at the target: used when there is no fine-tuning, or if the schedule never reached it."""
        if self.sparsity != self.target:
            self.update(self.target)


def sparsity_report(model, layer_names: list[str]) -> dict:
    """Measured zeros per pruned kernel and over every weight of the model."""
    per_layer = {}
    for name in layer_names:
        k = np.asarray(_kernel(model.get_layer(name)))
        per_layer[name] = {"weights": int(k.size), "zeros": int(np.sum(k == 0)),
                           "sparsity": round(float(np.mean(k == 0)), 4)}
    total = sum(int(np.size(w)) for w in model.get_weights())
    zeros = sum(int(np.sum(np.asarray(w) == 0)) for w in model.get_weights())
    pruned = sum(v["weights"] for v in per_layer.values())
    return {"per_layer": per_layer, "pruned_layers_sparsity": round(sum(v["zeros"] for v in per_layer.values())
                                                                   / max(pruned, 1), 4),
            "model_sparsity": round(zeros / max(total, 1), 4), "model_weights": total}
