"""The on-device profiler: cold start, latency over rotating real samples, memory, and the app's metric."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import platform
import time
from pathlib import Path

from edgekit.agent.app import AppContext
from edgekit.agent.options import ProfileOptions
from edgekit.profiling.device_state import DeviceStateSampler
from edgekit.profiling.latency import measure_latency, measure_soak
from edgekit.profiling.memory import increase_mb, peak_rss_mb, rss_mb

SCHEMA = "edgekit.device-profile/1"


def load_app_module(release: Path):
    spec = importlib.util.spec_from_file_location("edgekit_app", Path(release) / "app" / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pipeline_stages(module, ctx: AppContext, repeats: int = 3) -> dict:
    """Run the app's demo ``repeats`` times (output discarded) and split its wall time into the stages it marks:
    inference (every model call), the app's own stages, and the rest (app code outside marked stages, I/O)."""
    with contextlib.redirect_stdout(io.StringIO()):  # stdout carries the report
        module.demo(ctx)  # first pass: lazy imports, files cached; not timed
        ctx.stages.clear()
        started = time.perf_counter()
        for _ in range(repeats):
            module.demo(ctx)
        total = time.perf_counter() - started
    stages = {name: {"ms_per_run": round(sec * 1e3 / repeats, 3), "calls_per_run": calls // repeats,
                     "share": round(sec / total, 4)} for name, (sec, calls) in ctx.stages.items()}
    rest = total - sum(sec for sec, _ in ctx.stages.values())
    stages["other"] = {"ms_per_run": round(rest * 1e3 / repeats, 3), "calls_per_run": None,
                       "share": round(rest / total, 4)}
    return {"end_to_end_ms": round(total * 1e3 / repeats, 3), "repeats": repeats, "stages": stages}


def profile(release: Path, options: ProfileOptions = ProfileOptions()) -> dict:
    release = Path(release).resolve()
    ctx = AppContext(release, options.threads)
    module = load_app_module(release)
    rss_before = rss_mb()
    started = time.perf_counter()
    session = ctx.session
    load_ms = (time.perf_counter() - started) * 1e3
    feeds = ctx.sample_feeds()
    started = time.perf_counter()
    session.run(feeds[0])
    first_ms = (time.perf_counter() - started) * 1e3
    rss_loaded = rss_mb()
    with DeviceStateSampler(interval=options.sample_interval) as state:
        latency = measure_latency(session.run, feeds, warmup=20, min_runs=options.min_runs,
                                  min_seconds=options.min_seconds)
        soak = measure_soak(session.run, feeds, options.soak_seconds) if options.soak_seconds > 0 else None
    stages = pipeline_stages(module, ctx, options.pipeline_runs) if options.pipeline_runs else None
    metrics = module.evaluate(ctx) if options.evaluate else {}
    workstation = json.loads((release / "model" / "report.json").read_text(encoding="utf-8"))
    # a user's model is evaluated on the samples packed with it: the workstation's metrics on those very samples
    packed = release / "data" / "workstation.json"
    workstation_metrics = (json.loads(packed.read_text(encoding="utf-8")) if packed.is_file()
                           else workstation.get("metrics", {}))
    m = ctx.manifest
    return {
        "schema": SCHEMA, "app": m["app"], "model": m["model"], "target": m["target"], "format": m["format"],
        "precision": m["precision"], "runtime": session.runtime, "runtime_options": session.options,
        "release": release.name,
        "device": this_device(),
        "cold_start": {"load_ms": round(load_ms, 3), "first_inference_ms": round(first_ms, 3)},
        "latency": latency,
        "pipeline": stages,
        "soak": soak,
        "device_state": state.result(),
        "memory": {"peak_rss_mb": round(peak_rss_mb(), 1), "model_rss_increase_mb": increase_mb(rss_before, rss_loaded)},
        "artifact_bytes": sum(p.stat().st_size for p in (release / "model").iterdir()
                              if p.suffix not in (".json",)),
        "metric": workstation.get("metric"),
        "metric_info": workstation.get("metric_info"),
        "metrics": metrics,
        "workstation_metrics": workstation_metrics,
        "reference_metrics": workstation.get("reference_metrics", {}),  # fp32 Keras on the workstation
        "calibration": (workstation.get("metadata") or {}).get("calibration"),
    }


def this_device() -> dict:
    """What the device is, as the profile and bench reports say it."""
    return {"machine": platform.machine(), "system": platform.system(), "release": platform.release(),
            "python": platform.python_version(), "node": platform.node()}
