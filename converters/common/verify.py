"""Verify an artifact with the runtime its device uses: task metric, agreement with fp32, host latency."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgekit.errors import ConversionError, InputFileError, summarize
from edgekit.profiling.compare import SNR_CAP_DB, snr_db  # noqa: F401 (SNR_CAP_DB: imported from here too)
from edgekit.profiling.latency import measure_latency
from edgekit.profiling.memory import increase_mb, rss_mb
from edgekit.runtime import open_session


def cosines(reference: np.ndarray, output: np.ndarray) -> np.ndarray:
    """Per-sample cosine similarity (each sample's output flattened)."""
    a = reference.reshape(len(reference), -1).astype(np.float64)
    b = output.reshape(len(output), -1).astype(np.float64)
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    return np.where((na == 0) & (nb == 0), 1.0, np.sum(a * b, axis=1) / np.maximum(na * nb, 1e-300))


def cosine_stats(reference: np.ndarray, output: np.ndarray) -> tuple[float, float]:
    """(smallest per-sample cosine: the worst input's fidelity, the cosine 95 % of samples reach). Fidelity is
    judged on the second: the single worst sample is too fragile (tiny-transformer's healthy int8 logits, top-1
    agreement 0.98, have one sample at 0.24 — a near-zero logit vector whose direction means nothing)."""
    cos = cosines(reference, output)
    return round(float(np.min(cos)), 6), round(float(np.percentile(cos, 5)), 6)


def agreement(reference: dict[str, np.ndarray], outputs: dict[str, np.ndarray], primary: str,
              classes: bool = True) -> dict:
    """SNR of every output vs fp32; argmax agreement of ``primary`` when it holds class scores."""
    missing = sorted(set(reference) - set(outputs))
    if missing:
        raise ConversionError("The converted artifact lost outputs of the source model.",
                              got=f"missing {missing}; the artifact has {sorted(outputs)}",
                              tip="Run with --debug and report it: edgekit should keep every output name.")
    # NaN/Inf would make SNR and cosine NaN, which compare as "not below" any threshold (an all-NaN output
    # once showed the 120 dB cap): such an output gets the worst scores and its count is recorded
    nonfinite = {k: int(np.size(v) - np.count_nonzero(np.isfinite(v))) for k, v in outputs.items()
                 if k in reference and np.issubdtype(np.asarray(v).dtype, np.floating)}
    nonfinite = {k: n for k, n in nonfinite.items() if n}
    cos = {k: (-1.0, -1.0) if k in nonfinite else cosine_stats(reference[k], outputs[k]) for k in sorted(reference)}
    out = {"snr_db": {k: -SNR_CAP_DB if k in nonfinite else snr_db(reference[k], outputs[k]) for k in sorted(reference)},
           "cosine_min": {k: c[0] for k, c in cos.items()}, "cosine_p05": {k: c[1] for k, c in cos.items()}}
    if nonfinite:
        out["nonfinite"] = nonfinite
    ref, got = reference[primary], outputs[primary]
    if classes and ref.ndim >= 2 and ref.shape[-1] > 1:  # (N, classes) or per position (N, positions, classes)
        out["top1_agreement"] = round(float(np.mean(ref.argmax(-1) == got.argmax(-1))), 4)
    out["max_abs_diff"] = {k: float(np.max(np.abs(reference[k] - outputs[k]))) if k not in nonfinite
                           else None for k in sorted(reference)}
    return out


@dataclass(frozen=True)
class Verification:
    """What running an artifact with its device's runtime on the host measured."""

    runtime: str
    runtime_options: dict  # threads, device / providers the session really used
    agreement: dict  # snr_db, cosine_min, cosine_p05 and max_abs_diff per output; top1_agreement of a class output
    metrics: dict  # the task metric on held-out data ({} without one)
    latency: dict  # profiling.latency.measure_latency
    cold_start: dict  # load_ms, first_inference_ms
    memory: dict  # model_rss_increase_mb
    io: dict  # the artifact's real input and output tensors: name, shape, dtype, quantization


def verify_artifact(
    path: Path,
    *,
    threads: int | None,
    eval_inputs: dict[str, np.ndarray],
    reference: dict[str, np.ndarray],
    primary_output: str,
    with_top1: bool = True,  # argmax agreement of the primary output (its last axis scores classes)
    evaluate: Callable | None,
    latency_samples: int = 16,
) -> Verification:
    """Run ``path`` on the host CPU with its device's runtime and measure it."""
    rss_before = rss_mb()
    started = time.perf_counter()
    try:
        session = open_session(path, threads=threads)
    except InputFileError as exc:  # edgekit's own output: a converter defect, not a damaged user file
        raise ConversionError(f"The artifact edgekit built does not load in its runtime ({exc.what})",
                              tip="Try another precision for this target; run with --debug and report it.") from exc
    load_ms = (time.perf_counter() - started) * 1e3
    first = {k: v[: session.batch or 1] for k, v in eval_inputs.items()}
    started = time.perf_counter()
    try:
        session.run(first)
    except Exception as exc:  # the converter wrote an op the runtime has no kernel for (LiteRT 16x8 LayerNorm)
        raise ConversionError(f"The artifact edgekit built loads but does not run in {session.runtime}: "
                              f"{summarize(exc)}", got=str(path),
                              tip="Try another precision for this target (the runtime lacks a kernel the converter "
                              "used); run with --debug for the traceback.") from exc
    first_ms = (time.perf_counter() - started) * 1e3
    # what loading the artifact and its first inference added to this process (the converter's own
    # frameworks are already loaded, so the process's peak RSS says nothing about the artifact)
    model_rss = increase_mb(rss_before, rss_mb())
    outputs = session.predict(eval_inputs)
    agree = agreement(reference, outputs, primary_output, with_top1)
    metrics = evaluate(session.predict) if evaluate else {}
    n = len(next(iter(eval_inputs.values())))
    step = session.batch or 1
    feeds = [{k: v[i : i + step] for k, v in eval_inputs.items()}
             for i in np.linspace(0, max(n - step, 0), min(latency_samples, n)).astype(int)]
    return Verification(
        runtime=session.runtime, runtime_options=session.options, agreement=agree, metrics=metrics,
        latency=measure_latency(session.run, feeds),
        cold_start={"load_ms": round(load_ms, 3), "first_inference_ms": round(first_ms, 3)},
        memory={"model_rss_increase_mb": model_rss},
        io={"inputs": [t.to_json() for t in session.inputs], "outputs": [t.to_json() for t in session.outputs]},
    )
