"""When a converted artifact counts as degraded: the one judgement every cell of ``edgekit convert`` gets.

An artifact is scored against the fp32 source on held-out inputs never used for calibration: per output its SNR and
the cosine similarity 95 % of samples reach, top-1 agreement where the primary output holds class scores, and, with
labels, the task metric's drop. The thresholds are data: each recipe carries a ``Fidelity`` (chosen by measuring the
zoo and the bring-your-own corpus, see converters/recipes), the CLI and API can override each field, and a report
records the thresholds it was judged by next to the verdict. Light on purpose (stdlib only).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from edgekit.errors import EdgekitError, UsageError, did_you_mean
from edgekit.reporting.metric import Metric, change_interval


@dataclass(frozen=True)
class Fidelity:
    """How close to fp32 an artifact must stay; a cell outside any bound is degraded. None: not judged (a
    recipe whose task metric is the only meaningful measure, e.g. a controller judged by its closed-loop return)."""

    min_snr_db: float | None = 10.0  # every output's SNR vs fp32 over the held-out set
    min_cosine: float | None = 0.90  # every output's per-sample cosine similarity vs fp32, 5th percentile
    min_top1_agreement: float | None = 0.90  # argmax agreement of a class-score primary output
    max_drop_points: float = 1.0  # a labelled proportion: a drop whose 95 % interval excludes 0 and exceeds this
    max_drop_percent: float = 10.0  # any other task metric: a drop (worse by this % of fp32) — no interval exists

    def __post_init__(self):
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None and f.name.startswith("min_"):
                continue
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value != value:
                raise ValueError(f"Fidelity.{f.name} must be a number. Got: {value!r}")
        if not (0 <= (self.min_top1_agreement or 0) <= 1 and -1 <= (self.min_cosine or 0) <= 1):
            raise ValueError(f"Fidelity: min_top1_agreement is in [0, 1] and min_cosine in [-1, 1]. "
                             f"Got: {self.min_top1_agreement}, {self.min_cosine}")

    def overridden(self, values: Mapping[str, float | None] | None) -> Fidelity:
        """This fidelity with the fields the user set (None = keep the recipe's)."""
        names = [f.name for f in dataclasses.fields(self)]
        unknown = sorted(set(values or ()) - set(names))
        if unknown:
            raise UsageError(f"Unknown fidelity threshold {unknown[0]!r}.{did_you_mean(unknown[0], names)}",
                             got=f"{sorted(values)}", tip=f"Known thresholds: {', '.join(names)}.")
        try:
            return dataclasses.replace(self, **{k: v for k, v in (values or {}).items() if v is not None})
        except ValueError as exc:
            raise UsageError(f"Invalid fidelity threshold: {exc}", got=f"{dict(values)}") from None

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


def degradation(fidelity: Fidelity, agreement: dict, classes: bool, metric: Metric | None, value: float | None,
                reference: float | None, drop_ci95: list[float] | None) -> list[str]:
    """Why the artifact is degraded, worst first (empty: healthy). ``agreement`` is verify.agreement's record;
    ``classes`` says its top-1 agreement is of class scores; ``drop_ci95`` is Metric.drop_interval's."""
    reasons = []
    nonfinite = agreement.get("nonfinite", {})
    for name, count in sorted(nonfinite.items()):
        reasons.append(f"output '{name}' has {count} NaN/Inf values")
    snr = agreement["snr_db"] if fidelity.min_snr_db is not None else {}
    for name in sorted((k for k in snr if snr[k] < fidelity.min_snr_db and k not in nonfinite), key=snr.get):
        reasons.append(f"output '{name}' SNR {snr[name]:.1f} dB < {fidelity.min_snr_db:g} dB")
    cosine = agreement.get("cosine_p05", {}) if fidelity.min_cosine is not None else {}
    for name in sorted((k for k in cosine if cosine[k] < fidelity.min_cosine and k not in nonfinite), key=cosine.get):
        reasons.append(f"output '{name}': 1 in 20 held-out samples has cosine similarity below {cosine[name]:.3f} "
                       f"(< {fidelity.min_cosine:g})")
    top1 = agreement.get("top1_agreement")
    if classes and top1 is not None and fidelity.min_top1_agreement is not None and \
            top1 < fidelity.min_top1_agreement:
        reasons.append(f"top-1 agreement with fp32 {top1:.3f} < {fidelity.min_top1_agreement:g}")
    drop = metric.drop(value, reference) if metric else None
    if drop is not None:
        if metric.is_proportion:
            if drop_ci95 and drop_ci95[0] > 0 and drop > fidelity.max_drop_points:
                reasons.append(f"{metric.name} {drop:.2f} pt below fp32 (95 % interval of the change "
                               f"{change_interval(drop_ci95)} pt) > {fidelity.max_drop_points:g} pt")
        elif drop > fidelity.max_drop_percent:
            reasons.append(f"{metric.name} {metric.format(value)} is {drop:.1f} % worse than fp32's "
                           f"{metric.format(reference)} (> {fidelity.max_drop_percent:g} %)")
    return reasons


def judge(fidelity: Fidelity, report, classes: bool) -> dict:
    """The ``fidelity`` record of a ConvertReport: the thresholds, whether top-1 agreement was judged, and why
    the artifact is degraded (empty: healthy)."""
    m = report.metric
    drop_ci95 = m.drop_interval(report.value, report.reference, report.n_evaluated) if m else None
    reasons = degradation(fidelity, report.agreement, classes, m, report.value, report.reference, drop_ci95)
    first = (report.layers or {}).get("first_below")
    if reasons and first:  # where it starts: the first layer below the threshold (converters/common/layer_error)
        at = "" if first["tensor"] == first["layer"] else f" at {first['tensor']}"
        reasons.append(f"the first layer below {report.layers['threshold_db']:g} dB is '{first['layer']}' "
                       f"({first['snr_db']:.1f} dB{at})")
    return {"thresholds": fidelity.to_json(), "classes": classes, "degraded": reasons}


class DegradedArtifacts(EdgekitError):
    """Artifacts were built and verified but are degraded vs fp32 beyond the fidelity thresholds (the artifacts
    and reports are written, marked DEGRADED)."""

    exit_code = 7


def enforce(summary, allow_degraded: bool) -> None:
    """Raise DegradedArtifacts when the run (a ConvertSummary) made degraded cells and the user did not allow them."""
    if not summary.degraded or allow_degraded:
        return
    rows = {r.name: r for r in summary.artifacts}
    detail = "; ".join(f"{name}: {rows[name].degraded[0]}" if name in rows and rows[name].degraded else name
                       for name in summary.degraded)
    error = DegradedArtifacts(
        f"{len(summary.degraded)} artifact(s) are degraded vs fp32 on held-out data: {detail}.",
        tip="The artifacts and reports are written (marked DEGRADED). Try fp16, more or better calibration data, "
        "or keep layers float; pass --allow-degraded to accept them, or relax a threshold (--min-snr-db, "
        "--min-cosine, --min-top1-agreement).")
    error.summary = summary
    raise error
