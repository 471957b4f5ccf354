"""The convert summary: one row per artifact, as a table for the terminal and for report.md."""

from __future__ import annotations

from collections.abc import Sequence

from edgekit.profiling.latency import HIGH_COV
from edgekit.reporting.metric import Metric, change_interval
from edgekit.reporting.records import ConvertSummary, FailedCell, SummaryRow

COLUMNS = (
    ("target", "target"), ("format", "format"), ("precision", "precision"), ("size", "size"), ("gzip", "gzip"),
    ("metric", "metric"), ("delta", "Δ vs fp32"), ("agree", "top-1 agree"), ("snr", "SNR dB (min)"),
    ("p50", "host p50 ms"), ("p90", "host p90 ms"), ("p99", "host p99 ms"), ("rate", "host inf/s"),
    ("built", "built (UTC)"),
)


def _size(n: int) -> str:
    return f"{n / 1024:.0f} KiB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.2f} MiB"


def _fmt(v, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def _delta(row: SummaryRow) -> str:
    if row.delta_points is not None:
        ci = row.drop_ci95
        return f"{row.delta_points:+.2f} pt" + (f" {change_interval(ci)}" if ci else "")
    if row.delta_percent is not None:
        return f"{row.delta_percent:+.2f} %"
    return "-"


def table_cells(row: SummaryRow) -> dict[str, str]:
    metric = Metric(row.metric, row.unit) if row.metric else None
    return {
        "target": row.target, "format": row.format,
        "precision": row.precision + (" DEGRADED" if row.degraded else ""),  # why: the degraded check
        "size": _size(row.size_bytes),
        "gzip": "-" if row.gzip_bytes is None else _size(row.gzip_bytes),
        "metric": "-" if row.value is None or metric is None else f"{row.metric} {metric.format(row.value)}"
        + (f" [{row.ci95[0]:.3f}, {row.ci95[1]:.3f}]" if row.ci95 else ""),
        "delta": _delta(row),
        "agree": _fmt(row.top1_agreement, ".4f"),
        "snr": _fmt(row.snr_db_min, ".1f"),
        "p50": _fmt(row.latency_median_ms, ".2f"),
        "p90": _fmt(row.latency_p90_ms, ".2f"),
        "p99": _fmt(row.latency_p99_ms, ".2f"),  # what --max-p99-ms gates on
        "rate": _fmt(row.throughput_per_s, ".0f"),
        "built": (row.built_at or "-")[5:16].replace("T", " ") if row.built_at else "-",
    }


def format_table(heads: list[str], rows: list[list[str]], markdown: bool = False) -> str:
    """Aligned plain-text (terminal) or Markdown table."""
    widths = [max(len(str(x)) for x in col) for col in zip(heads, *rows)]

    def line(values):
        padded = [str(v).ljust(w) for v, w in zip(values, widths)]
        return ("| " + " | ".join(padded) + " |") if markdown else "  ".join(padded).rstrip()

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|" if markdown else "  ".join("-" * w for w in widths)
    return "\n".join([line(heads), rule, *(line(r) for r in rows)])


def render_table(rows: Sequence[SummaryRow], markdown: bool = False, failed: Sequence[FailedCell] = ()) -> str:
    """One line per verified artifact, then one per cell of the last run that failed (its reason follows the
    table: it is too long for a cell)."""
    cells = [[c[k] for k, _ in COLUMNS] for c in map(table_cells, rows)]
    cells += [[f.target, f.format, f.precision, "-", "-", "FAILED", *("-" for _ in COLUMNS[6:])] for f in failed]
    return format_table([h for _, h in COLUMNS], cells, markdown)


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


def layer_lines(name: str, layers: dict) -> list[str]:
    """An artifact's per-layer summary in a few lines: where SNR first falls below the threshold, the worst
    layers."""
    if "error" in layers:
        return [f"{name}: per-layer error not measured ({layers['error']})"]
    first = layers["first_below"]
    head = (f"{name}: first below {layers['threshold_db']:g} dB: '{first['layer']}' ({first['snr_db']:.1f} dB)"
            if first else f"{name}: every layer stays above {layers['threshold_db']:g} dB")
    worst = ", ".join(f"'{w['layer']}' adds {w['added_db']:.1f} dB (at {w['snr_db']:.1f})" for w in layers["worst"])
    return [f"{head}; worst: {worst} — {layers['compared']} tensors compared in {layers['seconds']:.1f} s"]


def render_markdown(summary: ConvertSummary) -> str:
    lines = [f"# edgekit convert: {summary.model}", ""]
    lines.append(f"- source: {summary.source['kind']} (sha256 {summary.source['sha256'][:16]}…), "
                 f"recipe `{summary.recipe}`")
    lines.append(f"- evaluated on: {summary.evaluated_on}")
    if summary.reference_metrics:
        ref = ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                        for k, v in summary.reference_metrics.items())
        lines.append(f"- fp32 Keras reference: {ref}")
    for k, v in summary.baseline.items():
        lines.append(f"- baseline {k}: {v:.4f}")
    lines.append(f"- wall time of the last run: {summary.wall_seconds} s")
    if summary.pruning:
        lines += ["", "## Pruning", "", *(f"- {line}" for line in pruning_lines(summary.pruning))]
        per_layer = summary.pruning.get("sparsity", {}).get("per_layer", {})
        if per_layer:
            lines += ["", format_table(["layer", "weights", "zeros", "sparsity"],
                                       [[k, str(v["weights"]), str(v["zeros"]), f"{v['sparsity']:.4f}"]
                                        for k, v in per_layer.items()], markdown=True)]
    lines += ["", render_table(summary.artifacts, markdown=True, failed=summary.failed), ""]
    if summary.failed:
        lines += [f"**FAILED in the last run** ({len(summary.failed)}):", "",
                  *(f"- {f.name} ({f.format}): {f.error}" for f in summary.failed), ""]
    lines.append("Every verified artifact in this directory, whichever run built it (column `built`). Accuracy is "
                 "measured with each target's runtime on the host CPU; a proportion shows its 95 % Wilson interval "
                 "over the held-out samples, so a difference inside it is not evidence. Latency is host latency "
                 "(median and p90 after a warm-up run until stable), not device latency.")
    noisy = [f"{r.name} (CoV {r.latency_cov:.2f})" for r in summary.artifacts
             if r.latency_cov is not None and r.latency_cov > HIGH_COV]
    if noisy:
        lines.append(f"High latency variation (coefficient of variation > {HIGH_COV}): {', '.join(noisy)} — the "
                     "host was busy or throttling; re-measure before comparing these.")
    if summary.not_listed:
        lines += ["", "## On disk but not listed", "", *(f"- {n}" for n in summary.not_listed)]
    if summary.notes:
        lines += ["", "## Known limits", "", *(f"- {n}" for n in summary.notes)]
    if summary.sanity:
        lines += ["", "## Sanity checks", "", *(f"- **{f['check']}** ({f['artifact']}): {f['message']}"
                                                  for f in summary.sanity)]
    explained = [r for r in summary.artifacts if r.layers]
    if explained:
        lines += ["", "## Where quantization loses accuracy (per layer, vs fp32 of the same format)", "",
                  "Accumulated SNR at each layer on 16 held-out samples, and the SNR of the error the layer itself "
                  "adds (lower is worse); `edgekit explain` prints every layer.", ""]
        lines += [f"- {line}" for r in explained for line in layer_lines(r.name, r.layers)]
    decided = mixed_precision_lines(summary)
    if decided:
        lines += ["", "## Mixed precision (decided on validation samples, never on the held-out ones)", ""]
        lines += [f"- {line}" for line in decided]
    faster = int8_speed_lines(summary)
    if faster:
        lines += ["", "## int8 slower than fp32 as built: faster int8 variants (timed here, scored on validation)", ""]
        lines += [f"- {line}" for line in faster]
    return "\n".join(lines) + "\n"


def mixed_precision_lines(summary) -> list[str]:
    """One line per searched int8 artifact: the layers kept float and the validation scores that decided it."""
    lines = []
    for r in summary.artifacts:
        f = r.float_fallback
        if not f:
            continue
        kept = ", ".join(f["float_layers"]) or "none: every layer int8"
        metric = f.get("metric") or r.metric
        tried = ", ".join(f.get("candidates") or ()) or "none"
        verdict = "" if f["reached"] else f"; budget NOT reached: no combination of the blamed layers ({tried}) met it"
        needed = "needed" if f.get("reference_is") == "bound" else "fp32"
        chosen = (r.int8_speed or {}).get("chosen", "as built")
        replaced = "" if chosen == "as built" else f"; then replaced by the faster variant '{chosen}' (int8 speed)"
        lines.append(f"{r.name}: float layers: {kept} — validation {metric}: {needed} {f['validation_reference']:.4f}, "
                     f"all-int8 {f['validation_all_int8']:.4f}, final {f['validation_final']:.4f} (tolerance "
                     f"{f['tolerance']}, {f['trials']} trial(s){verdict}{replaced})")
    return lines


def int8_speed_lines(summary) -> list[str]:
    """One line per int8 artifact whose build ran slower than fp32 here: the faster variants tried and the one
    kept (converters/common/speed_guard)."""
    lines = []
    for r in summary.artifacts:
        s = r.int8_speed
        if not s or not s.get("slower"):
            continue
        built, *variants = s["trials"]

        def trial(t: dict) -> str:
            if t["p50_ms"] is None:
                return f"{t['variant']}: not built ({t['error']})"
            scored = "" if t["score"] is None else (
                f", validation {t['score']:.4g} ({'within' if t['within_budget'] else 'outside'} the budget)")
            return f"{t['variant']} {t['p50_ms']:.3f} ms{scored}"

        kept = "kept as built (no variant was faster and as accurate)" if s["chosen"] == "as built" else \
            f"replaced by '{s['chosen']}'"
        lines.append(f"{r.name}: int8 as built {built['p50_ms']:.3f} ms vs fp32 {s['fp32_ms']:.3f} ms ({s['threads']} "
                     f"threads, this host) — tried {'; '.join(trial(t) for t in variants) or 'nothing (no variant)'}"
                     f" — {kept}")
    return lines
