"""The convert summary: one row per artifact, as a table for the terminal and for report.md."""

from __future__ import annotations

from pathlib import Path

from edgekit.profiling.latency import HIGH_COV
from edgekit.profiling.stats import drop_interval, sample_count, wilson

COLUMNS = (
    ("target", "target"), ("format", "format"), ("precision", "precision"), ("size", "size"), ("gzip", "gzip"),
    ("metric", "metric"), ("delta", "Δ vs fp32"), ("agree", "top-1 agree"), ("snr", "SNR dB (min)"),
    ("p50", "host p50 ms"), ("p90", "host p90 ms"),
)


def summary_rows(reports: list[dict], model_dir: Path) -> list[dict]:
    rows = []
    for r in reports:
        metric = r["metric"]
        value = r["metrics"].get(metric) if metric else None
        ref = r["reference_metrics"].get(metric) if metric else None
        proportion = (r.get("metric_info") or {}).get("unit", "proportion") == "proportion"
        known = value is not None and ref is not None
        agreement = r["agreement"]
        n = sample_count(r["metrics"])
        ci = wilson(value, n) if known and proportion and n and 0 <= value <= 1 else None
        drop = _drop_ci(value, ref, n, r["metric_info"]) if ci and 0 <= ref <= 1 else None
        rows.append({
            "target": r["target"],
            "format": r["format"],
            "runtime": r.get("runtime"),
            "precision": r["precision"],
            "path": str(model_dir / r["target"] / r["precision"] / r["artifact"]["file"]),
            "size_bytes": r["artifact"]["size_bytes"],
            "gzip_bytes": r["artifact"].get("gzip_bytes"),
            "metric": metric,
            "value": value,
            "unit": "proportion" if proportion else r["metric_info"]["unit"],
            # A proportion moves in points; other metrics (errors in MW...) move relative to fp32.
            "delta_points": round(100 * (value - ref), 2) if known and proportion else None,
            "delta_percent": round(100 * (value - ref) / abs(ref), 2) if known and not proportion and ref else None,
            # 95 % Wilson interval of the metric on its n held-out samples: differences inside it are noise
            "ci95": [round(ci[0], 4), round(ci[1], 4)] if ci else None,
            # 95 % interval of the drop vs fp32 in points (positive = worse than fp32), see stats.drop_interval
            "drop_ci95": drop,
            "n_evaluated": n,
            "top1_agreement": agreement.get("top1_agreement"),
            "snr_db_min": min(agreement["snr_db"].values()),
            "latency_median_ms": r["latency"]["median_ms"],
            "latency_p90_ms": r["latency"]["p90_ms"],
            "latency_p99_ms": r["latency"]["p99_ms"],
            "latency_cov": r["latency"].get("cov"),
            "float_fallback": _fallback_summary(r.get("float_fallback")),
        })
    return rows


def _drop_ci(value: float, ref: float, n: int, info: dict) -> list[float]:
    lo, hi = drop_interval(value, ref, n)
    if not info.get("higher_is_better", True):  # an error rate: worse means higher
        lo, hi = -hi, -lo
    return [round(100 * lo, 2), round(100 * hi, 2)]


def _fallback_summary(decision: dict | None) -> dict | None:
    if not decision:
        return None
    first = decision["trials"][0]["score"]
    return {"float_layers": decision["float_layers"], "reached": decision["reached"], "trials": len(decision["trials"]),
            "validation_reference": decision["reference"], "validation_all_int8": first,
            "validation_final": decision["score"], "tolerance": decision["tolerance"]}


def _size(n: int) -> str:
    return f"{n / 1024:.0f} KiB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.2f} MiB"


def _fmt(v, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def _delta(row: dict) -> str:
    if row.get("delta_points") is not None:
        ci = row.get("drop_ci95")
        # shown as a change (+ = better), like the point estimate; the interval is of the drop, so negate it
        return f"{row['delta_points']:+.2f} pt" + (f" [{-ci[1]:+.1f}, {-ci[0]:+.1f}]" if ci else "")
    if row.get("delta_percent") is not None:
        return f"{row['delta_percent']:+.2f} %"
    return "-"


def table_cells(row: dict) -> dict[str, str]:
    return {
        "target": row["target"], "format": row["format"], "precision": row["precision"],
        "size": _size(row["size_bytes"]),
        "gzip": "-" if row.get("gzip_bytes") is None else _size(row["gzip_bytes"]),
        "metric": "-" if row["value"] is None else
        f"{row['metric']} {row['value']:{'.4f' if row.get('unit', 'proportion') == 'proportion' else '.4g'}}"
        + (f" [{row['ci95'][0]:.3f}, {row['ci95'][1]:.3f}]" if row.get("ci95") else ""),
        "delta": _delta(row),
        "agree": _fmt(row["top1_agreement"], ".4f"),
        "snr": _fmt(row["snr_db_min"], ".1f"),
        "p50": _fmt(row["latency_median_ms"], ".2f"),
        "p90": _fmt(row["latency_p90_ms"], ".2f"),
    }


def format_table(heads: list[str], rows: list[list[str]], markdown: bool = False) -> str:
    """Aligned plain-text (terminal) or Markdown table."""
    widths = [max(len(str(x)) for x in col) for col in zip(heads, *rows)]

    def line(values):
        padded = [str(v).ljust(w) for v, w in zip(values, widths)]
        return ("| " + " | ".join(padded) + " |") if markdown else "  ".join(padded).rstrip()

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|" if markdown else "  ".join("-" * w for w in widths)
    return "\n".join([line(heads), rule, *(line(r) for r in rows)])


def render_table(rows: list[dict], markdown: bool = False) -> str:
    cells = [table_cells(r) for r in rows]
    return format_table([h for _, h in COLUMNS], [[c[k] for k, _ in COLUMNS] for c in cells], markdown)


def pruning_lines(p: dict) -> list[str]:
    """What pruning did, in a few lines: MACs, parameters, sparsity, fine-tuning, warnings."""
    lines = [f"pruning {p['method']}:{p['ratio']:g}: MACs {p['macs']['before']:,} -> {p['macs']['after']:,} "
             f"({p['macs']['before'] / max(p['macs']['after'], 1):.2f}x fewer), parameters "
             f"{p['params']['before']:,} -> {p['params']['after']:,}"]
    if "sparsity" in p:
        sp = p["sparsity"]
        lines.append(f"sparsity: {sp['pruned_layers_sparsity']:.1%} of the {len(sp['per_layer'])} pruned kernels, "
                     f"{sp['model_sparsity']:.1%} of all {sp['model_weights']:,} weights")
    if "groups" in p:
        cut = ", ".join(f"{g['producers'][0]} {g['channels_before']}->{g['channels_after']}" for g in p["groups"])
        lines.append(f"channels: {cut}")
    lines.append("kept unpruned: " + (", ".join(p["excluded_layers"]) or "-"))
    ft = p.get("fine_tuning")
    lines.append(f"fine-tuned {ft['epochs']} epochs ({ft['steps']} steps, {ft['seconds']} s) on {ft['data']}"
                 if ft else "not fine-tuned")
    return lines + [f"WARNING: {w}" for w in p.get("warnings", [])]


def render_markdown(summary: dict) -> str:
    lines = [f"# edgekit convert: {summary['model']}", ""]
    lines.append(f"- source: {summary['source']['kind']} (sha256 {summary['source']['sha256'][:16]}…), "
                 f"recipe `{summary['recipe']}`")
    lines.append(f"- evaluated on: {summary['evaluated_on']}")
    if summary["reference_metrics"]:
        ref = ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                        for k, v in summary["reference_metrics"].items())
        lines.append(f"- fp32 Keras reference: {ref}")
    for k, v in summary["baseline"].items():
        lines.append(f"- baseline {k}: {v:.4f}")
    lines.append(f"- wall time: {summary['wall_seconds']} s")
    if summary.get("pruning"):
        lines += ["", "## Pruning", "", *(f"- {line}" for line in pruning_lines(summary["pruning"]))]
        per_layer = summary["pruning"].get("sparsity", {}).get("per_layer", {})
        if per_layer:
            lines += ["", format_table(["layer", "weights", "zeros", "sparsity"],
                                       [[k, str(v["weights"]), str(v["zeros"]), f"{v['sparsity']:.4f}"]
                                        for k, v in per_layer.items()], markdown=True)]
    lines += ["", render_table(summary["artifacts"], markdown=True), ""]
    lines.append("Accuracy is measured with each target's runtime on the host CPU; a proportion shows its 95 % "
                 "Wilson interval over the held-out samples, so a difference inside it is not evidence. Latency "
                 "is host latency (median and p90 after a warm-up run until stable), not device latency.")
    noisy = [f"{r['target']} {r['precision']} (CoV {r['latency_cov']:.2f})" for r in summary["artifacts"]
             if r.get("latency_cov") is not None and r["latency_cov"] > HIGH_COV]
    if noisy:
        lines.append(f"High latency variation (coefficient of variation > {HIGH_COV}): {', '.join(noisy)} — the "
                     "host was busy or throttling; re-measure before comparing these.")
    if summary.get("notes"):
        lines += ["", "## Known limits", "", *(f"- {n}" for n in summary["notes"])]
    if summary.get("sanity"):
        lines += ["", "## Sanity checks", "", *(f"- **{f['check']}** ({f['artifact']}): {f['message']}"
                                                  for f in summary["sanity"])]
    decided = [r for r in summary["artifacts"] if r.get("float_fallback")]
    if decided:
        lines += ["", "## Mixed precision (decided on the validation split)", ""]
        for r in decided:
            f = r["float_fallback"]
            kept = ", ".join(f["float_layers"]) or "none: every layer int8"
            lines.append(f"- {r['target']} {r['precision']}: float layers: {kept} — validation {r['metric']} "
                         f"fp32 {f['validation_reference']:.4f}, all-int8 {f['validation_all_int8']:.4f}, "
                         f"final {f['validation_final']:.4f} (tolerance {f['tolerance']}, {f['trials']} trial(s)"
                         f"{'' if f['reached'] else ', tolerance NOT reached'})")
    return "\n".join(lines) + "\n"
