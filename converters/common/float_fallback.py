"""Mixed precision by measurement: keep int8 where it holds, float where a layer breaks the task metric.

One algorithm for every backend (each backend only says how to build an int8 artifact with some layers left in
float): quantize everything; if the score on the *validation* split misses the budget, measure each candidate
layer alone in float, then float layers in order of measured recovery until the budget is met. Held-out data is
never used to decide; reports show the decision and every trial. The candidates are a zoo recipe's Keras layer
classes, or for any model the layers the per-layer error report blames (converters/common/mixed_precision).

A float-layer key is a source layer's name (a Keras layer, matched inside exporters' node paths) or a name exactly
as the backend's ``tensors`` reports it (an ONNX node output, a LiteRT op's first output name, an OpenVINO op).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from edgekit.errors import ConversionError


def layer_pattern(layers: Sequence[str]) -> str:
    """Regex matching exported node names of Keras layers: exporters nest them as .../<layer>[_N]/..."""
    return r"(^|/)(" + "|".join(re.escape(name) for name in layers) + r")(_\d+)?/"


def matching_nodes(names: Sequence[str], layers: Sequence[str]) -> list[str]:
    """The names that belong to one of ``layers``: a Keras layer inside the name's path, or the name itself (for
    LiteRT's ';'-joined fused names, its first part)."""
    if not layers:
        return []
    rx, exact = re.compile(layer_pattern(layers)), set(layers)
    return [n for n in names if n in exact or n.split(";")[0] in exact or rx.search(n)]


@dataclass
class Trial:
    float_layers: list[str]
    score: float | None  # None: this combination could not be built (``error`` says why)
    within_tolerance: bool
    error: str | None = None


@dataclass
class FallbackDecision:
    metric: str  # what was scored on validation: the task metric, or "min SNR dB" for a fidelity budget
    reference: float  # fp32 on the validation split
    tolerance: float
    higher_is_better: bool
    reference_is: str = "fp32"  # or "bound": ``reference`` is what a fidelity budget needs, not fp32's score
    float_layers: list[str] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)
    score: float | None = None
    reached: bool = False
    trials: list[Trial] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


def choose_float_layers(
    candidates: Sequence[str] | Callable[[Path], Sequence[str]],
    build: Callable[[tuple[str, ...]], Path],
    score: Callable[[Path], float | tuple[float, bool]],
    decision: FallbackDecision,
    singles: int | None = None,
) -> Path:
    """Return the int8 artifact with the fewest float layers that keeps the metric within tolerance
    (or, if none does, the best one tried); ``decision`` records why. ``candidates`` may be a function of the
    all-int8 artifact (the layers its error report blames, worst first); ``score`` may return (value, within
    budget) when the budget is more than one number (fidelity thresholds), the value then only ranks.
    ``singles``: only the first this many candidates are tried alone and then together; when that is not enough,
    the rest join in doubling steps (error spread over many layers: a CNN's depthwise stack, a transformer's
    residual stream), so a long list costs a few builds, not one per layer."""
    sign = 1.0 if decision.higher_is_better else -1.0
    passed: dict[tuple[str, ...], bool] = {}

    def ok(layers: tuple[str, ...]) -> bool:
        return passed[layers]

    def trial(layers: tuple[str, ...]) -> tuple[Path | None, float]:
        try:
            path = build(layers)
        except ConversionError as exc:  # a candidate this backend cannot keep float is a failed trial, not the end
            if not layers:
                raise
            passed[layers] = False
            decision.trials.append(Trial(list(layers), None, False, exc.message))
            return None, -sign * float("inf")
        scored = score(path)
        value, within = scored if isinstance(scored, tuple) else (
            scored, sign * (decision.reference - scored) <= decision.tolerance)
        passed[layers] = bool(within)
        decision.trials.append(Trial(list(layers), round(value, 6), bool(within)))
        return path, value

    tried: dict[tuple[str, ...], tuple[Path, float]] = {(): trial(())}
    if not ok(()):
        if callable(candidates):
            candidates = candidates(tried[()][0])
        decision.candidates = list(candidates)
        rest = list(candidates[singles:]) if singles is not None else []
        candidates = list(candidates[:singles]) if singles is not None else list(candidates)
        for layer in candidates:
            tried[(layer,)] = trial((layer,))
        # Layers whose float version alone recovered a real part of the gap first (most first); the others in the
        # order given (the per-layer report's blame), as their singleton differences are noise. A layer that could
        # not be built float is left out.
        base = tried[()][1]
        enough = 0.05 * max(sign * (decision.reference - base), 0.0)
        built = [c for c in candidates if tried[(c,)][0] is not None]
        gain = {c: sign * (tried[(c,)][1] - base) for c in built}
        order = sorted((c for c in built if gain[c] > enough), key=lambda c: -gain[c]) + [
            c for c in built if gain[c] <= enough]
        for k in range(1, len(order) + 1):
            layers = tuple(order[:k])
            if layers not in tried:
                tried[layers] = trial(layers)
            if ok(layers):
                # layers added on the way that the others make unnecessary go back to int8 (a cumulative set
                # often carries one: the output op the error reached, when the layer feeding it is float)
                for layer in layers[:-1]:
                    fewer = tuple(x for x in layers if x != layer)
                    if fewer not in tried:
                        tried[fewer] = trial(fewer)
                    if ok(fewer):
                        layers = fewer
                break
        else:
            extended, k = order + rest, max(2 * len(order), 1)
            while rest and k < 2 * len(extended):
                layers = tuple(extended[:k])
                if layers not in tried:
                    tried[layers] = trial(layers)
                if ok(layers):
                    break
                k *= 2
    # The fewest float layers within tolerance; if nothing reached it, the best score seen.
    passing = [k for k in tried if ok(k)]
    if passing:
        chosen = min(passing, key=lambda k: (len(k), -sign * tried[k][1]))
    else:
        chosen = max(tried, key=lambda k: sign * tried[k][1])
    best_path, best = tried[chosen]
    decision.float_layers, decision.score, decision.reached = list(chosen), round(best, 6), ok(chosen)
    return best_path
