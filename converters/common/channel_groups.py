"""Which channels of a Keras functional model can be removed together: the analysis behind structured pruning.

A *group* is a channel space shared by several tensors: the output of a convolution or dense layer, carried
unchanged through channel-wise layers (BatchNorm, activations, pooling, dropout) and merged with other groups by
element-wise additions (a residual stream is one group: every branch added into it must lose the same channels).
Removing channel c of a group means removing filter c of every *producer* writing into it and input slice c of
every *consumer* reading from it; everything in between only has its per-channel parameters sliced.

A group is *blocked* (never pruned) when any of its tensors reaches a layer whose output mixes channel positions
(Flatten, Reshape, Concatenate, normalisations over channels, custom layers), a model output, a layer used twice,
or when one of its producers is excluded by the recipe (by default the first convolution: its input is the image).
"""

from __future__ import annotations

from dataclasses import dataclass, field

PRODUCERS = {"Conv1D", "Conv2D", "Conv2DTranspose", "Dense"}
# Channel-wise layers: the output has the input's channels, in order; per-channel weights (if any) are sliced.
CHANNELWISE = {
    "BatchNormalization", "ReLU", "LeakyReLU", "ELU", "PReLU", "Dropout", "SpatialDropout2D", "MaxPooling1D",
    "MaxPooling2D", "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "UpSampling2D", "ZeroPadding2D", "Cropping2D", "DepthwiseConv2D",
    "Activation",
}
MERGES = {"Add", "Subtract", "Maximum", "Minimum", "Average"}
# Activations that map 0 to 0: a removed (all-zero) channel stays zero through them. Sigmoid or softmax do not.
ZERO_PRESERVING = {"relu", "relu6", "silu", "swish", "gelu", "tanh", "linear", "elu", "selu", "leaky_relu",
                   "hard_silu", "hard_swish", "mish"}


@dataclass
class Group:
    gid: int
    channels: int
    producers: list[str] = field(default_factory=list)  # layers whose output channels are this group
    members: list[str] = field(default_factory=list)  # channel-wise layers whose per-channel params it slices
    consumers: list[str] = field(default_factory=list)  # producers reading it (input slice)
    blocked: list[str] = field(default_factory=list)  # reasons it cannot be pruned

    @property
    def prunable(self) -> bool:
        return not self.blocked and bool(self.producers)


@dataclass
class ChannelGraph:
    groups: dict[int, Group]
    output_group: dict[str, int]  # layer name -> group of its output (-1: not a channel group)
    input_group: dict[str, int]  # layer name -> group of its (first) input

    def prunable(self) -> list[Group]:
        return [g for g in self.groups.values() if g.prunable]

    def blocked(self) -> list[Group]:
        return [g for g in self.groups.values() if not g.prunable and g.producers]


def _inputs(layer) -> list:
    return [t._keras_history[0].name for t in layer._inbound_nodes[0].input_tensors] if layer._inbound_nodes else []


def _zero_preserving(layer) -> bool:
    """A removed channel (all zeros) stays all zeros through this layer's activation, if it has one."""
    act = layer.get_config().get("activation", "linear")
    return isinstance(act, str) and act in ZERO_PRESERVING


def _channelwise(layer) -> bool:
    kind = type(layer).__name__
    if kind not in CHANNELWISE or not _zero_preserving(layer):
        return False
    return kind != "DepthwiseConv2D" or layer.get_config().get("depth_multiplier", 1) == 1


def analyse(model, exclude: tuple[str, ...] = ()) -> ChannelGraph:
    """Channel groups of ``model``; producers named in ``exclude`` (fnmatch patterns) keep their channels."""
    import fnmatch

    parent: dict[int, int] = {}

    def find(g: int) -> int:
        while parent[g] != g:
            parent[g] = parent[parent[g]]
            g = parent[g]
        return g

    def new_group() -> int:
        parent[len(parent)] = len(parent)
        return len(parent) - 1

    out_g: dict[str, int] = {}
    channels: dict[int, int] = {}
    roles: list[tuple[str, str, list[int]]] = []  # (layer, role, input groups)
    blocks: list[tuple[int, str]] = []
    for layer in model.layers:
        kind, name = type(layer).__name__, layer.name
        ins = [out_g[n] for n in _inputs(layer)]
        if len(layer._inbound_nodes) > 1:
            blocks += [(g, f"{name} is used more than once") for g in ins]
        if kind == "InputLayer":
            out_g[name] = g = new_group()
            channels[g] = layer.output.shape[-1]
            blocks.append((g, "model input"))
        elif kind in PRODUCERS and len(ins) == 1:
            out_g[name] = g = new_group()
            channels[g] = layer.output.shape[-1]
            roles.append((name, "producer", ins))
            if any(fnmatch.fnmatchcase(name, p) for p in exclude):
                blocks.append((g, f"{name} is excluded by the recipe"))
            if not _zero_preserving(layer):
                blocks.append((g, f"{name}'s activation does not keep a removed channel at zero"))
        elif len(ins) == 1 and _channelwise(layer):
            out_g[name] = ins[0]
            roles.append((name, "member", ins))
        elif kind in MERGES and ins:
            for g in ins[1:]:
                parent[find(g)] = find(ins[0])
            out_g[name] = ins[0]
        else:
            out_g[name] = g = new_group()
            channels[g] = layer.output.shape[-1] if hasattr(layer, "output") else 0
            blocks += [(gi, f"it reaches {name} ({kind}), which mixes channel positions") for gi in ins]
            blocks.append((g, f"output of {name} ({kind})"))
    for t in model.outputs:
        blocks.append((out_g[t._keras_history[0].name], f"model output {t._keras_history[0].name}"))

    groups: dict[int, Group] = {}

    def group(g: int) -> Group:
        root = find(g)
        if root not in groups:
            groups[root] = Group(root, channels[root])
        return groups[root]

    for name, role, ins in roles:
        if role == "producer":
            group(out_g[name]).producers.append(name)
            group(ins[0]).consumers.append(name)
        else:
            group(ins[0]).members.append(name)
    for g, why in blocks:
        if why not in group(g).blocked:
            group(g).blocked.append(why)
    return ChannelGraph(groups, {k: find(v) for k, v in out_g.items()},
                        {layer.name: find(out_g[_inputs(layer)[0]]) for layer in model.layers if _inputs(layer)})
