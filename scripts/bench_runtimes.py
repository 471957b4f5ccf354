"""Every zoo model on this host, in one run: Keras fp32 (tf.function) vs LiteRT / ONNX Runtime / OpenVINO fp32 and
int8, each latency also as a multiple of its floor; and edgekit's profiler vs the runtimes' own benchmark tools.

    python scripts/bench_runtimes.py [--models face-id,plate-ocr] [--build build] [--seconds 2] [--json out.json]

Protocol, the same for every engine: batch 1, 2 threads, 16 distinct held-out samples rotating, warm-up until
stable, then at least 200 runs and --seconds. Missing artifacts are converted first (edgekit convert).

Floor = compute + overhead: the model's MACs (Keras layers counted by converters/common/macs.py; layers it cannot
count are listed and left out, so the floor stays a lower bound) at the fp32 GEMM rate numpy reaches on this CPU,
plus the engine's invoke time for a minimal model (one 4x4 dense layer). "x floor" = p50 / floor.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _bench  # noqa: E402

ENGINES = [("keras", "fp32"), *((rt, p) for rt in _bench.RUNTIME_TARGETS for p in _bench.PRECISIONS)]


def overheads(tmp: Path) -> dict[str, float]:
    """p50 invoke time of a minimal model (one 4x4 dense) per engine: what a call costs before any math."""
    import keras
    import numpy as np

    from edgekit.converters.common.builder import Builder
    from edgekit.converters.common.source import load_source
    from edgekit.converters.recipes import get_recipe
    from edgekit.formats import FORMATS
    from edgekit.runtime import open_session
    from edgekit.targets import load_target

    inp = keras.Input((4,), name="x")
    keras.Model(inp, keras.layers.Dense(4, name="y")(inp)).save(tmp / "minimal.keras")
    src = load_source(str(tmp / "minimal.keras"))
    # distinct, non-zero inputs: the values do not matter to a 4x4 dense, repetition might to a cache
    feeds = [{"x": np.linspace(0.1 * i, 0.1 * i + 1, 4, dtype=np.float32)[None]} for i in range(1, 17)]
    out = {"keras": _bench.latency(_bench.keras_function(src._model, ["x"], feeds[0]), feeds, 1.0)["median_ms"]}
    builder = Builder(src, get_recipe(src.architecture), None, tmp)
    for runtime, target in _bench.RUNTIME_TARGETS.items():
        fmt = load_target(target).format
        session = open_session(builder.build(fmt, "fp32") / FORMATS[fmt].artifact, threads=_bench.THREADS)
        out[runtime] = _bench.latency(session.run, feeds, 1.0)["median_ms"]
    return out


def bench_model(name: str, build: Path, seconds: float, tmp: Path, peak_gflops: float, overhead: dict) -> dict:
    from edgekit.converters.common import macs
    from edgekit.converters.common.source import load_source
    from edgekit.runtime import open_session

    model_dir = _bench.ensure_artifacts(name, build)
    src = load_source(name)
    names = [t.name for t in src.inputs]
    feeds = _bench.feeds_of(src.zoo.heldout_inputs())
    count = macs.count(src._model)
    compute_ms = 2 * count["macs"] / (peak_gflops * 1e9) * 1e3
    row = {"model": name, "macs": count["macs"], "uncounted": count["uncounted"], "compute_floor_ms": compute_ms,
           "engines": {}, "agreement": {}}
    for engine, precision in ENGINES:
        if engine == "keras":
            run = _bench.keras_function(src._model, names, feeds[0])
        else:
            run = open_session(_bench.artifact(model_dir, engine, precision), threads=_bench.THREADS).run
        lat = _bench.latency(run, feeds, seconds)
        floor = compute_ms + overhead[engine]
        row["engines"][f"{engine} {precision}"] = {"p50_ms": lat["median_ms"], "p99_ms": lat["p99_ms"],
                                                   "cov": lat["cov"], "floor_ms": floor,
                                                   "x_floor": lat["median_ms"] / floor}
        print(f"  {name:17s} {engine:12s} {precision}: p50 {lat['median_ms']:.3f} ms", flush=True)
    for precision in _bench.PRECISIONS:
        ours = row["engines"][f"openvino {precision}"]["p50_ms"]
        xml = _bench.artifact(model_dir, "openvino", precision)
        row["agreement"][f"openvino {precision}"] = {
            "edgekit_ms": ours, "tool": "benchmark_app -infer_precision f32",
            "tool_ms": _bench.benchmark_app_median_ms(xml),
            # what a user running benchmark_app with its defaults sees (bf16 compute on CPUs that have it)
            "tool_default_ms": _bench.benchmark_app_median_ms(xml, f32=False)}
        ours = row["engines"][f"litert {precision}"]["p50_ms"]
        theirs = _bench.litert_benchmark_median_ms(_bench.artifact(model_dir, "litert", precision), tmp)
        row["agreement"][f"litert {precision}"] = {"edgekit_ms": ours, "tool": "litert-benchmark", "tool_ms": theirs}
    return row


def print_tables(rows: list[dict], peak: float, overhead: dict) -> None:
    from edgekit.reporting.summary import format_table

    print(f"\nfp32 GEMM peak measured here: {peak:.1f} GFLOP/s; minimal-model invoke p50: "
          + ", ".join(f"{k} {v * 1e3:.0f} us" for k, v in overhead.items()))
    heads = ["model", "MACs", *(f"{e} {p}" for e, p in ENGINES)]
    print("\np50 ms (x floor)")
    print(format_table(heads, [[r["model"], f"{r['macs'] / 1e6:.2f} M" + ("*" if r["uncounted"] else ""),
                                *(f"{r['engines'][f'{e} {p}']['p50_ms']:.3f} ({r['engines'][f'{e} {p}']['x_floor']:.1f}x)"
                                  for e, p in ENGINES)] for r in rows]))
    print("\nspeed-up vs Keras fp32 (tf.function), p50")
    print(format_table(heads[:1] + heads[3:], [[r["model"], *(
        f"{r['engines']['keras fp32']['p50_ms'] / r['engines'][f'{e} {p}']['p50_ms']:.2f}x" for e, p in ENGINES[1:])]
        for r in rows]))
    uncounted = sorted({k for r in rows for k in r["uncounted"]})
    if uncounted:
        print(f"* MACs leave out layers of kinds {', '.join(uncounted)} (floor is a lower bound there)")
    print("\nedgekit profiler vs the runtime's own tool (median ms, same artifact, same threads)")
    agree = []
    for r in rows:
        for k, a in r["agreement"].items():
            ratio = "-" if not a["tool_ms"] else f"{a['edgekit_ms'] / a['tool_ms']:.2f}"
            default = a.get("tool_default_ms")
            agree.append([r["model"], k, a["tool"], f"{a['edgekit_ms']:.3f}",
                          "-" if a["tool_ms"] is None else f"{a['tool_ms']:.3f}", ratio,
                          "-" if default is None else f"{default:.3f}"])
    print(format_table(["model", "artifact", "tool", "edgekit p50", "tool median", "edgekit / tool",
                        "tool with its defaults"], agree))


def main() -> None:
    from edgekit.zoo import ZOO

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=",".join(ZOO))
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--json", default=None, help="also write the rows here")
    args = ap.parse_args()
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(_bench.THREADS)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    peak = _bench.measured_peak_gflops()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        overhead = overheads(Path(tmp))
        for name in args.models.split(","):
            rows.append(bench_model(name, Path(args.build), args.seconds, Path(tmp), peak, overhead))
    print_tables(rows, peak, overhead)
    if args.json:
        Path(args.json).write_text(json.dumps({"peak_gflops": peak, "overhead_ms": overhead, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
