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
from edgekit.converters.common.source import name_of_spec
from edgekit.reporting.metric import Metric
from edgekit.reporting.sweep import render_sweep, write_charts

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


def _evaluation(row) -> dict:
    """Every number the model's evaluation gave (face-id's open-set rates can fall while its top-1 holds), read
    from the artifact's report.json."""
    import json

    metrics = json.loads((Path(row.path).parent / "report.json").read_text(encoding="utf-8"))["metrics"]
    return {k: v for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _other_metrics(metric: str, evaluation: dict) -> dict[str, float]:
    """The evaluation without its primary metric and its sample counts."""
    return {k: v for k, v in evaluation.items() if k != metric and not k.startswith("n_")}


def _other_changes(model: str, base: dict, evaluation: dict) -> dict[str, list[float]]:
    """95 % interval of each other proportion's change vs unpruned in points (+ = higher, whichever way is
    better), for those the zoo model declares with their own sample counts; on the same samples as unpruned or
    not at all."""
    from edgekit.zoo import ZOO

    out = {}
    for p in ZOO[model].proportions if model in ZOO else ():
        n = evaluation.get(p.count)
        if p.name in evaluation and p.name in base and n and base.get(p.count) == n:
            # drop_interval of a higher-is-better metric bounds base - value: the change's interval negated
            lo, hi = Metric(p.name).drop_interval(evaluation[p.name], base[p.name], n)
            out[p.name] = [-hi, -lo]
    return out


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
    """Convert ``model`` unpruned and at each ratio into ``out_root/<model>-sweep-<method>/`` (and nowhere else:
    build/<model>/ keeps its own record; its verified unpruned artifacts are copied from there when they match)
    and write the table and charts there."""
    sweep_dir = Path(out_root) / f"{name_of_spec(model)}-sweep-{method}"
    runs = []
    for ratio in [0.0, *ratios]:
        spec = PruneSpec(method, ratio) if ratio else None
        progress(f"sweep: {'unpruned' if spec is None else spec}")
        # unpruned: what `edgekit convert` already verified in out_root/<model>/ is copied, not built again
        summary = convert(model, jobs, sweep_dir, calib_path=calib_path, eval_path=eval_path, threads=threads,
                          prune=spec, train_path=train_path if spec else None,
                          reuse_from=None if spec else Path(out_root), progress=progress)
        if summary.failed:
            from edgekit.errors import ConversionError

            raise ConversionError(f"prune-sweep: {summary.model} {summary.failed[0].name} failed: "
                                  f"{summary.failed[0].error}", tip="Run `edgekit convert` on it with --debug.")
        runs.append((ratio, summary))
    before = next((s.pruning for _, s in runs if s.pruning), None)
    base_macs = before["macs"]["before"] if before else None
    base_params = before["params"]["before"] if before else None
    wanted = {(j.target.name, j.precision) for j in jobs}
    rows = []
    for ratio, s in runs:
        p = s.pruning or {}
        for a in s.artifacts:
            if (a.target, a.precision) not in wanted:  # the directory may hold artifacts of earlier runs
                continue
            rows.append({"ratio": ratio, "model": s.model, "target": a.target, "format": a.format,
                         "precision": a.precision, "path": a.path, "metric": a.metric, "value": a.value,
                         "unit": a.unit, "size_bytes": a.size_bytes, "gzip_bytes": a.gzip_bytes,
                         "macs": p.get("macs", {}).get("after", base_macs),
                         "params": p.get("params", {}).get("after", base_params),
                         "sparsity": p.get("sparsity", {}).get("model_sparsity", 0.0),
                         "n_evaluated": a.n_evaluated, "evaluation": _evaluation(a)})
    feeds = _feeds(model, eval_path, calib_path)
    name = runs[0][1].model
    for job in jobs:
        mine = [r for r in rows if r["target"] == job.target.name and r["precision"] == job.precision]
        progress(f"sweep: interleaved latency on {job.target.runtime} ({job.target.name} {job.precision})")
        host_threads = threads or job.target.threads
        for r, ms in zip(mine, _interleaved_latency([r["path"] for r in mine], feeds, host_threads)):
            r["latency_median_ms"] = ms
        base = mine[0]
        for r in mine:
            r["metrics"] = _other_metrics(r["metric"], r["evaluation"])
            r["metrics_change_ci95"] = _other_changes(name, base["evaluation"], r["evaluation"]) if r is not base else {}
            r["speedup"] = round(base["latency_median_ms"] / r["latency_median_ms"], 3)
            r["gzip_ratio"] = round(base["gzip_bytes"] / r["gzip_bytes"], 3)
            if r["value"] is not None and base["value"] is not None:
                r["delta"] = r["value"] - base["value"]
                metric = Metric(r["metric"], r["unit"])  # its change's 95 % interval (proportions)
                r["delta_ci95"] = metric.drop_interval(r["value"], base["value"], r["n_evaluated"])
    for r in rows:
        del r["evaluation"]
    sweep = {"schema": "edgekit.prune-sweep/1", "model": name, "method": method, "ratios": [0.0, *ratios],
             "rows": rows, "latency": f"host, interleaved: {ROUNDS} rounds, median of round medians"}
    atomic_write_json(sweep_dir / "sweep.json", sweep)
    charts = write_charts(sweep, sweep_dir)
    atomic_write_text(sweep_dir / "sweep.md", render_sweep(sweep, charts))
    sweep["directory"] = str(sweep_dir)
    return sweep
