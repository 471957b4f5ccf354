"""An on-device profile (edgekit.device.profile) as a Markdown report or a terminal summary."""

from __future__ import annotations

from edgekit.reporting.summary import format_table


def _fmt(v) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def render_profile(r: dict, markdown: bool = True) -> str:
    lat, mem, cold, dev = r["latency"], r["memory"], r["cold_start"], r["device"]
    heads = ["app", "target", "precision", "runtime", "load ms", "first ms", "p50 ms", "p90 ms", "p99 ms",
             "runs", "peak RSS MB", "model RSS MB"]
    row = [r["app"], r["target"], r["precision"], r["runtime"], f"{cold['load_ms']:.1f}",
           f"{cold['first_inference_ms']:.2f}", f"{lat['median_ms']:.3f}", f"{lat['p90_ms']:.3f}",
           f"{lat['p99_ms']:.3f}", str(lat["runs"]), f"{mem['peak_rss_mb']:.0f}", f"{mem['model_rss_increase_mb']:.1f}"]
    metric_rows = [[k, _fmt(v), _fmt(r["workstation_metrics"].get(k, "-"))] for k, v in r["metrics"].items()]
    table = format_table(heads, [row], markdown=markdown)
    metrics = format_table(["metric", "on the device", "on the workstation (same artifact)"], metric_rows,
                           markdown=markdown) if metric_rows else "(not evaluated)"
    where = (f"{dev.get('address', dev['node'])}: {dev['system']} {dev['machine']}, Python {dev['python']}, "
             f"release {r['release']}")
    if not markdown:
        return "\n".join([where, table, "", metrics])
    return "\n".join([f"# edgekit profile: {r['app']} on {dev.get('address', dev['node'])}", "", f"- {where}",
                      f"- latency: {lat['runs']} timed runs after {lat['warmup_runs']} warm-up, "
                      f"{lat['distinct_inputs']} distinct packed samples rotating", "", table, "", metrics, ""])
