"""An accuracy budget for any model: which layers an int8 artifact keeps float, searched per backend.

``--max-accuracy-drop PT`` (with labelled validation samples) or ``--mixed-precision`` (the fidelity thresholds,
for data without labels) makes every int8 build a search (converters/common/float_fallback). The all-int8
artifact is scored on validation samples the report never scores (a zoo model's validation split; for a user's
data, a part of the samples not held out: converters/common/heldout). When it misses the budget, the candidates
are the layers the per-layer error report (converters/common/layer_error) blames most on that very artifact, in
its backend's own names: a Keras layer (found in LiteRT's and tf2onnx's node paths), an ONNX node output, a LiteRT
op, an OpenVINO op; each backend keeps them float its own way (LiteRT denylist or AI Edge Quantizer NO_QUANTIZE,
ONNX Runtime ``nodes_to_exclude``, NNCF ignored scope). A zoo recipe that names layer classes (transformer,
policy-mlp) keeps them as its candidates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgekit.reporting.fidelity import Fidelity, degradation

SINGLES = 6  # blamed layers tried alone in float, then together (best first)
MAX_CANDIDATES = 32  # the rest of the blame list joins in doubling steps (12, 24, 32) when those were not enough


@dataclass(frozen=True)
class Budget:
    """What an int8 artifact must meet on validation samples: ``max_drop`` points of a proportion (% of fp32 for
    other zoo metrics) with labels or a zoo metric; without labels, the fidelity thresholds vs fp32."""

    max_drop: float | None
    fidelity: Fidelity


@dataclass(frozen=True)
class Validation:
    """The samples a search decides on: never the ones the report scores."""

    inputs: dict[str, np.ndarray]
    labels: np.ndarray | None
    origin: str


@dataclass(frozen=True)
class Scorer:
    """How one run scores an int8 artifact on validation: FallbackDecision's header fields and the function."""

    metric: str
    reference: float
    tolerance: float
    higher_is_better: bool
    score: Callable[[Path], float | tuple[float, bool]]
    split: str
    reference_is: str = "fp32"  # "fp32": fp32's score on validation; "bound": the value a fidelity budget needs

    def judge(self, path: Path) -> tuple[float, bool]:
        """The artifact's score and whether it is within the budget."""
        scored = self.score(path)
        if isinstance(scored, tuple):
            return scored
        sign = 1.0 if self.higher_is_better else -1.0
        return scored, sign * (self.reference - scored) <= self.tolerance


def make_scorer(src, recipe, budget: Budget | None, validation: Validation | None, primary: str,
                classes: bool) -> Scorer:
    """A zoo model is scored by its task metric on its validation split; a user's model by top-1 on labelled
    validation samples when ``budget.max_drop`` is set, else by the fidelity thresholds (every output's SNR, the
    per-sample cosine 95 % reach, top-1 agreement of class scores), ranked by the worst output's SNR."""
    from edgekit.runtime import open_session

    if validation is None:  # a zoo model: its own validation split and task metric
        zoo, metric = src.zoo, src.zoo.metric_definition
        reference = zoo.validate(src.reference())[zoo.metric]
        fraction = recipe.float_fallback_tolerance if budget is None or budget.max_drop is None else \
            budget.max_drop / 100
        return Scorer(metric.name, reference, round(metric.tolerance(fraction, reference), 6),
                      metric.higher_is_better, lambda path: zoo.validate(open_session(path).predict)[zoo.metric],
                      "zoo validation split")
    inputs = validation.inputs
    expected = src.reference()(inputs)
    if budget.max_drop is not None and validation.labels is not None:
        labels = validation.labels

        def top1(outputs) -> float:
            return float(np.mean(np.asarray(outputs[primary]).argmax(-1) == labels))

        return Scorer("top1", top1(expected), round(budget.max_drop / 100, 6), True,
                      lambda path: top1(open_session(path).predict(inputs)), validation.origin)
    from edgekit.converters.common.verify import agreement

    fidelity = budget.fidelity

    def judged(path: Path) -> tuple[float, bool]:
        found = agreement(expected, open_session(path).predict(inputs), primary, classes)
        return min(found["snr_db"].values()), not degradation(fidelity, found, classes, None, None, None, None)

    return Scorer("min SNR dB vs fp32 (fidelity thresholds)", fidelity.min_snr_db or 0.0, 0.0, True, judged,
                  validation.origin, reference_is="bound")


def blamed_layers(tensors, fp32_artifact: Path, int8_artifact: Path, feeds: list[dict], layers: list[str]) -> list[str]:
    """The layers that add the most error to ``int8_artifact`` (per-layer error vs its fp32 twin), worst first, at
    most MAX_CANDIDATES; a layer that adds nothing measurable is never a candidate."""
    from edgekit.converters.common.layer_error import layer_report
    from edgekit.converters.common.verify import SNR_CAP_DB

    # ranked by the error each layer adds; the report's threshold (its first layer below) plays no part here
    report = layer_report(tensors, fp32_artifact, int8_artifact, feeds, layers, threshold_db=0.0)
    blamed: list[str] = []
    for record in sorted(report.layers, key=lambda r: r.added_db):
        if record.added_db >= SNR_CAP_DB or len(blamed) == MAX_CANDIDATES:
            break
        if record.layer not in blamed:
            blamed.append(record.layer)
    return blamed


@dataclass(frozen=True)
class Search:
    """A run's request for a mixed-precision search of every int8 build (the Builder asks it for its Scorer once)."""

    src: object  # the SourceModel
    recipe: object
    budget: Budget
    validation: Validation | None  # None: a zoo model's validation split
    primary: str
    classes: bool
    rank_inputs: dict[str, np.ndarray]  # samples the per-layer error ranking candidates runs on (never held-out)
    layers: bool = True  # search float layers; False: the Scorer only judges speed variants (speed_guard)

    def scorer(self) -> Scorer:
        return make_scorer(self.src, self.recipe, self.budget, self.validation, self.primary, self.classes)
