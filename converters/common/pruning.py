"""`--prune METHOD:RATIO`: prune a Keras model, fine-tune it on training data, hand it on to export.

The spec is parsed and checked without any framework import; :func:`prune_keras` does the work:
- ``unstructured:S`` — magnitude masks to sparsity S on every prunable kernel (converters/common/prune_magnitude),
  reached gradually during fine-tuning, then frozen;
- ``structured:R`` — remove the fraction R of channels in every prunable channel group
  (converters/common/channel_groups, prune_structured), rebuild the smaller model, then fine-tune it.
By default the first layer (it sees the raw input) and the layers that write a model output (the heads) are
never pruned; a recipe may exclude more, or say why structured pruning does not fit its architecture.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from edgekit.errors import UsageError, did_you_mean

METHODS = {
    "unstructured": "zero the smallest-magnitude weights of each kernel (smaller compressed file; same shapes)",
    "structured": "remove whole channels/filters and rebuild a smaller model (fewer MACs; faster everywhere)",
}


@dataclass(frozen=True)
class PruneSpec:
    method: str
    ratio: float

    @property
    def tag(self) -> str:
        """Directory-safe name of the pruned model, e.g. face-id-structured50."""
        return f"{self.method}{round(self.ratio * 100):d}"

    def __str__(self) -> str:
        return f"{self.method}:{self.ratio:g}"


def parse_prune(text: str) -> PruneSpec:
    method, _, ratio = text.partition(":")
    if method not in METHODS:
        raise UsageError(f"Unknown pruning method '{method}'.{did_you_mean(method, METHODS)}", got=text,
                         tip="Use unstructured:SPARSITY (e.g. unstructured:0.8) or structured:RATIO (e.g. "
                         "structured:0.5).")
    try:
        value = float(ratio)
    except ValueError:
        raise UsageError("The pruning ratio must be a number between 0 and 1.", got=text,
                         tip=f"Write it after the colon, e.g. {method}:0.5.") from None
    if not 0.0 < value < 1.0:
        raise UsageError("The pruning ratio must be strictly between 0 and 1.", got=text,
                         tip=f"{method}:0.8 removes 80 % ({METHODS[method]}).")
    return PruneSpec(method, value)


def _producers(model) -> list:
    from edgekit.converters.common.prune_magnitude import PRUNABLE

    return [layer for layer in model.layers if type(layer).__name__ in PRUNABLE]


def default_exclusions(model) -> list[str]:
    """The first weighted layer fed by a model input and every weighted layer that writes a model output."""
    from edgekit.converters.common.channel_groups import CHANNELWISE, _inputs

    producers = {layer.name for layer in _producers(model)}
    names = {layer.name: layer for layer in model.layers}
    excluded = []
    first = next((layer for layer in _producers(model)), None)
    if first is not None:
        excluded.append(first.name)
    for t in model.outputs:
        name = t._keras_history[0].name
        # walk back through layers that do not mix in new weights until a weighted layer is found
        while name not in producers and _inputs(names[name]) and (
                type(names[name]).__name__ in CHANNELWISE or len(_inputs(names[name])) == 1):
            name = _inputs(names[name])[0]
        if name in producers and name not in excluded:
            excluded.append(name)
    return excluded


def excluded_layers(model, patterns: tuple[str, ...]) -> list[str]:
    extra = [layer.name for layer in model.layers if any(fnmatch.fnmatchcase(layer.name, p) for p in patterns)]
    return list(dict.fromkeys(default_exclusions(model) + extra))


def prune_keras(model, spec: PruneSpec, training, *, exclude: tuple[str, ...] = (),
                structured_unsupported: str | None = None, no_training_tip: str = "", progress=lambda msg: None):
    """Return (pruned Keras model, record). ``training`` is a TrainingSet or None (no fine-tuning)."""
    from edgekit.converters.common import macs
    from edgekit.converters.common.finetune import fine_tune, planned_steps

    skip = excluded_layers(model, exclude)
    before = macs.count(model)
    record = {"method": spec.method, "ratio": spec.ratio, "excluded_layers": skip, "fine_tuning": None,
              "warnings": []}
    if training is None:
        record["warnings"].append(f"No training data: pruned without fine-tuning, so accuracy will suffer. "
                                  f"{no_training_tip}")
    if spec.method == "structured":
        if structured_unsupported:
            raise UsageError(f"Structured pruning does not fit this architecture: {structured_unsupported}",
                             got=str(spec), tip="Use unstructured:SPARSITY instead.")
        from edgekit.converters.common import channel_groups, prune_structured

        graph = channel_groups.analyse(model, exclude=tuple(skip))
        keep = prune_structured.choose_channels(model, graph, spec.ratio)
        if not keep:
            raise UsageError("No channel of this model can be removed: every channel group feeds a layer that "
                             "mixes channel positions, an output or an excluded layer.",
                             got="; ".join(f"{g.producers[0]}: {g.blocked[0]}" for g in graph.blocked())[:400],
                             tip="Use unstructured:SPARSITY instead.")
        progress(f"structured pruning: {len(keep)} channel groups, rebuilding a smaller model")
        pruned = prune_structured.rebuild(model, graph, keep)
        record["groups"] = [{"producers": graph.groups[g].producers, "channels_before": graph.groups[g].channels,
                             "channels_after": int(len(k))} for g, k in keep.items()]
        record["kept_whole"] = [{"producers": g.producers, "why": g.blocked[0]} for g in graph.blocked()]
        if training is not None:
            record["fine_tuning"] = fine_tune(pruned, training, teacher=model, progress=progress)
    else:
        from edgekit.converters.common.prune_magnitude import Masker, sparsity_report

        import keras

        pruned = keras.models.clone_model(model)
        pruned.set_weights(model.get_weights())
        names = [layer.name for layer in _producers(pruned) if layer.name not in skip]
        if not names:
            raise UsageError(
                "No layer of this model can be pruned: unstructured pruning works on convolution and dense "
                "kernels, and the only ones here are the first layer or output heads, which are kept.",
                got=f"kept: {', '.join(skip) or '-'}; other weighted layers: "
                f"{', '.join(sorted({type(x).__name__ for x in model.layers if x.weights and x.name not in skip})) or '-'}",
                tip="Convert without --prune.")
        total = planned_steps(training) if training is not None else 1
        masker = Masker(pruned, names, spec.ratio, total)
        if training is not None:
            record["fine_tuning"] = fine_tune(pruned, training, teacher=model, after_step=masker.after_step,
                                              progress=progress)
        masker.finish()
        record["sparsity"] = sparsity_report(pruned, names)
    after = macs.count(pruned)
    record["macs"] = {"before": before["macs"], "after": after["macs"]}
    record["params"] = {"before": before["params"], "after": after["params"]}
    return pruned, record
