"""Process memory on Linux: current and peak resident set size (RSS)."""

from __future__ import annotations

import resource


def rss_mb() -> float | None:
    """Current RSS in MiB (None where /proc is missing)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:
        return None


def peak_rss_mb() -> float:
    """Peak RSS of this process so far, in MiB (ru_maxrss is kilobytes on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def increase_mb(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else round(after - before, 1)
