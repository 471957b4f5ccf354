"""An on-device profile (edgekit.agent.profile) as a record, a Markdown report or a terminal summary.

The device sends raw measurements; the workstation adds what needs its code: intervals and sanity checks."""

from __future__ import annotations

import dataclasses

from edgekit.reporting.records import DeviceProfile
from edgekit.reporting.sanity import device_checks
from edgekit.reporting.summary import format_table


def _fmt(v) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def accuracy_of(profile: DeviceProfile) -> dict | None:
    """The device's metric vs fp32 on the workstation, with 95 % intervals when the metric is a proportion."""
    m, value, ref, n = profile.metric, profile.value, profile.reference, profile.n_evaluated
    if m is None or value is None:
        return None
    drop = m.drop(value, ref)
    return {"metric": m.name, "value": value, "reference": ref, "n_evaluated": n,
            "drop": None if drop is None else round(drop, 3), "drop_unit": m.drop_unit,
            "ci95": m.interval(value, n) if ref is not None else None, "drop_ci95": m.drop_interval(value, ref, n)}


def enrich(report: dict) -> DeviceProfile:
    """A profile fresh from a device as a record, with ``accuracy`` (intervals) and ``sanity`` (findings)."""
    profile = DeviceProfile.from_json(report)
    acc = accuracy_of(profile)
    return dataclasses.replace(profile, accuracy=acc, sanity=tuple(device_checks(profile, acc["drop_ci95"] if acc
                                                                                 else None)))


def render_profile(r: DeviceProfile, markdown: bool = True) -> str:
    lat, mem, cold, dev = r.latency, r.memory, r.cold_start, r.device
    heads = ["app", "target", "precision", "runtime", "load ms", "first ms", "p50 ms", "p90 ms", "p99 ms", "CoV",
             "runs", "peak RSS MB", "model RSS MB"]
    model_rss = mem.get("model_rss_increase_mb")
    row = [r.app, r.target, r.precision, r.runtime, f"{cold['load_ms']:.1f}",
           f"{cold['first_inference_ms']:.2f}", f"{lat['median_ms']:.3f}", f"{lat['p90_ms']:.3f}",
           f"{lat['p99_ms']:.3f}", f"{lat['cov']:.2f}", str(lat["runs"]), f"{mem['peak_rss_mb']:.0f}",
           "-" if model_rss is None else f"{model_rss:.1f}"]
    metric_rows = [[k, _fmt(v), _fmt(r.workstation_metrics.get(k, "-"))] for k, v in r.metrics.items()]
    table = format_table(heads, [row], markdown=markdown)
    metrics = format_table(["metric", "on the device", "on the workstation (same artifact)"], metric_rows,
                           markdown=markdown) if metric_rows else "(not evaluated)"
    where = (f"{dev.get('address', dev['node'])}: {dev['system']} {dev['machine']}, Python {dev['python']}, "
             f"release {r.release}")
    extra = _details(r)
    if not markdown:
        return "\n".join([where, table, "", metrics, *extra])
    return "\n".join([f"# edgekit profile: {r.app} on {dev.get('address', dev['node'])}", "", f"- {where}",
                      f"- latency: {lat['runs']} timed runs after {lat['warmup_runs']} warm-up, "
                      f"{lat['distinct_inputs']} distinct packed samples rotating", "", table, "", metrics, "",
                      *(f"- {line}" for line in extra), ""])


def ran_on(runtime: str, options: dict) -> str:
    """Which execution providers (ONNX Runtime) or device (OpenVINO) the session ran on, and what refused it."""
    if options.get("providers"):
        where = f"execution providers {' > '.join(options['providers'])}"
    elif options.get("device"):
        where = f"device {options['device']}"
    else:
        where = "CPU"
    refused = "; ".join(f"{k} refused it: {v}" for k, v in (options.get("devices_refused") or {}).items())
    return f"ran on {runtime} {where} with {options.get('threads') or 'default'} threads" + (
        f" ({refused})" if refused else "")


def _details(r: DeviceProfile) -> list[str]:
    lines = [ran_on(r.runtime, r.runtime_options)]
    acc = r.accuracy
    if acc and acc.get("drop_ci95"):
        lines.append(f"{acc['metric']} {acc['value']:.4f} [{acc['ci95'][0]:.3f}, {acc['ci95'][1]:.3f}] on "
                     f"{acc['n_evaluated']} samples; drop vs fp32 {acc['drop']:+.2f} pt, 95 % interval "
                     f"[{acc['drop_ci95'][0]:+.1f}, {acc['drop_ci95'][1]:+.1f}] pt")
    pipe = r.pipeline
    if pipe:
        parts = ", ".join(f"{k} {v['ms_per_run']:.1f} ms ({v['share']:.0%})" for k, v in pipe["stages"].items())
        lines.append(f"demo pipeline {pipe['end_to_end_ms']:.1f} ms end to end: {parts}")
    state = r.device_state or {}
    if state:
        src = state["sources"]
        if not (src["cpufreq"] or src["thermal_zones"] or src["pi_throttle"] or src["tegrastats"]):
            lines.append("device state: this machine exposes no CPU frequency, temperature or throttle sensors")
        else:
            lines.append(f"device state: max {state['max_temp_c']} °C (rise {state['temp_rise_c']} °C), CPU "
                         f"{state['min_cpu_mhz']}–{state['max_cpu_mhz']} MHz, "
                         + ("THROTTLED" if state["throttled"] else "not throttled"))
    soak = r.soak
    if soak:
        lines.append(f"soak {soak['seconds']:.0f} s, {soak['runs']} runs: median first window "
                     f"{soak['windows'][0]['median_ms']:.3f} ms, last {soak['windows'][-1]['median_ms']:.3f} ms "
                     f"({soak['last_vs_first_median']:.2f}x)")
    lines += [f"check {f['check']}: {f['message']}" for f in r.sanity]
    return lines
