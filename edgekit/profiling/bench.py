"""`edgekit bench` on the workstation: the inputs (checked against the artifact here), the measurement on this host
(edgekit/profiling/measure, which a device runs too for --device) and the tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgekit.errors import UsageError

GENERATED_SAMPLES = 16  # samples rotate over at most this many distinct ones, as a bundle's packed ones do
_INTEGER_IDS = ("int32", "int64", "bool")  # token ids, indices: zeros are always valid ones


def bench_artifact(path: Path, inputs_path: str | None, shapes: dict[str, tuple[int, ...]], threads: int | None,
                   min_runs: int, min_seconds: float, with_ops: bool) -> dict:
    """Everything `edgekit bench` reports, as one JSON-ready dict."""
    from edgekit.profiling.measure import measure

    origin = []

    def feeds_for(specs):
        feeds, where = _feeds(specs, inputs_path, shapes)
        origin.append(where)
        return feeds

    result = measure(path, feeds_for, threads, min_runs, min_seconds, with_ops)
    return {**result, "inputs_from": origin[0]}


def bench_feeds(path: Path, inputs_path: str | None, shapes: dict[str, tuple[int, ...]]) -> tuple[list[dict], str]:
    """The inputs a bench on a device runs on (checked against the artifact on this host), and where they came
    from."""
    from edgekit.runtime import open_session

    return _feeds(open_session(path).inputs, inputs_path, shapes)


def _feeds(specs, inputs_path: str | None, shapes: dict) -> tuple[list[dict[str, np.ndarray]], str]:
    names = [t.name for t in specs]
    unknown = sorted(set(shapes) - set(names))
    if unknown:
        raise UsageError(f"--input-shape names no input of this model: '{unknown[0]}'.", got=f"inputs {names}",
                         tip=f"The model's inputs: {', '.join(names)}.")
    if inputs_path is not None:
        from edgekit.converters.common import data as data_mod

        data = data_mod.by_input_name(data_mod.load_data(inputs_path, "benchmark"), specs)
        n = data_mod.check_inputs({k: v for k, v in data.items() if k != data_mod.LABELS_KEY}, specs, "benchmark")
        feeds = [{t.name: np.asarray(data[t.name][i : i + 1]) for t in specs} for i in range(min(n, GENERATED_SAMPLES))]
        return feeds, f"{min(n, GENERATED_SAMPLES)} samples of {inputs_path}"
    from edgekit.runtime import check_shape

    rng = np.random.default_rng(0)
    fixed = {}
    for t in specs:
        shape = shapes.get(t.name) or t.shape
        if any(d is None for d in shape):
            dynamic = [s.name for s in specs if any(d is None for d in s.shape) and s.name not in shapes]
            raise UsageError(f"Input '{t.name}' has dynamic dimensions, so generated inputs need their size.",
                             got=f"shape ({', '.join('?' if d is None else str(d) for d in t.shape)})",
                             tip="Pass " + " ".join(f"--input-shape {n}=1x..." for n in dynamic)
                             + " (batch first), or --inputs samples.npz.")
        check_shape(t, tuple(shape))  # the runtime layer's one message for a shape the model does not take
        fixed[t.name] = tuple(shape)
    feeds = [{t.name: (np.zeros(fixed[t.name], t.dtype) if t.dtype in _INTEGER_IDS else
                       rng.random(fixed[t.name], dtype=np.float32)) for t in specs} for _ in range(GENERATED_SAMPLES)]
    return feeds, "generated (uniform 0..1 floats, zero integer ids): latency only"


def render(result: dict, top: int) -> str:
    from edgekit.reporting.summary import format_table

    lat, cold = result["latency"], result["cold_start"]
    where = result.get("device")
    lines = [f"{result['artifact']}: {result['runtime']} {result['runtime_options']}"
             + (f" on device {where['address']} ({where['system']} {where['machine']}, Python {where['python']})"
                if where else " on this host"),
             "inputs: " + ", ".join(f"{i['name']} {i['dtype']} {tuple(i['shape'])}" for i in result["inputs"])
             + f" — {result['inputs_from']}", "",
             format_table(["load ms", "first ms", "p50 ms", "p90 ms", "p99 ms", "mean ms", "CoV", "per s", "runs"],
                          [[f"{cold['load_ms']:.1f}", f"{cold['first_inference_ms']:.3f}", f"{lat['median_ms']:.4f}",
                            f"{lat['p90_ms']:.4f}", f"{lat['p99_ms']:.4f}", f"{lat['mean_ms']:.4f}",
                            f"{lat['cov']:.2f}", f"{lat['throughput_per_s']:.1f}", str(lat["runs"])]])]
    ops = result.get("ops")
    if ops and "error" in ops:
        lines += ["", f"per-op profile not available: {ops['error']}"]
    elif ops:
        types = ", ".join(ops["float_op_types"]) or "none"
        share = (f": {100 * ops['plumbing_share']:.0f} % of op time in quantize/dequantize, "
                 f"{100 * ops['float_share']:.0f} % in ops computing in float") if ops.get("total_ms") else ""
        lines += ["", f"per-op profile ({ops['runtime']}, {ops['ops']} ops{share}); "
                  f"{ops['plumbing_ops']} quantize/dequantize ops, {ops['float_ops']} computing in float ({types})"]
        timed = [o for o in ops["per_op"] if o["ms"] is not None]
        if timed:
            by_type: dict[str, list] = {}
            for o in timed:
                by_type.setdefault(o["type"], []).append(o["ms"])
            lines += ["", format_table(["op type", "ops", "ms per inference", "share"], [
                [t, str(len(ms)), f"{sum(ms):.4f}", f"{sum(ms) / ops['total_ms']:.0%}" if ops["total_ms"] else "-"]
                for t, ms in sorted(by_type.items(), key=lambda kv: -sum(kv[1]))])]
            lines += ["", format_table(["op", "type", "computes in", "ms"], [
                [o["name"][-60:], o["type"], o["compute"] or "-", f"{o['ms']:.4f}"]
                for o in sorted(timed, key=lambda o: -o["ms"])[:top]])]
        else:
            counts: dict[tuple[str, str], int] = {}
            for o in ops["per_op"]:
                counts[(o["type"], o["compute"] or "-")] = counts.get((o["type"], o["compute"] or "-"), 0) + 1
            lines += ["", "LiteRT's Python interpreter has no per-op timer: the ops and what each computes in",
                      format_table(["op type", "computes in", "ops"], [[t, c, str(n)] for (t, c), n in
                                                                        sorted(counts.items(), key=lambda kv: -kv[1])])]
    return "\n".join(lines)
