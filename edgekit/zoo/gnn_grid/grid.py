"""State estimation samples for the IEEE 118-bus system (pandapower's case118), solved with pandapower's own AC
power flow (the ground truth).

Sample i of a split scales every load from a seeded generator: a system-wide level U(0.7, 1.3) times a per-load
factor N(1, 0.08) (power factor kept), with generator dispatch following the system level; the slack bus absorbs
the rest. Node features per bus (per unit on 100 MVA): load P, load Q, generator P, voltage setpoint of
generator/slack buses (0 elsewhere), is-generator, is-slack. Targets: voltage magnitude (p.u.) and angle
(degrees). Samples whose power flow does not converge are skipped (recorded). Cached under
$XDG_CACHE_HOME/edgekit/grid (pandapower needs ~50 ms per solve).
"""

from __future__ import annotations

import copy
import functools
import logging
import os

import numpy as np

from edgekit.errors import MissingDependencyError
from edgekit.zoo._cache import cached_arrays

BUSES, FEATURES = 118, 6
SPLITS = {"train": 0, "validation": 1, "heldout": 2}


def _pandapower():
    try:
        logging.getLogger("pandapower").setLevel(logging.ERROR)  # "numba cannot be imported" on every import
        import pandapower
        import pandapower.networks
    except ImportError as exc:
        raise MissingDependencyError("gnn-grid solves power flows with pandapower.", got=str(exc),
                                     tip="pip install 'edgekit[zoo]'") from exc
    return pandapower


@functools.lru_cache(maxsize=1)
def _base_net():
    return _pandapower().networks.case118()


def adjacency() -> np.ndarray:
    """Symmetric-normalised adjacency with self loops, D^-1/2 (A + I) D^-1/2, from lines and transformers."""
    net = _base_net()
    a = np.eye(BUSES, dtype=np.float64)
    for f, t in zip(net.line.from_bus, net.line.to_bus):
        a[f, t] = a[t, f] = 1.0
    for f, t in zip(net.trafo.hv_bus, net.trafo.lv_bus):
        a[f, t] = a[t, f] = 1.0
    d = 1.0 / np.sqrt(a.sum(1))
    return (a * d[:, None] * d[None, :]).astype(np.float32)


def _solve(split: str, i: int):
    pp = _pandapower()
    net = copy.deepcopy(_base_net())
    rng = np.random.default_rng([SPLITS[split], i])
    level = rng.uniform(0.7, 1.3)
    factors = level * rng.normal(1.0, 0.08, len(net.load))
    net.load["p_mw"] *= factors
    net.load["q_mvar"] *= factors
    net.gen["p_mw"] *= level
    try:
        pp.runpp(net, numba=False)
    except pp.powerflow.LoadflowNotConverged:
        return None
    base = net.sn_mva
    x = np.zeros((BUSES, FEATURES), np.float32)
    np.add.at(x[:, 0], net.load.bus.to_numpy(), net.load.p_mw.to_numpy() / base)
    np.add.at(x[:, 1], net.load.bus.to_numpy(), net.load.q_mvar.to_numpy() / base)
    np.add.at(x[:, 2], net.gen.bus.to_numpy(), net.gen.p_mw.to_numpy() / base)
    x[net.gen.bus.to_numpy(), 3] = net.gen.vm_pu.to_numpy()
    x[net.ext_grid.bus.to_numpy(), 3] = net.ext_grid.vm_pu.to_numpy()
    x[net.gen.bus.to_numpy(), 4] = 1.0
    x[net.ext_grid.bus.to_numpy(), 5] = 1.0
    y = np.stack([net.res_bus.vm_pu.to_numpy(), net.res_bus.va_degree.to_numpy()], axis=1).astype(np.float32)
    return x, y


def dataset(split: str, n: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(features (m, 118, 6), targets (m, 118, 2) = [vm p.u., va degrees], skipped) for samples 0..n-1."""
    def make() -> dict[str, np.ndarray]:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(os.cpu_count() or 1) as pool:
            solved = list(pool.map(_solve, [split] * n, range(n), chunksize=16))
        ok = [s for s in solved if s is not None]
        return {"x": np.stack([s[0] for s in ok]), "y": np.stack([s[1] for s in ok]),
                "skipped": np.array(n - len(ok))}

    arrays = cached_arrays("grid", split, n, "case118:v1", make)
    return arrays["x"], arrays["y"], int(arrays["skipped"])


def dc_angles(features: np.ndarray) -> np.ndarray:
    """Baseline: pandapower's DC power flow angles (degrees) for the same injections, (m, 118)."""
    pp = _pandapower()
    out = np.zeros(features.shape[:2], np.float32)
    for k, x in enumerate(features):
        net = copy.deepcopy(_base_net())
        base = net.sn_mva
        net.load["p_mw"] = 0.0
        net.load["q_mvar"] = 0.0
        # Bus totals of the sample, placed on the first load of each bus (a DC solve only sees P per bus).
        first = net.load.drop_duplicates("bus")
        net.load.loc[first.index, "p_mw"] = x[first.bus.to_numpy(), 0] * base
        gens = net.gen.drop_duplicates("bus")
        net.gen["p_mw"] = 0.0
        net.gen.loc[gens.index, "p_mw"] = x[gens.bus.to_numpy(), 2] * base
        pp.rundcpp(net)
        out[k] = net.res_bus.va_degree.to_numpy()
    return out
