"""An on-device profile (edgekit.device.profile) as a Markdown report or a terminal summary.

The device sends raw measurements; the workstation adds what needs its code: intervals and sanity checks."""

from __future__ import annotations

from edgekit.profiling.stats import drop_interval, sample_count, wilson
from edgekit.reporting.gates import drop_of
from edgekit.reporting.sanity import device_checks
from edgekit.reporting.summary import format_table


def _fmt(v) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def accuracy_of(report: dict) -> dict | None:
    """The device's metric vs fp32 on the workstation, with 95 % intervals when the metric is a proportion."""
    metric = report.get("metric")
    value = report["metrics"].get(metric) if metric else None
    ref = report["reference_metrics"].get(metric) if metric else None
    if value is None:
        return None
    info = report.get("metric_info") or {}
    proportion = info.get("unit", "proportion") == "proportion"
    higher = info.get("higher_is_better", True)
    n = sample_count(report["metrics"])
    out = {"metric": metric, "value": value, "reference": ref, "n_evaluated": n,
           "drop": drop_of(value, ref, proportion, higher), "drop_unit": "points" if proportion else "percent",
           "ci95": None, "drop_ci95": None}
    if proportion and n and ref is not None and 0 <= value <= 1 and 0 <= ref <= 1:
        out["ci95"] = [round(x, 4) for x in wilson(value, n)]
        lo, hi = drop_interval(value, ref, n)
        lo, hi = (lo, hi) if higher else (-hi, -lo)
        out["drop_ci95"] = [round(100 * lo, 2), round(100 * hi, 2)]
    if out["drop"] is not None:
        out["drop"] = round(out["drop"], 3)
    return out


def enrich(report: dict) -> dict:
    """Add ``accuracy`` (intervals) and ``sanity`` (findings) to a profile fresh from a device."""
    report["accuracy"] = acc = accuracy_of(report)
    report["sanity"] = device_checks(report, acc["drop_ci95"] if acc else None, acc["n_evaluated"] if acc else None)
    return report


def render_profile(r: dict, markdown: bool = True) -> str:
    lat, mem, cold, dev = r["latency"], r["memory"], r["cold_start"], r["device"]
    heads = ["app", "target", "precision", "runtime", "load ms", "first ms", "p50 ms", "p90 ms", "p99 ms", "CoV",
             "runs", "peak RSS MB", "model RSS MB"]
    model_rss = mem.get("model_rss_increase_mb")
    row = [r["app"], r["target"], r["precision"], r["runtime"], f"{cold['load_ms']:.1f}",
           f"{cold['first_inference_ms']:.2f}", f"{lat['median_ms']:.3f}", f"{lat['p90_ms']:.3f}",
           f"{lat['p99_ms']:.3f}", f"{lat['cov']:.2f}", str(lat["runs"]), f"{mem['peak_rss_mb']:.0f}",
           "-" if model_rss is None else f"{model_rss:.1f}"]
    metric_rows = [[k, _fmt(v), _fmt(r["workstation_metrics"].get(k, "-"))] for k, v in r["metrics"].items()]
    table = format_table(heads, [row], markdown=markdown)
    metrics = format_table(["metric", "on the device", "on the workstation (same artifact)"], metric_rows,
                           markdown=markdown) if metric_rows else "(not evaluated)"
    where = (f"{dev.get('address', dev['node'])}: {dev['system']} {dev['machine']}, Python {dev['python']}, "
             f"release {r['release']}")
    extra = _details(r)
    if not markdown:
        return "\n".join([where, table, "", metrics, *extra])
    return "\n".join([f"# edgekit profile: {r['app']} on {dev.get('address', dev['node'])}", "", f"- {where}",
                      f"- latency: {lat['runs']} timed runs after {lat['warmup_runs']} warm-up, "
                      f"{lat['distinct_inputs']} distinct packed samples rotating", "", table, "", metrics, "",
                      *(f"- {line}" for line in extra), ""])


def _details(r: dict) -> list[str]:
    lines = []
    acc = r.get("accuracy")
    if acc and acc.get("drop_ci95"):
        lines.append(f"{acc['metric']} {acc['value']:.4f} [{acc['ci95'][0]:.3f}, {acc['ci95'][1]:.3f}] on "
                     f"{acc['n_evaluated']} samples; drop vs fp32 {acc['drop']:+.2f} pt, 95 % interval "
                     f"[{acc['drop_ci95'][0]:+.1f}, {acc['drop_ci95'][1]:+.1f}] pt")
    pipe = r.get("pipeline")
    if pipe:
        parts = ", ".join(f"{k} {v['ms_per_run']:.1f} ms ({v['share']:.0%})" for k, v in pipe["stages"].items())
        lines.append(f"demo pipeline {pipe['end_to_end_ms']:.1f} ms end to end: {parts}")
    state = r.get("device_state") or {}
    if state:
        src = state["sources"]
        if not (src["cpufreq"] or src["thermal_zones"] or src["pi_throttle"] or src["tegrastats"]):
            lines.append("device state: this machine exposes no CPU frequency, temperature or throttle sensors")
        else:
            lines.append(f"device state: max {state['max_temp_c']} °C (rise {state['temp_rise_c']} °C), CPU "
                         f"{state['min_cpu_mhz']}–{state['max_cpu_mhz']} MHz, "
                         + ("THROTTLED" if state["throttled"] else "not throttled"))
    soak = r.get("soak")
    if soak:
        lines.append(f"soak {soak['seconds']:.0f} s, {soak['runs']} runs: median first window "
                     f"{soak['windows'][0]['median_ms']:.3f} ms, last {soak['windows'][-1]['median_ms']:.3f} ms "
                     f"({soak['last_vs_first_median']:.2f}x)")
    lines += [f"check {f['check']}: {f['message']}" for f in r.get("sanity", [])]
    return lines
