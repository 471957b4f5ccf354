"""Confidence intervals for accuracy numbers, so "within 1 point" is a statement with error bars."""

from __future__ import annotations

import math

Z95 = 1.959963984540054


def wilson(p: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``p`` measured on ``n`` samples (95 % by default)."""
    if n <= 0:
        raise ValueError(f"an interval needs at least one sample. Got: n={n}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"a proportion lies in [0, 1]. Got: p={p}")
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def sample_count(metrics: dict) -> int | None:
    """The number of evaluated samples a zoo metric dict reports (n_heldout, n_samples, n_windows, ...)."""
    counts = [v for k, v in metrics.items() if k.startswith("n_") and isinstance(v, int) and v > 0]
    return counts[0] if counts else None


def drop_interval(value: float, reference: float, n: int, z: float = Z95) -> tuple[float, float]:
    """95 % interval of ``reference - value`` (the drop of a proportion vs fp32), Newcombe's hybrid score method.

    It treats the two proportions as independent samples; the artifact and fp32 are scored on the same samples,
    which makes the true interval narrower, so this one errs on the side of "not proven"."""
    lo_r, hi_r = wilson(reference, n, z)
    lo_v, hi_v = wilson(value, n, z)
    d = reference - value
    return d - math.hypot(reference - lo_r, hi_v - value), d + math.hypot(hi_r - reference, value - lo_v)
