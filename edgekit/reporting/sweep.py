"""prune-sweep's table (sweep.md, terminal) and its accuracy-vs-latency charts (one SVG per target)."""

from __future__ import annotations

from pathlib import Path

from edgekit._fs import atomic_write_text
from edgekit.reporting.metric import Metric
from edgekit.reporting.summary import format_table


def _mb(n: int) -> str:
    return f"{n / 1024:.0f} KiB"


def render_sweep(sweep: dict, charts: list[str] | None = None, markdown: bool = True) -> str:
    heads = ["target", "precision", "ratio", "MACs", "params", "sparsity", "size", "gzip", "gzip gain",
             "metric", "Δ vs unpruned", "p50 ms", "speed-up"]
    cells = []
    for r in sweep["rows"]:
        metric = Metric(r["metric"], r["unit"]) if r["metric"] else None
        delta = r.get("delta")
        cells.append([r["target"], r["precision"], f"{r['ratio']:g}", f"{r['macs'] / 1e6:.2f} M" if r["macs"] else "-",
                      f"{r['params']:,}" if r["params"] else "-", f"{r['sparsity']:.1%}", _mb(r["size_bytes"]),
                      _mb(r["gzip_bytes"]), f"{r['gzip_ratio']:.2f}x",
                      "-" if r["value"] is None else f"{r['metric']} {r['value']:.4f}",
                      "-" if delta is None or metric is None else (
                          f"{100 * delta:+.2f} pt" if metric.is_proportion else f"{delta:+.4g}"),
                      f"{r['latency_median_ms']:.3f}", f"{r['speedup']:.2f}x"])
    table = format_table(heads, cells, markdown=markdown)
    if not markdown:
        return table
    lines = [f"# edgekit prune-sweep: {sweep['model']} ({sweep['method']})", "",
             f"- latency: {sweep['latency']}", "- accuracy: held-out data with each target's runtime", "",
             table, ""]
    lines += [f"![{c}]({c})" for c in charts or []]
    return "\n".join(lines) + "\n"


def write_charts(sweep: dict, directory: Path) -> list[str]:
    """One accuracy-vs-latency chart per (target, precision); marker area = gzip size."""
    from edgekit.reporting.svg import scatter

    names = []
    for key in dict.fromkeys((r["target"], r["precision"]) for r in sweep["rows"]):
        mine = [r for r in sweep["rows"] if (r["target"], r["precision"]) == key and r["value"] is not None]
        if not mine:
            continue
        series = {f"{sweep['method']} pruning": [
            {"x": r["latency_median_ms"], "y": r["value"], "size": r["gzip_bytes"],
             "label": f"{r['ratio']:g} ({_mb(r['gzip_bytes'])})"} for r in mine]}
        svg = scatter(series, title=f"{sweep['model']} on {key[0]} ({key[1]})", x_label="host p50 latency (ms)",
                      y_label=mine[0]["metric"], size_label="gzip size")
        name = f"{key[0]}-{key[1]}.svg"
        atomic_write_text(directory / name, svg)
        names.append(name)
    return names
