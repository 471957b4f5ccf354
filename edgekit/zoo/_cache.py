"""Disk cache for zoo data the project generates (synthesised speech, solved power flows): made once per
machine under $XDG_CACHE_HOME/edgekit/<kind>/, written atomically, keyed by everything that shapes it."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from edgekit._fs import atomic_write_bytes


def cached_arrays(kind: str, split: str, n: int, version: str,
                  make: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The arrays for ``n`` samples of ``split``: read from the cache, or made by ``make()`` and stored."""
    key = hashlib.sha256(f"{split}:{n}:{version}".encode()).hexdigest()[:16]
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    path = Path(base) / "edgekit" / kind / f"{split}-{n}-{key}.npz"
    if path.is_file():
        with np.load(path) as f:
            return {k: f[k] for k in f.files}
    arrays = make()
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())
    return arrays
