"""CI gates: fail a run, with its own exit code, when accuracy, latency or size crosses a limit."""

from __future__ import annotations

from dataclasses import dataclass

from edgekit.errors import EdgekitError


class GateFailed(EdgekitError):
    """One or more --max-* gates were violated (the artifacts and reports are still written)."""

    exit_code = 6


@dataclass(frozen=True)
class Gates:
    max_accuracy_drop: float | None = None  # points of a proportion metric below fp32 (or % for other metrics)
    max_p99_ms: float | None = None
    max_size_mb: float | None = None

    def any(self) -> bool:
        return any(v is not None for v in (self.max_accuracy_drop, self.max_p99_ms, self.max_size_mb))


def drop_of(value: float | None, reference: float | None, proportion: bool, higher_is_better: bool) -> float | None:
    """How much worse than fp32: points for a proportion, % of fp32 otherwise; positive = worse."""
    if value is None or reference is None:
        return None
    diff = (reference - value) if higher_is_better else (value - reference)
    return 100 * diff if proportion else (100 * diff / abs(reference) if reference else None)


def gate_row(name: str, size_bytes: int, p99_ms: float | None, metric_info: dict | None,
             value: float | None, reference: float | None) -> dict:
    """One artifact as the gates see it; the drop is measured the way its metric reads (see drop_of)."""
    info = metric_info or {}
    proportion = info.get("unit", "proportion") == "proportion"
    return {"name": name, "size_bytes": size_bytes, "p99_ms": p99_ms, "proportion": proportion,
            "drop": drop_of(value, reference, proportion, info.get("higher_is_better", True))}


def violations(rows: list[dict], gates: Gates) -> list[str]:
    """rows: name, drop (see drop_of), p99_ms, size_bytes. One line per violated gate and artifact."""
    out = []
    for r in rows:
        if gates.max_accuracy_drop is not None and r.get("drop") is not None and r["drop"] > gates.max_accuracy_drop:
            out.append(f"--max-accuracy-drop {gates.max_accuracy_drop:g}: {r['name']} drops {r['drop']:.2f} "
                       f"{'pt' if r.get('proportion', True) else '%'}")
        if gates.max_p99_ms is not None and r.get("p99_ms") is not None and r["p99_ms"] > gates.max_p99_ms:
            out.append(f"--max-p99-ms {gates.max_p99_ms:g}: {r['name']} p99 {r['p99_ms']:.3f} ms")
        if gates.max_size_mb is not None and r["size_bytes"] / 2**20 > gates.max_size_mb:
            out.append(f"--max-size-mb {gates.max_size_mb:g}: {r['name']} is {r['size_bytes'] / 2**20:.2f} MB")
    return out


def enforce(rows: list[dict], gates: Gates) -> None:
    failed = violations(rows, gates)
    if failed:
        raise GateFailed(f"{len(failed)} gate(s) failed: " + "; ".join(failed),
                         tip="The reports are written; relax the gate or fix the artifact (another precision, "
                         "more calibration data, a float-fallback tolerance).")
