"""Half-hourly electricity demand in England and Wales, 5 June - 27 August 2000 (Taylor, 2003): 4,032 points.

The series ships inside the PyPI package pmdarima as a literal array in pmdarima/datasets/taylor.py; it is read
with ``ast`` (pmdarima is never imported: it would pull statsmodels and pandas), offline.
"""

from __future__ import annotations

import ast
import functools

import numpy as np

from edgekit.errors import DataError
from edgekit.zoo._packages import package_file

N_POINTS = 4032
PER_DAY = 48
PER_WEEK = 7 * PER_DAY


@functools.lru_cache(maxsize=1)
def load_taylor() -> np.ndarray:
    """The demand series in megawatts, float64, shape (4032,) — the same values as pmdarima's load_taylor()."""
    path = package_file("pmdarima", "datasets/taylor.py", "The Taylor electricity-demand series")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "array":
            if node.args and isinstance(node.args[0], ast.List):
                values = np.array(ast.literal_eval(node.args[0]), dtype=np.float64)
                if values.shape == (N_POINTS,):
                    return values
    raise DataError("pmdarima's taylor.py no longer holds the 4,032-point literal array edgekit reads.",
                    got=str(path), tip="pip install --force-reinstall --no-deps pmdarima==2.1.1")
