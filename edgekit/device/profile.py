"""The on-device profiler: cold start, latency over rotating real samples, memory, and the app's metric."""

from __future__ import annotations

import importlib.util
import json
import platform
import resource
import time
from pathlib import Path

from edgekit.device.app import AppContext
from edgekit.profiling.latency import measure_latency

SCHEMA = "edgekit.device-profile/1"


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:
        return float("nan")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def load_app_module(release: Path):
    spec = importlib.util.spec_from_file_location("edgekit_app", Path(release) / "app" / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def profile(release: Path, *, threads: int | None = None, min_runs: int = 100, min_seconds: float = 2.0,
            evaluate: bool = True) -> dict:
    release = Path(release).resolve()
    ctx = AppContext(release, threads)
    rss_before = _rss_mb()
    started = time.perf_counter()
    session = ctx.session
    load_ms = (time.perf_counter() - started) * 1e3
    feeds = ctx.sample_feeds()
    started = time.perf_counter()
    session.run(feeds[0])
    first_ms = (time.perf_counter() - started) * 1e3
    latency = measure_latency(session.run, feeds, warmup=20, min_runs=min_runs, min_seconds=min_seconds)
    rss_model = _rss_mb() - rss_before
    metrics = load_app_module(release).evaluate(ctx) if evaluate else {}
    workstation = json.loads((release / "model" / "report.json").read_text(encoding="utf-8"))
    m = ctx.manifest
    return {
        "schema": SCHEMA, "app": m["app"], "model": m["model"], "target": m["target"], "format": m["format"],
        "precision": m["precision"], "runtime": session.runtime, "runtime_options": session.options,
        "release": release.name,
        "device": {"machine": platform.machine(), "system": platform.system(), "release": platform.release(),
                   "python": platform.python_version(), "node": platform.node()},
        "cold_start": {"load_ms": round(load_ms, 3), "first_inference_ms": round(first_ms, 3)},
        "latency": latency,
        "memory": {"peak_rss_mb": round(_peak_rss_mb(), 1), "model_rss_increase_mb": round(rss_model, 1)},
        "artifact_bytes": sum(p.stat().st_size for p in (release / "model").iterdir()
                              if p.suffix not in (".json",)),
        "metric": workstation.get("metric"),
        "metric_info": workstation.get("metric_info"),
        "metrics": metrics,
        "workstation_metrics": workstation.get("metrics", {}),
        "reference_metrics": workstation.get("reference_metrics", {}),  # fp32 Keras on the workstation
    }
