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
