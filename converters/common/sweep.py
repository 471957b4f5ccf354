"""`edgekit prune-sweep`: convert a model unpruned and at several pruning ratios; one table and one chart per
target so the user can pick a ratio by accuracy, latency and size.

Latencies in the table are re-measured after every conversion is done, interleaved (round-robin over all
artifacts of a target, 5 rounds, median of the round medians), so slow drift of the host (turbo, heat, other
load) hits every ratio alike instead of whichever was built last.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from edgekit._fs import atomic_write_json, atomic_write_text
from edgekit.converters.common.pipeline import Job, convert
from edgekit.converters.common.pruning import PruneSpec
from edgekit.reporting.summary import format_table

ROUNDS = 5


def _feeds(model: str, eval_path: str | None, calib_path: str | None) -> list[dict[str, np.ndarray]]:
    from edgekit.converters.common import data as data_mod
    from edgekit.zoo import ZOO

    if model in ZOO:
        inputs = ZOO[model].heldout_inputs()
    else:
        inputs = data_mod.load_npz(eval_path or calib_path, "evaluation")
        inputs.pop(data_mod.LABELS_KEY, None)
    n = len(next(iter(inputs.values())))
    return [{k: np.asarray(v[i : i + 1], np.float32) for k, v in inputs.items()}
            for i in np.linspace(0, n - 1, min(16, n)).astype(int)]


def _interleaved_latency(paths: list[str], feeds, threads: int) -> list[float]:
    from edgekit.profiling.latency import measure_latency
    from edgekit.runtime import open_session

    sessions = [open_session(p, threads=threads) for p in paths]
    rounds = [[measure_latency(s.run, feeds, warmup=5, min_runs=30, min_seconds=0.3)["median_ms"] for s in sessions]
              for _ in range(ROUNDS)]
    return [round(float(np.median(col)), 4) for col in zip(*rounds)]


def prune_sweep(model: str, jobs: list[Job], out_root: Path, method: str, ratios: list[float], *,
                calib_path: str | None = None, eval_path: str | None = None, train_path: str | None = None,
                threads: int | None = None, progress: Callable[[str], None] = lambda msg: None) -> dict:
    runs = []
    for ratio in [0.0, *ratios]:
        spec = PruneSpec(method, ratio) if ratio else None
        progress(f"sweep: {'unpruned' if spec is None else spec}")
        runs.append((ratio, convert(model, jobs, out_root, calib_path=calib_path, eval_path=eval_path,
                                    threads=threads, prune=spec, train_path=train_path if spec else None,
                                    progress=progress)))
    base_macs = next((s["pruning"]["macs"]["before"] for _, s in runs if s.get("pruning")), None)
    base_params = next((s["pruning"]["params"]["before"] for _, s in runs if s.get("pruning")), None)
    rows = []
    for ratio, s in runs:
        p = s.get("pruning") or {}
        for a in s["artifacts"]:
            rows.append({"ratio": ratio, "model": s["model"], "target": a["target"], "format": a["format"],
                         "precision": a["precision"], "path": a["path"], "metric": a["metric"], "value": a["value"],
                         "unit": a["unit"], "size_bytes": a["size_bytes"], "gzip_bytes": a["gzip_bytes"],
                         "macs": p.get("macs", {}).get("after", base_macs),
                         "params": p.get("params", {}).get("after", base_params),
                         "sparsity": p.get("sparsity", {}).get("model_sparsity", 0.0)})
    feeds = _feeds(model, eval_path, calib_path)
    for job in jobs:
        mine = [r for r in rows if r["target"] == job.target.name and r["precision"] == job.precision]
        progress(f"sweep: interleaved latency on {job.target.runtime} ({job.target.name} {job.precision})")
        host_threads = threads or job.target.threads
        for r, ms in zip(mine, _interleaved_latency([r["path"] for r in mine], feeds, host_threads)):
            r["latency_median_ms"] = ms
        base = mine[0]
        for r in mine:
            r["speedup"] = round(base["latency_median_ms"] / r["latency_median_ms"], 3)
            r["gzip_ratio"] = round(base["gzip_bytes"] / r["gzip_bytes"], 3)
            if r["value"] is not None and base["value"] is not None:
                r["delta"] = r["value"] - base["value"]
    name = runs[0][1]["model"]
    sweep_dir = Path(out_root) / f"{name}-sweep-{method}"
    sweep = {"schema": "edgekit.prune-sweep/1", "model": name, "method": method, "ratios": [0.0, *ratios],
             "rows": rows, "latency": f"host, interleaved: {ROUNDS} rounds, median of round medians"}
    atomic_write_json(sweep_dir / "sweep.json", sweep)
    charts = write_charts(sweep, sweep_dir)
    atomic_write_text(sweep_dir / "sweep.md", render_sweep(sweep, charts))
    sweep["directory"] = str(sweep_dir)
    return sweep


def _mb(n: int) -> str:
    return f"{n / 1024:.0f} KiB"


def render_sweep(sweep: dict, charts: list[str] | None = None, markdown: bool = True) -> str:
    heads = ["target", "precision", "ratio", "MACs", "params", "sparsity", "size", "gzip", "gzip gain",
             "metric", "Δ vs unpruned", "p50 ms", "speed-up"]
    cells = []
    for r in sweep["rows"]:
        prop = r["unit"] == "proportion"
        delta = r.get("delta")
        cells.append([r["target"], r["precision"], f"{r['ratio']:g}", f"{r['macs'] / 1e6:.2f} M" if r["macs"] else "-",
                      f"{r['params']:,}" if r["params"] else "-", f"{r['sparsity']:.1%}", _mb(r["size_bytes"]),
                      _mb(r["gzip_bytes"]), f"{r['gzip_ratio']:.2f}x",
                      "-" if r["value"] is None else f"{r['metric']} {r['value']:.4f}",
                      "-" if delta is None else (f"{100 * delta:+.2f} pt" if prop else f"{delta:+.4g}"),
                      f"{r['latency_median_ms']:.3f}", f"{r['speedup']:.2f}x"])
    table = format_table(heads, cells, markdown=markdown)
    if not markdown:
        return table
    lines = [f"# edgekit prune-sweep: {sweep['model']} ({sweep['method']})", "",
             f"- latency: {sweep['latency']}", "- accuracy: held-out data with each target's runtime", "",
             table, ""]
    lines += [f"![{c}]({c})" for c in charts or []]
    return "\n".join(lines) + "\n"


def write_charts(sweep: dict, directory: Path) -> list[str]:
    """One accuracy-vs-latency chart per (target, precision); marker area = gzip size."""
    from edgekit.reporting.svg import scatter

    names = []
    for key in dict.fromkeys((r["target"], r["precision"]) for r in sweep["rows"]):
        mine = [r for r in sweep["rows"] if (r["target"], r["precision"]) == key and r["value"] is not None]
        if not mine:
            continue
        series = {f"{sweep['method']} pruning": [
            {"x": r["latency_median_ms"], "y": r["value"], "size": r["gzip_bytes"],
             "label": f"{r['ratio']:g} ({_mb(r['gzip_bytes'])})"} for r in mine]}
        svg = scatter(series, title=f"{sweep['model']} on {key[0]} ({key[1]})", x_label="host p50 latency (ms)",
                      y_label=mine[0]["metric"], size_label="gzip size")
        name = f"{key[0]}-{key[1]}.svg"
        atomic_write_text(directory / name, svg)
        names.append(name)
    return names
