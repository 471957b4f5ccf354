"""int8 that is not slower: every int8 build is timed against the fp32 build of the same format on this host.

Small models often run slower in int8 than in fp32: the runtime lacks an int8 kernel for some op and spends the time
in quantize / dequantize around it (OpenVINO), or unrolls what it has a fused float kernel for (LiteRT's LSTM).
When the int8 build is more than ``INT8_SLOWER`` times the fp32 one (the threshold of the report's ``int8-slower``
check), the backend's ``speed_variants`` (built from the artifact's per-op profile: keep the ops the runtime ran in
float out of quantization; LiteRT's dynamic-range int8) are built, timed in the same interleaved rounds, and scored
on the run's validation samples by the same Scorer as a mixed-precision search. The fastest variant that is
faster than the build and no less accurate (within the budget, or, when the build itself missed it, scoring at
least as well) replaces it. Every trial goes in report.json (``int8_speed``).

One algorithm for every backend; ONNX Runtime offers no variants (the host CPU is not the Jetson's TensorRT).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from edgekit.errors import EdgekitError, summarize
from edgekit.reporting.sanity import INT8_SLOWER

ROUNDS = 5  # interleaved timing rounds: each artifact's p50 is the median of its per-round medians
ROUND_SECONDS = 0.1
FASTER_BY = 1.05  # a variant must beat the build by this much (interleaved rounds on a 2-core host vary ~3 %)


@dataclass(frozen=True)
class SpeedTrial:
    variant: str  # "as built" for the int8 build itself
    p50_ms: float | None
    score: float | None = None  # on the validation samples (the Scorer's metric); None: not scored
    within_budget: bool | None = None
    error: str | None = None  # why this variant could not be built


@dataclass(frozen=True)
class SpeedDecision:
    fp32_ms: float
    threads: int
    metric: str | None  # what the variants were scored by (None: the build was not slower, nothing was scored)
    trials: tuple[SpeedTrial, ...]
    chosen: str
    slower: bool  # the first timing found the build more than INT8_SLOWER times fp32 (then variants were tried)

    def to_json(self) -> dict:
        return {**asdict(self), "trials": [asdict(t) for t in self.trials]}


def interleaved_p50(paths: Sequence[Path], feeds: list[dict[str, np.ndarray]], threads: int) -> list[float]:
    """p50 ms of each artifact with its runtime, timed in alternating rounds so drift in the host's load falls
    on all of them alike."""
    from edgekit.profiling.latency import measure_latency
    from edgekit.runtime import open_session

    sessions = [open_session(p, threads=threads) for p in paths]
    rounds: list[list[float]] = [[] for _ in paths]
    for _ in range(ROUNDS):
        for session, times in zip(sessions, rounds):
            times.append(measure_latency(session.run, feeds, warmup=2, min_runs=20, min_seconds=ROUND_SECONDS,
                                         warmup_max_seconds=0.2)["median_ms"])
    return [round(float(np.median(t)), 4) for t in rounds]


def not_slower(built: Path, fp32: Path, feeds: list[dict[str, np.ndarray]], threads: int,
               variants: Callable[[Path], Sequence[tuple[str, Callable[[], Path]]]],
               judge: Callable[[Path], tuple[float, bool]], metric: str, higher_is_better: bool,
               progress: Callable[[str], None] = lambda msg: None) -> tuple[Path, SpeedDecision]:
    """The int8 artifact to keep, ``built`` or the fastest no-less-accurate of ``variants(built)`` (label, build
    function) when ``built`` is slower than ``fp32``; and the decision. ``judge`` scores an artifact on validation
    samples: (value, within the budget)."""
    fp32_ms, built_ms = interleaved_p50([fp32, built], feeds, threads)
    as_built = SpeedTrial("as built", built_ms)
    if built_ms <= INT8_SLOWER * fp32_ms:
        return built, SpeedDecision(fp32_ms, threads, None, (as_built,), "as built", False)
    progress(f"int8 runs {built_ms / fp32_ms:.2f}x fp32's time here ({built_ms:.3f} vs {fp32_ms:.3f} ms): "
             "trying faster int8 builds")
    tried: list[tuple[str, Path | None, str | None]] = []
    try:
        offered = variants(built)
    except Exception as exc:  # the per-op profile they come from failed: the build stands, and says why
        offered = []
        tried.append(("(per-op profile)", None, f"{type(exc).__name__}: {summarize(exc)}"))
    for label, build in offered:
        try:
            tried.append((label, build(), None))
        except Exception as exc:  # a variant this model cannot take is a failed trial, never a failed build
            tried.append((label, None, exc.message if isinstance(exc, EdgekitError) else
                          f"{type(exc).__name__}: {summarize(exc)}"))
    paths = [p for _, p, _ in tried if p is not None]
    if not paths:
        trials = (as_built, *(SpeedTrial(label, None, error=err) for label, _, err in tried))
        return built, SpeedDecision(fp32_ms, threads, None, trials, "as built", True)
    # all timed again together: the comparison is within one set of rounds
    fp32_ms, built_ms, *variant_ms = interleaved_p50([fp32, built, *paths], feeds, threads)
    trials, timed, by_label = [SpeedTrial("as built", built_ms, *_rounded(judge(built)))], iter(variant_ms), {}
    for label, path, error in tried:
        if path is None:
            trials.append(SpeedTrial(label, None, error=error))
            continue
        trials.append(SpeedTrial(label, next(timed), *_rounded(judge(path))))
        by_label[label] = path
    chosen = choose(trials, fp32_ms, higher_is_better)
    return by_label.get(chosen, built), SpeedDecision(fp32_ms, threads, metric, tuple(trials), chosen, True)


def choose(trials: Sequence[SpeedTrial], fp32_ms: float, higher_is_better: bool) -> str:
    """The fastest trial that beats the build (``trials[0]``) by FASTER_BY and is no less accurate: within the
    budget, or, when the build itself missed it, scoring at least as well; else the build — also when this second
    timing no longer finds the build slower than fp32 (one noisy round set does not change a file)."""
    built, sign = trials[0], 1.0 if higher_is_better else -1.0
    best = built
    if built.p50_ms <= INT8_SLOWER * fp32_ms:
        return built.variant
    for t in trials[1:]:
        if t.p50_ms is None:
            continue
        accurate = t.within_budget or (not built.within_budget and sign * (t.score - built.score) >= 0)
        if accurate and t.p50_ms * FASTER_BY < built.p50_ms and t.p50_ms < best.p50_ms:
            best = t
    return best.variant


def _rounded(judged: tuple[float, bool]) -> tuple[float, bool]:
    return round(float(judged[0]), 6), bool(judged[1])
