"""Host/device latency of one Session: warm-up, then timed runs over rotating real samples."""

from __future__ import annotations

import time

import numpy as np


def measure_latency(run, feeds: list[dict[str, np.ndarray]], *, warmup: int = 10, min_runs: int = 50,
                    min_seconds: float = 1.0, max_runs: int = 2000) -> dict:
    """Time ``run(feed)`` after ``warmup`` calls until both ``min_runs`` and ``min_seconds`` are reached.

    Feeds rotate over distinct samples so caches and data-dependent kernels see real variety.
    """
    if not feeds:
        raise ValueError("latency needs at least one input sample")
    for i in range(warmup):
        run(feeds[i % len(feeds)])
    times = []
    start = time.perf_counter()
    while len(times) < max_runs and (len(times) < min_runs or time.perf_counter() - start < min_seconds):
        feed = feeds[len(times) % len(feeds)]
        t0 = time.perf_counter()
        run(feed)
        times.append(time.perf_counter() - t0)
    ms = np.array(times) * 1e3
    return {
        "median_ms": round(float(np.median(ms)), 4),
        "p90_ms": round(float(np.percentile(ms, 90)), 4),
        "p99_ms": round(float(np.percentile(ms, 99)), 4),
        "mean_ms": round(float(ms.mean()), 4),
        "min_ms": round(float(ms.min()), 4),
        "runs": int(len(ms)),
        "warmup_runs": warmup,
        "distinct_inputs": len(feeds),
    }
