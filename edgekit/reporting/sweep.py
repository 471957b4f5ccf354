"""prune-sweep's table (sweep.md, terminal) and its accuracy-vs-latency charts (one SVG per target)."""

from __future__ import annotations

from pathlib import Path

from edgekit._fs import atomic_write_text
from edgekit.reporting.metric import Metric, change_interval
from edgekit.reporting.summary import format_table


OTHERS_NOTE = "in brackets: a proportion's change in points, 95 % interval on the samples that metric counts"


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
                          f"{100 * delta:+.2f} pt" + (f" {change_interval(r['delta_ci95'])}" if r.get("delta_ci95")
                                                      else "") if metric.is_proportion else f"{delta:+.4g}"),
                      f"{r['latency_median_ms']:.3f}", f"{r['speedup']:.2f}x"])
    table = format_table(heads, cells, markdown=markdown)
    others = other_metric_lines(sweep)
    if not markdown:
        return "\n".join([table, *(["", f"other metrics, unpruned -> pruned ({OTHERS_NOTE}):", *others]
                                    if others else [])])
    lines = [f"# edgekit prune-sweep: {sweep['model']} ({sweep['method']})", "",
             f"- latency: {sweep['latency']}", "- accuracy: held-out data with each target's runtime; Δ with its "
             "95 % interval vs the unpruned model on the same samples", "", table, ""]
    if others:
        lines += ["## Other metrics, unpruned -> pruned", "", f"({OTHERS_NOTE})", "",
                  *(f"- {line}" for line in others), ""]
    lines += [f"![{c}]({c})" for c in charts or []]
    return "\n".join(lines) + "\n"


def other_metric_lines(sweep: dict) -> list[str]:
    """One line per pruned row: each of the model's other metrics, unpruned -> pruned, and for a proportion with
    a known sample count its change in points with the 95 % interval."""
    lines, base = [], {}
    for r in sweep["rows"]:
        key = (r["target"], r["precision"])
        if r["ratio"] == 0:
            base[key] = r.get("metrics") or {}
            continue
        pairs = []
        for k, v in (r.get("metrics") or {}).items():
            if k not in base.get(key, {}):
                continue
            ci = (r.get("metrics_change_ci95") or {}).get(k)
            change = f" ({100 * (v - base[key][k]):+.2f} pt [{ci[0]:+.1f}, {ci[1]:+.1f}])" if ci else ""
            pairs.append(f"{k} {base[key][k]:.4g} -> {v:.4g}{change}")
        if pairs:
            lines.append(f"{r['target']} {r['precision']} {r['ratio']:g}: " + ", ".join(pairs))
    return lines


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
             "label": f"{r['ratio']:g} ({_mb(r['gzip_bytes'])})" if r["ratio"] else f"unpruned ({_mb(r['gzip_bytes'])})"}
            for r in mine]}
        svg = scatter(series, title=f"{sweep['model']} on {key[0]} ({key[1]})", x_label="host p50 latency (ms)",
                      y_label=mine[0]["metric"], size_label="gzip size",
                      y_max=1.0 if Metric(mine[0]["metric"], mine[0]["unit"]).is_proportion else None)
        name = f"{key[0]}-{key[1]}.svg"
        atomic_write_text(directory / name, svg)
        names.append(name)
    return names
