"""Mixed precision by measurement: keep int8 where it holds, float where a layer breaks the task metric.

One algorithm for every backend (each backend only says how to build an int8 artifact with some Keras layers
left in float): quantize everything; if the task metric on the *validation* split drops more than the
recipe's tolerance, measure each candidate layer alone in float, then float layers in order of measured
recovery until the drop is within tolerance. Held-out data is never used to decide; reports show the
decision and every trial.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path


def layer_pattern(layers: Sequence[str]) -> str:
    """Regex matching exported node names of Keras layers: exporters nest them as .../<layer>[_N]/..."""
    return r"(^|/)(" + "|".join(re.escape(name) for name in layers) + r")(_\d+)?/"


def matching_nodes(names: Sequence[str], layers: Sequence[str]) -> list[str]:
    if not layers:
        return []
    rx = re.compile(layer_pattern(layers))
    return [n for n in names if rx.search(n)]


@dataclass
class Trial:
    float_layers: list[str]
    score: float
    within_tolerance: bool


@dataclass
class FallbackDecision:
    metric: str
    reference: float  # fp32 on the validation split
    tolerance: float
    higher_is_better: bool
    float_layers: list[str] = field(default_factory=list)
    score: float | None = None
    reached: bool = False
    trials: list[Trial] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


def choose_float_layers(
    candidates: Sequence[str],
    build: Callable[[tuple[str, ...]], Path],
    score: Callable[[Path], float],
    decision: FallbackDecision,
) -> Path:
    """Return the int8 artifact with the fewest float layers that keeps the metric within tolerance
    (or, if none does, the best one tried); ``decision`` records why."""
    sign = 1.0 if decision.higher_is_better else -1.0

    def ok(value: float) -> bool:
        return sign * (decision.reference - value) <= decision.tolerance

    def trial(layers: tuple[str, ...]) -> tuple[Path, float]:
        path = build(layers)
        value = score(path)
        decision.trials.append(Trial(list(layers), round(value, 6), ok(value)))
        return path, value

    tried: dict[tuple[str, ...], tuple[Path, float]] = {(): trial(())}
    if not ok(tried[()][1]):
        for layer in candidates:
            tried[(layer,)] = trial((layer,))
        order = sorted(candidates, key=lambda name: -sign * tried[(name,)][1])
        for k in range(1, len(order) + 1):
            layers = tuple(order[:k])
            if layers not in tried:
                tried[layers] = trial(layers)
            if ok(tried[layers][1]):
                break
    # The fewest float layers within tolerance; if nothing reached it, the best score seen.
    passing = [k for k, (_, v) in tried.items() if ok(v)]
    if passing:
        chosen = min(passing, key=lambda k: (len(k), -sign * tried[k][1]))
    else:
        chosen = max(tried, key=lambda k: sign * tried[k][1])
    best_path, best = tried[chosen]
    decision.float_layers, decision.score, decision.reached = list(chosen), round(best, 6), ok(best)
    return best_path


def search_float_layers(src, recipe, build: Callable[[tuple[str, ...], int], Path], reference: float) -> tuple[Path, dict]:
    """Run the search for a zoo source (which has a validation split) with the recipe's candidates and
    tolerance; ``build(layers, trial)`` writes one int8 artifact. Returns the chosen artifact and the record."""
    from edgekit.runtime import open_session

    zoo, metric = src.zoo, src.zoo.metric_definition
    tolerance = metric.tolerance(recipe.float_fallback_tolerance, reference)
    decision = FallbackDecision(metric.name, reference, round(tolerance, 6), metric.higher_is_better)

    def score(path: Path) -> float:
        return zoo.validate(open_session(path).predict)[zoo.metric]

    candidates = src.layer_names(recipe.float_fallback_types)
    chosen = choose_float_layers(candidates, lambda layers: build(layers, len(decision.trials)), score, decision)
    return chosen, {"candidates": candidates, "split": "validation", **decision.to_json()}
