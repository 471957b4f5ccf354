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


def test_metric_decides_how_a_drop_reads():
    from edgekit.reporting.metric import Metric

    top1, mae = Metric("top1"), Metric("mae_mw", "MW", higher_is_better=False)
    assert top1.drop(0.97, 0.99) == pytest.approx(2.0) and top1.drop_symbol == "pt"  # points
    assert mae.drop(440.0, 400.0) == pytest.approx(10.0) and mae.drop_symbol == "%"  # % worse for an error in MW
    assert mae.drop(360.0, 400.0) == pytest.approx(-10.0) and mae.change(360.0, 400.0) == pytest.approx(-10.0)
    assert top1.tolerance(0.005, 0.9) == 0.005 and mae.tolerance(0.05, 400.0) == pytest.approx(20.0)
    assert top1.interval(0.9875, 160) == [0.9556, 0.9966] and mae.interval(0.5, 160) is None  # README: [0.956, 0.997]
    lo, hi = top1.drop_interval(0.98, 0.99, 400)
    assert lo < 1.0 < hi  # 1 point worse, with its interval in points
    assert Metric("error_rate", higher_is_better=False).drop_interval(0.02, 0.01, 400) == [lo, hi]


def test_gates_name_what_was_violated():
    from edgekit.reporting.gates import GateRow, Gates, violations

    rows = [GateRow("pi int8", 3 * 2**20, 3.0, 1.5), GateRow("npu int8", 6 * 2**20, 30.0, 0.2)]
    found = violations(rows, Gates(max_accuracy_drop=1.0, max_p99_ms=20, max_size_mb=5))
    assert found == ["--max-accuracy-drop 1: pi int8 drops 1.50 pt", "--max-p99-ms 20: npu int8 p99 30.000 ms",
                     "--max-size-mb 5: npu int8 is 6.00 MB"]
    assert violations(rows, Gates()) == []


def test_convert_gate_exits_6_and_keeps_the_reports(tmp_path, user_model):
    from tests.conftest import run_cli

    r = run_cli("convert", str(user_model["keras"]), "--target", "raspberry-pi-5", "--precision", "int8",
                "--calib", str(user_model["calib"]), "--eval", str(user_model["eval"]), "--out", str(tmp_path),
                "--max-size-mb", "0.001", "--max-accuracy-drop", "50")
    assert r.returncode == 6, r.stderr
    assert "1 gate(s) failed: --max-size-mb 0.001: raspberry-pi-5 int8 is" in r.stderr and "Traceback" not in r.stderr
    assert (tmp_path / "digits" / "raspberry-pi-5" / "int8" / "report.json").is_file()


def _sysfs(root, freqs_khz, temps_milli, throttled=None):
    """A directory laid out like /sys (cpufreq, thermal zones, the Pi firmware's throttle word)."""
    for i, f in enumerate(freqs_khz):
        d = root / f"sys/devices/system/cpu/cpu{i}/cpufreq"
        d.mkdir(parents=True, exist_ok=True)
        (d / "scaling_cur_freq").write_text(f"{f}\n")
        (d / "cpuinfo_max_freq").write_text("2400000\n")
    for i, (name, t) in enumerate(temps_milli.items()):
        d = root / f"sys/class/thermal/thermal_zone{i}"
        d.mkdir(parents=True, exist_ok=True)
        (d / "type").write_text(name + "\n")
        (d / "temp").write_text(f"{t}\n")
    if throttled is not None:
        p = root / "sys/devices/platform/soc/soc:firmware/get_throttled"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"{throttled:x}\n")


def test_device_state_sees_a_device_heat_up_and_throttle(tmp_path):
    import time

    from edgekit.profiling.device_state import DeviceStateSampler

    _sysfs(tmp_path, [2400000, 2400000], {"cpu-thermal": 55000})
    with DeviceStateSampler(root=tmp_path, interval=0.05) as sampler:
        time.sleep(0.2)
        _sysfs(tmp_path, [1500000, 2400000], {"cpu-thermal": 81500}, throttled=0x20002)  # firmware caps the clock
        time.sleep(0.2)
    state = sampler.result()
    assert state["sources"]["cpufreq"] == 2 and state["sources"]["thermal_zones"] == ["cpu-thermal"]
    assert state["cpu_max_mhz"] == [2400, 2400] and len(state["samples"]) >= 5
    assert state["samples"][0]["cpu_mhz"] == [2400, 2400] and state["samples"][0]["temp_c"] == {"cpu-thermal": 55.0}
    assert state["max_temp_c"] == 81.5 and state["temp_rise_c"] == 26.5 and state["min_cpu_mhz"] == 1500
    assert state["throttled"] and "fell from 2400 to 1500 MHz" in state["throttle_reasons"][0]
    assert "ARM frequency capped" in state["throttle_reasons"][1]


def test_device_state_on_a_quiet_machine_and_on_this_one(tmp_path):
    from edgekit.profiling.device_state import DeviceStateSampler

    _sysfs(tmp_path, [1800000], {"soc": 40000}, throttled=0x50000)  # under-voltage *since boot* only
    with DeviceStateSampler(root=tmp_path, interval=0.05) as sampler:
        pass
    state = sampler.result()
    assert state["throttled"] is False and state["throttle_reasons"] == [] and state["samples"][0]["pi_throttled"] == 0x50000
    with DeviceStateSampler(interval=0.05) as real:  # whatever this machine exposes; nothing is invented
        pass
    assert len(real.result()["samples"]) >= 1


def test_tegrastats_lines_parse():
    from edgekit.profiling.device_state import parse_tegrastats

    line = ("11-24-2026 10:00:01 RAM 2157/7620MB (lfb 12x4MB) SWAP 0/3810MB (cached 0MB) CPU [12%@1510,off,"
            "3%@1510,5%@729,0%@729,1%@729] EMC_FREQ 0% GR3D_FREQ 0% cpu@47.5C soc2@45.06C tj@48.1C VDD_IN 4983mW/4983mW")
    got = parse_tegrastats(line)
    assert got["cpu_mhz"] == [1510, 1510, 729, 729, 729]
    assert got["temp_c"] == {"cpu": 47.5, "soc2": 45.06, "tj": 48.1}
