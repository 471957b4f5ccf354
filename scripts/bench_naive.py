"""The conversion a user does by hand vs edgekit's recipe, per zoo model: accuracy and latency side by side.

    python scripts/bench_naive.py [--models face-id,plate-ocr] [--build build] [--seconds 2]

Naive = each converter's defaults with no calibration data ("dynamic-range int8": int8 weights, float
activations, per-tensor where the tool's default is per-tensor):
- LiteRT: tf.lite.TFLiteConverter.from_keras_model + Optimize.DEFAULT, no representative dataset;
- ONNX Runtime: quantize_dynamic (QInt8 weights, per_channel=False) on edgekit's fp32 ONNX export;
- OpenVINO: nncf.compress_weights (int8 weights) on edgekit's fp32 IR.
Recipe = edgekit's int8 artifact (full-integer, calibrated on real training samples, per-channel weights,
float fallback where the recipe measured it). Metric: the zoo model's held-out metric with that runtime.
Latency: the profiler's protocol (batch 1, 2 threads, 16 held-out samples rotating).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _bench  # noqa: E402


def naive_litert(src, model_dir: Path, out: Path) -> Path:
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(src._model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    path = out / "naive.tflite"
    path.write_bytes(converter.convert())
    return path


def naive_onnxruntime(src, model_dir: Path, out: Path) -> Path:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    path = out / "naive.onnx"
    quantize_dynamic(str(_bench.artifact(model_dir, "onnxruntime", "fp32")), str(path), weight_type=QuantType.QInt8)
    return path


def naive_openvino(src, model_dir: Path, out: Path) -> Path:
    import nncf
    import openvino as ov

    core = ov.Core()
    model = nncf.compress_weights(core.read_model(str(_bench.artifact(model_dir, "openvino", "fp32"))))
    path = out / "naive.xml"
    ov.save_model(model, str(path), compress_to_fp16=False)
    return path


NAIVE = {"litert": naive_litert, "onnxruntime": naive_onnxruntime, "openvino": naive_openvino}


def measure(path: Path, src, feeds, seconds: float) -> dict:
    from edgekit.runtime import open_session

    session = open_session(path, threads=_bench.THREADS)
    metrics = src.zoo.evaluate(session.predict)
    size = sum(p.stat().st_size for p in path.parent.glob(path.stem + ".*") if p.suffix in (".tflite", ".onnx", ".xml", ".bin"))
    return {"value": metrics.get(src.zoo.metric), "p50_ms": _bench.latency(session.run, feeds, seconds)["median_ms"],
            "size": size}


def bench_model(name: str, build: Path, seconds: float) -> list[list[str]]:
    from edgekit.converters.common.source import load_source

    model_dir = _bench.ensure_artifacts(name, build)
    src = load_source(name)
    feeds = _bench.feeds_of(src.zoo.heldout_inputs())
    ref = src.zoo.evaluate(src.reference()).get(src.zoo.metric)
    rows = []
    for runtime, make in NAIVE.items():
        with tempfile.TemporaryDirectory() as tmp:
            recipe = measure(_bench.artifact(model_dir, runtime, "int8"), src, feeds, seconds)
            fp32 = measure(_bench.artifact(model_dir, runtime, "fp32"), src, feeds, seconds)
            try:
                naive = measure(make(src, model_dir, Path(tmp)), src, feeds, seconds)
                naive_cells = [f"{naive['value']:.4g}", f"{naive['p50_ms']:.3f}", f"{naive['size'] / 1024:.0f} KiB"]
            except Exception as exc:  # a naive conversion that fails is itself the finding
                first = next((ln for ln in str(exc).splitlines() if ln.strip()), "")
                first = re.split(r"error: |\)\): ", first)[-1]  # MLIR puts the op's whole location first
                naive_cells = [f"failed: {type(exc).__name__}: {first}"[:60], "-", "-"]
        rows.append([name, runtime, src.zoo.metric, f"{ref:.4g}", f"{fp32['value']:.4g}", f"{fp32['p50_ms']:.3f}",
                     *naive_cells, f"{recipe['value']:.4g}", f"{recipe['p50_ms']:.3f}", f"{recipe['size'] / 1024:.0f} KiB"])
        print("  " + "  ".join(rows[-1]), flush=True)
    return rows


def main() -> None:
    from edgekit.reporting.summary import format_table
    from edgekit.zoo import ZOO

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=",".join(ZOO))
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", type=float, default=2.0)
    args = ap.parse_args()
    rows = [r for name in args.models.split(",") for r in bench_model(name, Path(args.build), args.seconds)]
    print(format_table(["model", "runtime", "metric", "Keras fp32", "fp32", "fp32 p50 ms", "naive int8", "naive p50 ms",
                        "naive size", "recipe int8", "recipe p50 ms", "recipe size"], rows))


if __name__ == "__main__":
    main()
