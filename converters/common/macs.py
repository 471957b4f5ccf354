"""Multiply-accumulates and parameters of a Keras model, per layer: what structured pruning is judged on."""

from __future__ import annotations

import math


def _spatial(shape) -> int:
    return math.prod(int(d) for d in shape[1:-1])


def layer_macs(layer) -> int | None:
    """MACs of one inference (batch 1) of ``layer``; None for layer kinds not counted here."""
    kind = type(layer).__name__
    cfg = layer.get_config()
    if kind in ("Conv1D", "Conv2D"):
        k = math.prod(cfg["kernel_size"])
        return _spatial(layer.output.shape) * int(layer.output.shape[-1]) * k * int(layer.input.shape[-1]) // cfg.get("groups", 1)
    if kind == "Conv2DTranspose":
        k = math.prod(cfg["kernel_size"])
        return _spatial(layer.input.shape) * int(layer.input.shape[-1]) * k * int(layer.output.shape[-1])
    if kind == "DepthwiseConv2D":
        return _spatial(layer.output.shape) * int(layer.output.shape[-1]) * math.prod(cfg["kernel_size"])
    if kind == "Dense":
        return _spatial(layer.output.shape) * int(layer.input.shape[-1]) * int(layer.output.shape[-1])
    if kind == "LSTM":
        steps, features, units = int(layer.input.shape[1]), int(layer.input.shape[-1]), cfg["units"]
        return steps * 4 * units * (features + units)
    return None


def count(model) -> dict:
    """{"macs", "params", "per_layer": {name: macs}, "uncounted": [layer kinds with weights not counted]}"""
    per_layer, uncounted = {}, set()
    for layer in model.layers:
        m = layer_macs(layer)
        if m is None:
            if layer.weights and type(layer).__name__ not in ("BatchNormalization",):
                uncounted.add(type(layer).__name__)
            continue
        per_layer[layer.name] = int(m)
    return {"macs": int(sum(per_layer.values())), "params": int(model.count_params()), "per_layer": per_layer,
            "uncounted": sorted(uncounted)}
