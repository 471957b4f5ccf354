"""Host/device latency of one Session: warm-up until stable, then timed runs over rotating real samples."""

from __future__ import annotations

import time

import numpy as np

MAX_SAMPLES = 2000  # per-run timings kept in a report (thinned evenly beyond this)
HIGH_COV = 0.25  # coefficient of variation above which a latency table should not be trusted as is


def _warm_up(run, feeds, min_runs: int, max_seconds: float, window: int = 8, tolerance: float = 0.1) -> tuple[int, float]:
    """Call ``run`` until at least ``min_runs`` calls and the median of the last ``window`` calls is within
    ``tolerance`` of the window before (caches, JIT, frequency ramp settled), or ``max_seconds`` pass."""
    times: list[float] = []
    start = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        run(feeds[len(times) % len(feeds)])
        times.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - start
        if elapsed >= max_seconds:
            break
        if len(times) >= max(min_runs, 2 * window):
            last, before = np.median(times[-window:]), np.median(times[-2 * window:-window])
            if abs(last - before) <= tolerance * before:
                break
    return len(times), time.perf_counter() - start


def measure_latency(run, feeds: list[dict[str, np.ndarray]], *, warmup: int = 10, min_runs: int = 50,
                    min_seconds: float = 1.0, max_runs: int = 100_000, warmup_max_seconds: float = 5.0) -> dict:
    """Time ``run(feed)`` after a warm-up (at least ``warmup`` calls, until stable) until both ``min_runs`` and
    ``min_seconds`` are reached.

    Feeds rotate over distinct samples so caches and data-dependent kernels see real variety.
    """
    if not feeds:
        raise ValueError("latency needs at least one input sample")
    warmup_runs, warmup_seconds = _warm_up(run, feeds, warmup, warmup_max_seconds)
    times = []
    start = time.perf_counter()
    while len(times) < max_runs and (len(times) < min_runs or time.perf_counter() - start < min_seconds):
        feed = feeds[len(times) % len(feeds)]
        t0 = time.perf_counter()
        run(feed)
        times.append(time.perf_counter() - t0)
    ms = np.array(times) * 1e3
    stride = -(-len(ms) // MAX_SAMPLES)
    mean = float(ms.mean())
    cov = float(ms.std() / mean) if mean > 0 else 0.0
    return {
        "median_ms": round(float(np.median(ms)), 4),
        "p90_ms": round(float(np.percentile(ms, 90)), 4),
        "p99_ms": round(float(np.percentile(ms, 99)), 4),
        "mean_ms": round(mean, 4),
        "std_ms": round(float(ms.std()), 4),
        "min_ms": round(float(ms.min()), 4),
        "max_ms": round(float(ms.max()), 4),
        "cov": round(cov, 4),
        "high_cov": cov > HIGH_COV,
        "throughput_per_s": round(1e3 / mean, 2) if mean > 0 else None,
        "runs": int(len(ms)),
        "timed_seconds": round(float(ms.sum() / 1e3), 3),
        "warmup_runs": int(warmup_runs),
        "warmup_seconds": round(warmup_seconds, 3),
        "distinct_inputs": len(feeds),
        # timed runs in order (every k-th when there are more than MAX_SAMPLES), for distribution plots
        "samples_stride": stride,
        "samples_ms": [round(float(x), 4) for x in ms[::stride]],
    }


def measure_soak(run, feeds: list[dict[str, np.ndarray]], seconds: float, window: float = 5.0) -> dict:
    """Sustained load: call ``run`` back to back for ``seconds``, summarising each ``window`` of seconds, so
    throttling shows up as latency that climbs over time."""
    windows, times = [], []
    start = w_start = time.perf_counter()
    i = 0
    while True:
        t0 = time.perf_counter()
        run(feeds[i % len(feeds)])
        t1 = time.perf_counter()
        times.append(t1 - t0)
        i += 1
        if t1 - w_start >= window or t1 - start >= seconds:
            ms = np.array(times) * 1e3
            windows.append({"t": round(t1 - start, 2), "runs": len(ms), "median_ms": round(float(np.median(ms)), 4),
                            "p99_ms": round(float(np.percentile(ms, 99)), 4)})
            times, w_start = [], t1
            if t1 - start >= seconds:
                break
    first, last = windows[0]["median_ms"], windows[-1]["median_ms"]
    return {"seconds": round(time.perf_counter() - start, 1), "window_s": window, "runs": i, "windows": windows,
            "last_vs_first_median": round(last / first, 3) if first > 0 else None}
