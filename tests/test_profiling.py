"""The latency measurement and the accuracy intervals, on real timings and known values."""

from __future__ import annotations

import time

import numpy as np
import pytest

from edgekit.profiling.latency import measure_latency
from edgekit.profiling.stats import sample_count, wilson


def test_warm_up_runs_until_latency_settles():
    calls = []

    def run(feed):  # calls get faster over the first ~27, like caches warming or a frequency ramp
        calls.append(feed["x"][0])
        time.sleep(max(0.001, 0.005 - 0.00015 * len(calls)))

    feeds = [{"x": np.array([i])} for i in range(4)]
    lat = measure_latency(run, feeds, warmup=5, min_runs=40, min_seconds=0.05)
    assert lat["warmup_runs"] > 20  # did not stop at the 5 asked for: the times were still falling
    assert lat["median_ms"] < 2.5 and lat["runs"] >= 40 and lat["distinct_inputs"] == 4
    assert set(calls[:8]) == {0, 1, 2, 3}  # inputs rotate
    assert lat["max_ms"] >= lat["p99_ms"] >= lat["median_ms"] >= lat["min_ms"]
    assert lat["throughput_per_s"] == pytest.approx(1e3 / lat["mean_ms"], rel=1e-3)


def test_high_variation_is_flagged():
    count = [0]

    def run(feed):
        count[0] += 1
        time.sleep(0.006 if count[0] % 3 == 0 else 0.0005)

    lat = measure_latency(run, [{"x": np.zeros(1)}], warmup=2, min_runs=30, min_seconds=0.0,
                          warmup_max_seconds=0.05)
    assert lat["cov"] > 0.25 and lat["high_cov"]


def test_wilson_interval_matches_known_values():
    lo, hi = wilson(0.5, 100)
    assert lo == pytest.approx(0.4038, abs=1e-4) and hi == pytest.approx(0.5962, abs=1e-4)
    lo, hi = wilson(1.0, 160)  # face-id's 160 held-out images all right: still not certainty
    assert hi == 1.0 and lo == pytest.approx(0.9766, abs=1e-4)
    with pytest.raises(ValueError, match="Got: n=0"):
        wilson(0.5, 0)
    assert sample_count({"top1": 0.9, "n_heldout": 160}) == 160 and sample_count({"top1": 0.9}) is None
