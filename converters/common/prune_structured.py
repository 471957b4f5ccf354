"""Channel (filter) pruning that rebuilds a genuinely smaller Keras model.

Criterion (documented in the README): each channel of a group is scored by the L2 norm of its filters in every
producer, scaled by the |gamma| / sqrt(var + eps) of the BatchNorm that directly follows the producer (so the
score is the channel's effective output scale, not a weight norm BatchNorm can undo), each producer's scores
divided by their mean so residual branches count equally. The lowest-scoring ``ratio`` of every prunable group
is removed (at least one channel kept).

Two views of one decision: :func:`masked_copy` zeroes the removed channels in a same-shaped copy (what the
pruned network computes); :func:`rebuild` makes the smaller model. Before fine-tuning their outputs agree
(tests/test_pruning.py), which is what makes the rebuild trustworthy on residual networks.
"""

from __future__ import annotations

import numpy as np

from edgekit.converters.common.channel_groups import ChannelGraph, Group, _inputs

# Which axis of each weight holds (input channels, output channels), per producer class.
_KERNEL_AXES = {"Conv1D": (-2, -1), "Conv2D": (-2, -1), "Dense": (-2, -1), "Conv2DTranspose": (-1, -2)}
_SIZE_KEY = {"Conv1D": "filters", "Conv2D": "filters", "Conv2DTranspose": "filters", "Dense": "units"}


def _bn_scale(layer) -> np.ndarray:
    w = {v.path.split("/")[-1]: np.asarray(v) for v in layer.weights}
    gamma = np.abs(w["gamma"]) if "gamma" in w else 1.0
    return gamma / np.sqrt(w["moving_variance"] + layer.epsilon)


def channel_scores(model, group: Group) -> np.ndarray:
    follower = {_inputs(layer)[0]: layer for layer in model.layers
                if type(layer).__name__ == "BatchNormalization" and _inputs(layer)}
    total = np.zeros(group.channels)
    for name in group.producers:
        layer = model.get_layer(name)
        kernel = np.asarray(layer.kernel)
        out_axis = _KERNEL_AXES[type(layer).__name__][1] % kernel.ndim
        norms = np.sqrt(np.sum(np.moveaxis(kernel, out_axis, -1).reshape(-1, kernel.shape[out_axis]) ** 2, axis=0))
        if name in follower:
            norms = norms * _bn_scale(follower[name])
        total += norms / max(float(norms.mean()), 1e-12)
    return total


def choose_channels(model, graph: ChannelGraph, ratio: float) -> dict[int, np.ndarray]:
    """Kept channel indices (sorted) of every prunable group that loses at least one channel."""
    keep = {}
    for g in graph.prunable():
        n_keep = max(1, int(round(g.channels * (1.0 - ratio))))
        if n_keep < g.channels:
            keep[g.gid] = np.sort(np.argsort(-channel_scores(model, g), kind="stable")[:n_keep])
    return keep


def _slices(layer, graph: ChannelGraph, keep: dict[int, np.ndarray]) -> list[np.ndarray]:
    """The layer's weights with removed channels cut out."""
    kind = type(layer).__name__
    weights = [np.asarray(w) for w in layer.get_weights()]
    if kind in _KERNEL_AXES:
        in_axis, out_axis = _KERNEL_AXES[kind]
        kin, kout = keep.get(graph.input_group.get(layer.name, -1)), keep.get(graph.output_group[layer.name])
        kernel = weights[0]
        if kin is not None:
            kernel = np.take(kernel, kin, axis=in_axis)
        if kout is not None:
            kernel = np.take(kernel, kout, axis=out_axis)
        rest = [w[kout] if kout is not None else w for w in weights[1:]]
        return [kernel, *rest]
    k = keep.get(graph.input_group.get(layer.name, -1))
    if k is None or not weights:
        return weights
    if kind == "DepthwiseConv2D":
        return [np.take(weights[0], k, axis=-2), *[w[k] for w in weights[1:]]]
    return [np.take(w, k, axis=-1) for w in weights]  # BatchNorm vectors, PReLU alphas


def _zeroed(layer, graph: ChannelGraph, keep: dict[int, np.ndarray]) -> list[np.ndarray]:
    """The layer's weights with removed channels set to zero (same shapes)."""
    kind = type(layer).__name__
    weights = [np.array(w) for w in layer.get_weights()]
    if kind in _KERNEL_AXES:
        kout = keep.get(graph.output_group[layer.name])
        if kout is None:
            return weights
        axis = _KERNEL_AXES[kind][1] % weights[0].ndim
        drop = np.setdiff1d(np.arange(weights[0].shape[axis]), kout)
        idx = [slice(None)] * weights[0].ndim
        idx[axis] = drop
        weights[0][tuple(idx)] = 0.0
        for w in weights[1:]:
            w[drop] = 0.0
        return weights
    k = keep.get(graph.input_group.get(layer.name, -1))
    if k is None or not weights:
        return weights
    if kind == "BatchNormalization":  # gamma, beta and the moving mean to 0: a zero input stays zero
        names = [v.path.split("/")[-1] for v in layer.weights]
        for name, w in zip(names, weights):
            if name != "moving_variance":
                w[np.setdiff1d(np.arange(len(w)), k)] = 0.0
    elif kind == "DepthwiseConv2D":
        drop = np.setdiff1d(np.arange(weights[0].shape[-2]), k)
        weights[0][..., drop, :] = 0.0
        for w in weights[1:]:
            w[drop] = 0.0
    return weights


def masked_copy(model, graph: ChannelGraph, keep: dict[int, np.ndarray]):
    """A same-shaped copy of ``model`` in which the removed channels are exactly zero."""
    import keras

    copy = keras.models.clone_model(model)
    for layer in copy.layers:
        layer.set_weights(_zeroed(model.get_layer(layer.name), graph, keep))
    return copy


def rebuild(model, graph: ChannelGraph, keep: dict[int, np.ndarray]):
    """The smaller model: producers of pruned groups get fewer filters/units, every weight is sliced."""
    import keras

    def clone(layer):
        config = layer.get_config()
        kind = type(layer).__name__
        k = keep.get(graph.output_group.get(layer.name, -1))
        if kind in _SIZE_KEY and k is not None:
            config[_SIZE_KEY[kind]] = int(len(k))
        return layer.__class__.from_config(config)

    small = keras.models.clone_model(model, clone_function=clone)
    for layer in small.layers:
        layer.set_weights(_slices(model.get_layer(layer.name), graph, keep))
    return small
