"""Sanity checks every report carries: numbers that look fine in a table but should not be trusted as they are.

Each finding says what was seen and why it matters, so a reader can act on it without knowing the check.
"""

from __future__ import annotations

from collections.abc import Sequence

from edgekit.profiling.latency import HIGH_COV
from edgekit.reporting.metric import Metric, change_interval
from edgekit.reporting.records import DeviceProfile, SummaryRow

MIN_CALIBRATION = 100  # fewer real samples than this give activation ranges that miss the tails
MIN_EVALUATED = 100  # below this a metric is an anecdote whatever its interval says
RESOLVE_POINTS = 1.0  # an accuracy-drop interval wider than ± this cannot support "within 1 point"
INT8_SLOWER = 1.10  # int8 median this much above the float median on the same runtime is flagged
# the same artifact on the same samples, device vs workstation: float rounding differs between CPUs (XNNPACK's
# kernels per ISA) and flips a borderline sample or two; more than this is the device computing something else
MISMATCH_POINTS = 1.0  # proportions: points, and more than MISMATCH_SAMPLES samples
MISMATCH_SAMPLES = 2
MISMATCH_PERCENT = 1.0  # other metrics: % of the workstation's value
MISMATCH_SNR_DB = 30.0  # a user's model: device outputs vs the workstation's of the same artifact (generic app)


def _finding(check: str, artifact: str, message: str) -> dict:
    return {"check": check, "artifact": artifact, "message": message}


def latency_checks(latencies: dict[str, dict]) -> list[dict]:
    """``latencies``: artifact or app name -> latency record. One finding for all that vary too much."""
    noisy = {k: v for k, v in latencies.items() if v.get("cov") is not None and v["cov"] > HIGH_COV}
    if not noisy:
        return []
    detail = "; ".join(f"{k}: CoV {v['cov']:.2f}, p50 {v['median_ms']:.3f} ms, p99 {v['p99_ms']:.3f} ms"
                       for k, v in noisy.items())
    return [_finding("high-cov", ", ".join(noisy), f"latency varies a lot (coefficient of variation above {HIGH_COV}: "
                     f"{detail}): the machine was busy, throttling or scheduling other work; re-measure before "
                     "comparing these numbers.")]


def accuracy_checks(name: str, metric: Metric | None, value, n: int | None,
                    drop_ci95: list[float] | None) -> list[dict]:
    if metric is None:
        return [_finding("no-heldout-metric", name, "no task metric on held-out data (the evaluation data has no "
                         "labels): the artifact was only compared with the fp32 model; to measure accuracy, give "
                         "held-out samples with integer class labels under 'labels' (--eval eval.npz).")]
    if value is None:
        return []
    if n is None:
        return [_finding("few-eval-samples", name, f"{metric.name} does not say how many samples it was measured on, so "
                         "its uncertainty is unknown.")]
    if n < MIN_EVALUATED:
        return [_finding("few-eval-samples", name, f"{metric.name} was measured on only {n} samples (< {MIN_EVALUATED}): "
                         "one sample more or less right moves it by a point or more.")]
    if metric.is_proportion and drop_ci95 and (drop_ci95[1] - drop_ci95[0]) / 2 > RESOLVE_POINTS:
        half = (drop_ci95[1] - drop_ci95[0]) / 2
        return [_finding("few-eval-samples", name, f"the change vs fp32 is known only to ±{half:.1f} points "
                         f"(95 % interval {change_interval(drop_ci95)} pt on {n} samples): a "
                         f"{RESOLVE_POINTS:g}-point drop cannot be told from noise; evaluate on more held-out data.")]
    return []


def calibration_checks(name: str, calibration: dict | None) -> list[dict]:
    if calibration and calibration.get("samples", MIN_CALIBRATION) < MIN_CALIBRATION:
        return [_finding("small-calibration", name, f"int8 ranges were calibrated on {calibration['samples']} samples "
                         f"(< {MIN_CALIBRATION}): activation ranges from few samples miss rare large values, which "
                         "then clip; pass more real samples with --calib.")]
    return []


def int8_speed_checks(rows: Sequence[SummaryRow]) -> list[dict]:
    """int8 slower than a float build of the same target."""
    out = []
    for r in rows:
        if r.precision != "int8":
            continue
        floats = [f for f in rows if f.target == r.target and f.precision in ("fp32", "fp16") and f.latency_median_ms]
        if not floats:
            continue
        f = min(floats, key=lambda f: f.latency_median_ms)  # the fastest float build it should beat
        ratio = r.latency_median_ms / f.latency_median_ms
        if ratio > INT8_SLOWER:
            out.append(_finding(
                "int8-slower", f"{r.target} int8",
                f"int8 is {ratio:.2f}x slower than {f.precision} on {r.runtime or r.format} "
                f"(p50 {r.latency_median_ms:.3f} vs {f.latency_median_ms:.3f} ms, host CPU): the runtime "
                "spends the time in quantize/dequantize around float ops, or has no fast int8 kernels for "
                "this CPU. Quantize for size, not speed, here — and measure on the device before deciding."
                + ops_line(r.ops)))
    return out


def ops_line(ops: dict | None) -> str:
    """What the artifact's per-op profile says about missing int8 kernels (edgekit/profiling/op_profile)."""
    if not ops or "error" in ops:
        return ""
    types = ", ".join(ops.get("float_op_types") or ()) or "none"
    if ops.get("timed") and ops.get("total_ms"):
        return (f" Per-op profile ({ops['runtime']}): {100 * ops['plumbing_share']:.0f} % of op time in "
                f"{ops['plumbing_ops']} quantize/dequantize ops, {100 * ops['float_share']:.0f} % in {ops['float_ops']} "
                f"ops computing in float ({types}); `edgekit explain --ops` lists them.")
    return (f" Its {ops['ops']} ops include {ops['plumbing_ops']} quantize/dequantize ops and {ops['float_ops']} "
            f"computing in float ({types}); `edgekit explain --ops` lists them.")


def degradation_checks(rows: Sequence[SummaryRow], metric: Metric | None) -> list[dict]:
    """Artifacts judged degraded vs fp32 (edgekit.reporting.fidelity), and labelled drops that are not noise."""
    out = [_finding("degraded", r.name, f"degraded vs fp32 on held-out data: {'; '.join(r.degraded)}. Try another "
                    "precision, more or better calibration data, or float layers; --allow-degraded accepts it.")
           for r in rows if r.degraded]
    for r in rows:
        ci = r.drop_ci95
        if metric is not None and metric.is_proportion and ci and ci[0] > 0:
            drop = -r.delta_points if metric.higher_is_better else r.delta_points
            out.append(_finding("significant-drop", r.name, f"{metric.name} is {drop:.2f} points worse than "
                                f"fp32 and the 95 % interval of the change {change_interval(ci)} pt excludes "
                                "0: a real loss, not noise."))
    return out


def convert_checks(rows: Sequence[SummaryRow], calibration: dict[str, dict | None], metric: Metric | None
                   ) -> list[dict]:
    """Every check over the rows of a model directory; ``calibration`` maps "target precision" to its record."""
    out = degradation_checks(rows, metric)
    if rows:  # every artifact is evaluated on the same samples: judge the widest drop interval once
        widest = max(rows, key=lambda r: (r.drop_ci95[1] - r.drop_ci95[0]) if r.drop_ci95 else -1)
        out += accuracy_checks("every artifact", metric, widest.value, widest.n_evaluated, widest.drop_ci95)
    for r in rows:
        out += calibration_checks(r.name, calibration.get(r.name))
    out += latency_checks({r.name: {"cov": r.latency_cov, "median_ms": r.latency_median_ms, "p99_ms": r.latency_p99_ms}
                           for r in rows})
    return out + int8_speed_checks(rows)


def device_mismatch(profile: DeviceProfile) -> dict | None:
    """The device's metric differs from the workstation's for the same artifact on the same samples (or, for a
    user's model, its outputs differ from the workstation's outputs packed with it)."""
    snr = profile.metrics.get("snr_db_min_vs_workstation")
    if isinstance(snr, (int, float)) and snr < MISMATCH_SNR_DB:
        return _finding("device-mismatch", profile.name, f"the device's outputs differ from the workstation's for "
                        f"the same artifact on the same samples (SNR {snr:.1f} dB, below {MISMATCH_SNR_DB:.0f}; the "
                        "same runtime on two CPUs agrees to far more): the device computes differently — a runtime "
                        "wheel built for another CPU, an emulator's CPU model, or damaged files. Fix the device "
                        "before trusting its numbers.")
    m = profile.metric
    device = profile.value
    workstation = None if m is None else profile.workstation_metrics.get(m.name)
    if not isinstance(device, (int, float)) or not isinstance(workstation, (int, float)):
        return None
    if m.is_proportion:
        n = profile.n_evaluated or 0
        points = 100 * abs(device - workstation)
        if points <= max(MISMATCH_POINTS, 100 * MISMATCH_SAMPLES / n if n else 0.0):
            return None
        differ = f"{points:.2f} points"
    else:
        percent = 100 * abs(device - workstation) / abs(workstation) if workstation else float("inf")
        if percent <= MISMATCH_PERCENT:
            return None
        differ = f"{percent:.1f} %"
    return _finding("device-mismatch", profile.name, f"the device's {m.name} is {device:.4f} and the workstation's "
                    f"{workstation:.4f} for the same artifact on the same samples ({differ} apart; float noise "
                    "between CPUs stays within a sample or two): the device computes differently — a runtime wheel "
                    "built for another CPU, an emulator's CPU model, or damaged files. The artifact is not what "
                    "changed; fix the device before trusting its numbers.")


def device_checks(profile: DeviceProfile, drop_ci95: list[float] | None) -> list[dict]:
    name = profile.name
    out = accuracy_checks(name, profile.metric, profile.value, profile.n_evaluated, drop_ci95)
    if not profile.metrics:
        out = []  # profiled without --evaluate: nothing to judge
    mismatch = device_mismatch(profile)
    if mismatch:
        out.insert(0, mismatch)
    out += calibration_checks(name, profile.calibration)
    out += latency_checks({name: profile.latency})
    state = profile.device_state or {}
    if state.get("throttled"):
        out.append(_finding("throttled", name, "the device slowed itself down while being measured: "
                            + "; ".join(state["throttle_reasons"]) + ". Latency is not steady-state; cool the "
                            "device (heatsink, fan) or report the throttled numbers as such."))
    soak = profile.soak
    if soak and soak.get("last_vs_first_median") and soak["last_vs_first_median"] > INT8_SLOWER:
        out.append(_finding("soak-slowdown", name, f"under sustained load the median latency rose "
                            f"{soak['last_vs_first_median']:.2f}x from the first to the last window of the "
                            f"{soak['seconds']:.0f} s soak: sustained throughput is lower than the short "
                            "measurement suggests."))
    return out
