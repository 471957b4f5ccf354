"""Typed records the stages hand each other: one artifact's convert report, the convert summary of a model
directory, and a device profile. Each owns its schema tag and its JSON form (schemas/reports-1.json); producers
build them, and reporting, gates, diff, sweep and the CLI read attributes, never re-key dicts.

Measurements that are already self-describing (latency statistics, agreement, device state) stay mappings
inside a record: they are written as they were measured.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from edgekit.profiling.stats import sample_count
from edgekit.reporting.metric import Metric

CONVERT_REPORT = "edgekit.convert-report/1"
CONVERT_SUMMARY = "edgekit.convert-summary/1"
DEVICE_PROFILE = "edgekit.device-profile/1"


def _value(metric: Metric | None, metrics: dict) -> float | None:
    return metrics.get(metric.name) if metric else None


class _Measured:
    """What a report of one artifact's measurements shares: its metric's value next to fp32's, and a JSON form
    where the metric is written as its name plus ``metric_info``."""

    SCHEMA: str
    metric: Metric | None
    metrics: dict
    reference_metrics: dict

    @property
    def value(self) -> float | None:
        return _value(self.metric, self.metrics)

    @property
    def reference(self) -> float | None:
        return _value(self.metric, self.reference_metrics)

    @property
    def n_evaluated(self) -> int | None:
        return sample_count(self.metrics)

    def to_json(self) -> dict:
        out = {"schema": self.SCHEMA}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        out["metric"] = self.metric.name if self.metric else None
        out["metric_info"] = self.metric.to_json() if self.metric else None
        return out

    @classmethod
    def from_json(cls, doc: dict):
        kwargs = {f.name: doc.get(f.name) for f in fields(cls) if f.name in doc}
        kwargs["metric"] = Metric.from_json(doc.get("metric_info"), doc.get("metric"))
        for f in fields(cls):
            if isinstance(kwargs.get(f.name), list) and str(f.type).startswith("tuple"):
                kwargs[f.name] = tuple(kwargs[f.name])
        return cls(**kwargs)


@dataclass(frozen=True)
class ConvertReport(_Measured):
    """``<target>/<precision>/report.json``: one verified artifact."""

    SCHEMA = CONVERT_REPORT

    model: str
    target: str
    format: str
    precision: str
    artifact: dict  # file, size_bytes, gzip_bytes
    evaluated_on: str
    metric: Metric | None
    metrics: dict
    reference_metrics: dict
    agreement: dict
    latency: dict
    cold_start: dict
    memory: dict
    runtime: str
    runtime_options: dict
    device_runtime: dict
    float_fallback: dict | None
    metadata: dict
    built_at: str | None = None  # when the artifact was built and verified (UTC, ISO 8601)
    evaluation: dict | None = None  # sha256 and sample count of the data it was verified on
    fidelity: dict | None = None  # thresholds and the degradation verdict (edgekit.reporting.fidelity.judge)
    layers: dict | None = None  # per-layer error vs fp32 of a calibrated artifact (layers.json's summary)
    ops: dict | None = None  # per-op profile of a calibrated artifact (ops.json's summary: edgekit/profiling/op_profile)
    int8_speed: dict | None = None  # int8 timed against fp32 and the faster variants tried (converters/common/speed_guard)

    @property
    def degraded(self) -> tuple[str, ...]:
        """Why this artifact is degraded vs fp32 (empty: healthy, or judged by an edgekit that did not judge)."""
        return tuple((self.fidelity or {}).get("degraded", ()))

    @property
    def key(self) -> tuple[str, str]:
        return self.target, self.precision


@dataclass(frozen=True)
class SummaryRow:
    """One artifact in the summary table (``summary.json`` -> ``artifacts``)."""

    target: str
    format: str
    runtime: str | None
    precision: str
    path: str
    size_bytes: int
    gzip_bytes: int | None
    metric: str | None
    value: float | None
    unit: str
    delta_points: float | None  # value - fp32 in points (proportions)
    delta_percent: float | None  # value vs fp32 in % (other metrics)
    ci95: list[float] | None  # Wilson interval of value
    drop_ci95: list[float] | None  # interval of the drop vs fp32 in points, positive = worse
    n_evaluated: int | None
    top1_agreement: float | None
    snr_db_min: float
    latency_median_ms: float
    latency_p90_ms: float
    latency_p99_ms: float
    latency_cov: float | None
    float_fallback: dict | None
    built_at: str | None = None
    degraded: tuple[str, ...] = ()  # why it is degraded vs fp32 (ConvertReport.degraded)
    layers: dict | None = None  # per-layer error summary (ConvertReport.layers)
    ops: dict | None = None  # per-op profile summary (ConvertReport.ops)
    int8_speed: dict | None = None  # ConvertReport.int8_speed
    throughput_per_s: float | None = None  # host inferences per second, batch 1 in sequence (1000 / mean ms)

    @property
    def name(self) -> str:
        return f"{self.target} {self.precision}"

    @classmethod
    def of(cls, report: ConvertReport, path: Path) -> SummaryRow:
        m, value, ref, n = report.metric, report.value, report.reference, report.n_evaluated
        change = m.change(value, ref) if m else None
        return cls(
            target=report.target, format=report.format, runtime=report.runtime, precision=report.precision,
            path=str(path), size_bytes=report.artifact["size_bytes"], gzip_bytes=report.artifact.get("gzip_bytes"),
            metric=m.name if m else None, value=value, unit=m.unit if m else "proportion",
            delta_points=round(change, 2) if change is not None and m.is_proportion else None,
            delta_percent=round(change, 2) if change is not None and not m.is_proportion else None,
            ci95=m.interval(value, n) if m and ref is not None else None,
            drop_ci95=m.drop_interval(value, ref, n) if m else None,
            n_evaluated=n, top1_agreement=report.agreement.get("top1_agreement"),
            snr_db_min=min(report.agreement["snr_db"].values()),
            latency_median_ms=report.latency["median_ms"], latency_p90_ms=report.latency["p90_ms"],
            latency_p99_ms=report.latency["p99_ms"], latency_cov=report.latency.get("cov"),
            float_fallback=_fallback_summary(report.float_fallback), built_at=report.built_at,
            degraded=report.degraded, layers=report.layers, ops=report.ops, int8_speed=report.int8_speed,
            throughput_per_s=report.latency.get("throughput_per_s"),
        )

    def to_json(self) -> dict:
        return {**asdict(self), "degraded": list(self.degraded)}

    @classmethod
    def from_json(cls, doc: dict) -> SummaryRow:
        return cls(**{f.name: doc.get(f.name) for f in fields(cls) if f.name != "degraded"},
                   degraded=tuple(doc.get("degraded", ())))


def _fallback_summary(decision: dict | None) -> dict | None:
    if not decision:
        return None
    return {"metric": decision["metric"], "split": decision.get("split"), "candidates": decision.get("candidates", []),
            "float_layers": decision["float_layers"], "reached": decision["reached"], "trials": len(decision["trials"]),
            "validation_reference": decision["reference"], "validation_all_int8": decision["trials"][0]["score"],
            "validation_final": decision["score"], "tolerance": decision["tolerance"],
            "reference_is": decision.get("reference_is", "fp32")}


@dataclass(frozen=True)
class FailedCell:
    """A (target, precision) of the last run that could not be built or verified, and why (one line)."""

    target: str
    format: str
    precision: str
    error: str

    @property
    def name(self) -> str:
        return f"{self.target} {self.precision}"


def failures_line(failed: list[FailedCell]) -> str:
    """One line for a run's failed cells; cells that failed for the same reason (onnx2tf cannot translate the
    model: every LiteRT cell) are named together, so the reason is printed once."""
    names: dict[str, list[str]] = {}
    for f in failed:
        names.setdefault(f.error, []).append(f.name)
    return (f"{len(failed)} of the requested conversions failed: "
            + "; ".join(f"{', '.join(cells)}: {error}" for error, cells in names.items()))


@dataclass(frozen=True)
class ConvertSummary:
    """``build/<model>/summary.json``: every verified artifact in the model directory, whichever run made it."""

    SCHEMA = CONVERT_SUMMARY

    model: str
    source: dict  # kind, sha256
    recipe: str
    metric: Metric | None
    evaluated_on: str
    reference_metrics: dict
    baseline: dict
    pruning: dict | None
    notes: tuple[str, ...]
    artifacts: tuple[SummaryRow, ...]
    sanity: tuple[dict, ...] = ()
    wall_seconds: float = 0.0
    not_listed: tuple[str, ...] = field(default=())  # artifacts on disk from another source or evaluation
    failed: tuple[FailedCell, ...] = field(default=())  # cells of the last run that failed, with why
    degraded: tuple[str, ...] = field(default=())  # names of the last run's cells that are degraded vs fp32

    @property
    def reference(self) -> float | None:
        return _value(self.metric, self.reference_metrics)

    def to_json(self) -> dict:
        return {"schema": self.SCHEMA, "model": self.model, "source": self.source, "recipe": self.recipe,
                "metric": self.metric.name if self.metric else None,
                "metric_info": self.metric.to_json() if self.metric else None,
                "evaluated_on": self.evaluated_on, "reference_metrics": self.reference_metrics,
                "baseline": self.baseline, "pruning": self.pruning, "notes": list(self.notes),
                "artifacts": [r.to_json() for r in self.artifacts], "sanity": list(self.sanity),
                "wall_seconds": self.wall_seconds, "not_listed": list(self.not_listed),
                "failed": [asdict(f) for f in self.failed], "degraded": list(self.degraded)}

    @classmethod
    def from_json(cls, doc: dict) -> ConvertSummary:
        return cls(model=doc["model"], source=doc["source"], recipe=doc["recipe"],
                   metric=Metric.from_json(doc.get("metric_info"), doc.get("metric")),
                   evaluated_on=doc["evaluated_on"], reference_metrics=doc["reference_metrics"],
                   baseline=doc["baseline"], pruning=doc.get("pruning"), notes=tuple(doc.get("notes", ())),
                   artifacts=tuple(SummaryRow.from_json(r) for r in doc["artifacts"]),
                   sanity=tuple(doc.get("sanity", ())), wall_seconds=doc.get("wall_seconds", 0.0),
                   not_listed=tuple(doc.get("not_listed", ())),
                   failed=tuple(FailedCell(**f) for f in doc.get("failed", ())),
                   degraded=tuple(doc.get("degraded", ())))


@dataclass(frozen=True)
class DeviceProfile(_Measured):
    """``build/devices/<device>/<app>/report.json``: what the agent measured on the device, with what the
    workstation adds (``accuracy``: intervals; ``sanity``: findings)."""

    SCHEMA = DEVICE_PROFILE

    app: str
    model: str
    target: str
    format: str
    precision: str
    runtime: str
    runtime_options: dict
    release: str
    device: dict  # machine, system, release, python, node; address (added by the workstation)
    cold_start: dict
    latency: dict
    pipeline: dict | None
    soak: dict | None
    device_state: dict | None
    memory: dict
    artifact_bytes: int
    metric: Metric | None
    metrics: dict
    workstation_metrics: dict
    reference_metrics: dict
    calibration: dict | None
    accuracy: dict | None = None
    sanity: tuple[dict, ...] = ()

    @property
    def name(self) -> str:
        """The device and the app, as findings and gates name them."""
        return f"{self.device.get('address', self.device['node'])} {self.app}"

