"""CI gates: fail a run, with its own exit code, when accuracy, latency or size crosses a limit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from edgekit.errors import EdgekitError
from edgekit.reporting.records import ConvertSummary, DeviceProfile


class GateFailed(EdgekitError):
    """One or more --max-* gates were violated (the artifacts and reports are still written)."""

    exit_code = 6


@dataclass(frozen=True)
class Gates:
    max_accuracy_drop: float | None = None  # points of a proportion metric below fp32 (or % for other metrics)
    max_p99_ms: float | None = None
    max_size_mb: float | None = None


@dataclass(frozen=True)
class GateRow:
    """One artifact as the gates see it; the drop is measured the way its metric reads (Metric.drop)."""

    name: str
    size_bytes: int
    p99_ms: float | None
    drop: float | None
    drop_symbol: str = "pt"

    @classmethod
    def of_summary(cls, summary: ConvertSummary) -> list[GateRow]:
        m = summary.metric
        return [cls(r.name, r.size_bytes, r.latency_p99_ms, m.drop(r.value, summary.reference) if m else None,
                    m.drop_symbol if m else "pt") for r in summary.artifacts]

    @classmethod
    def of_profile(cls, p: DeviceProfile) -> GateRow:
        m = p.metric
        return cls(p.name, p.artifact_bytes, p.latency["p99_ms"], m.drop(p.value, p.reference) if m else None,
                   m.drop_symbol if m else "pt")


def violations(rows: Sequence[GateRow], gates: Gates) -> list[str]:
    """One line per violated gate and artifact."""
    out = []
    for r in rows:
        if gates.max_accuracy_drop is not None and r.drop is not None and r.drop > gates.max_accuracy_drop:
            out.append(f"--max-accuracy-drop {gates.max_accuracy_drop:g}: {r.name} drops {r.drop:.2f} {r.drop_symbol}")
        if gates.max_p99_ms is not None and r.p99_ms is not None and r.p99_ms > gates.max_p99_ms:
            out.append(f"--max-p99-ms {gates.max_p99_ms:g}: {r.name} p99 {r.p99_ms:.3f} ms")
        if gates.max_size_mb is not None and r.size_bytes / 2**20 > gates.max_size_mb:
            out.append(f"--max-size-mb {gates.max_size_mb:g}: {r.name} is {r.size_bytes / 2**20:.2f} MB")
    return out


def enforce(rows: Sequence[GateRow], gates: Gates) -> None:
    failed = violations(rows, gates)
    if failed:
        raise GateFailed(f"{len(failed)} gate(s) failed: " + "; ".join(failed),
                         tip="The reports are written; relax the gate or fix the artifact (another precision, "
                         "more calibration data, a float-fallback tolerance).")
