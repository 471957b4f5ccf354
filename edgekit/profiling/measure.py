"""Measure one artifact where it runs — this host for `edgekit bench`, a device (through the agent) for
`edgekit bench --device`: cold start, latency and the runtime's per-op profile. Device-safe: numpy and the runtime."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np


def measure(path: Path, feeds_for: Callable[[tuple], list[dict[str, np.ndarray]]], threads: int | None,
            min_runs: int, min_seconds: float, with_ops: bool) -> dict:
    """Cold start, latency and the per-op profile of ``path`` on the feeds ``feeds_for(session.inputs)`` gives:
    device-safe (numpy and the runtime; the agent runs it on a device for `edgekit bench --device`). The feeds come
    after the load, so the session timed is the only one opened: a load before it would warm the cold start."""
    from edgekit.profiling.latency import measure_latency
    from edgekit.runtime import open_session

    started = time.perf_counter()
    session = open_session(path, threads=threads)
    load_ms = (time.perf_counter() - started) * 1e3
    feeds = feeds_for(session.inputs)
    started = time.perf_counter()
    session.run(feeds[0])
    first_ms = (time.perf_counter() - started) * 1e3
    latency = measure_latency(session.run, feeds, min_runs=min_runs, min_seconds=min_seconds)
    latency.pop("samples_ms", None)  # the distribution is for report plots; a bench prints its statistics
    out = {
        "artifact": str(path), "runtime": session.runtime, "runtime_options": session.options,
        "inputs": [{"name": t.name, "shape": list(feeds[0][t.name].shape), "dtype": str(feeds[0][t.name].dtype)}
                   for t in session.inputs],
        "cold_start": {"load_ms": round(load_ms, 3), "first_inference_ms": round(first_ms, 3)},
        "latency": latency,
    }
    if with_ops:
        out["ops"] = _ops(path, feeds[0], threads or os.cpu_count() or 1)
    return out


def feeds_to_npz(feeds: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Feeds (one dict per sample, batch 1) as arrays stacked along the first axis, keyed by input name."""
    return {name: np.concatenate([f[name] for f in feeds]) for name in feeds[0]}


def feeds_from_npz(arrays: dict[str, np.ndarray]) -> list[dict[str, np.ndarray]]:
    n = len(next(iter(arrays.values())))
    return [{name: a[i : i + 1] for name, a in arrays.items()} for i in range(n)]


def _ops(path: Path, feed: dict[str, np.ndarray], threads: int) -> dict:
    """The runtime's per-op profile (edgekit/profiling/op_profile); a failure is reported, not raised: the latency
    stands without it."""
    from edgekit.errors import summarize
    from edgekit.formats import BY_SUFFIX
    from edgekit.profiling.op_profile import OPS_BY_FORMAT

    try:
        found = OPS_BY_FORMAT[BY_SUFFIX[path.suffix].name](path, feed, threads)
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {summarize(exc)}"}
    return {**found.summary(), "per_op": [{"name": o.name, "type": o.type, "compute": o.compute, "ms": o.ms}
                                          for o in found.ops]}
