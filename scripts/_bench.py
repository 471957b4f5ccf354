"""What the benchmark scripts share: build the artifacts they compare, real feeds, one latency protocol."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

THREADS = 2  # every engine gets the same thread count (this host has 2 cores)
RUNTIME_TARGETS = {  # one target per runtime: the format and runtime are what matter on the host
    "litert": "raspberry-pi-5",
    "onnxruntime": "jetson-orin-nano",
    "openvino": "intel-core-ultra-npu",
}
PRECISIONS = ("fp32", "int8")
SAMPLES = 16


def ensure_artifacts(model: str, build: Path, progress=print) -> Path:
    """build/<model>/<target>/<precision>/ for every runtime target and precision, converted if missing."""
    from edgekit.converters.common.pipeline import convert, plan_jobs
    from edgekit.targets import load_target

    missing = [(t, p) for t in RUNTIME_TARGETS.values() for p in PRECISIONS
               if not (build / model / t / p / "report.json").is_file()]
    if missing:
        progress(f"{model}: converting {', '.join(f'{t} {p}' for t, p in missing)}")
        jobs = [j for t, p in missing for j in plan_jobs([load_target(t)], p, every=False)]
        convert(model, jobs, build)
    return build / model


def artifact(model_dir: Path, runtime: str, precision: str) -> Path:
    from edgekit.formats import FORMATS
    from edgekit.targets import load_target

    target = load_target(RUNTIME_TARGETS[runtime])
    return model_dir / target.name / precision / FORMATS[target.format].artifact


def feeds_of(inputs: dict[str, np.ndarray], n: int = SAMPLES) -> list[dict[str, np.ndarray]]:
    """``n`` distinct held-out samples at batch 1, spread over the set (the profiler's protocol)."""
    count = len(next(iter(inputs.values())))
    return [{k: v[i : i + 1].astype(np.float32) for k, v in inputs.items()}
            for i in np.linspace(0, count - 1, min(n, count)).astype(int)]


def latency(run, feeds, min_seconds: float = 2.0) -> dict:
    from edgekit.profiling.latency import measure_latency

    return measure_latency(run, feeds, warmup=20, min_runs=200, min_seconds=min_seconds)


def keras_function(model, names: list[str], feed: dict[str, np.ndarray]):
    """The Keras model compiled with tf.function (graph mode, no XLA) at ``feed``'s shapes: the fair Keras baseline."""
    import tensorflow as tf

    from edgekit.converters.common.source import _keras_call

    fn = tf.function(lambda *args: _keras_call(model, names, args),
                     input_signature=[tf.TensorSpec(feed[n].shape, tf.float32) for n in names])
    concrete = fn.get_concrete_function()

    def run(feed):
        out = concrete(*[tf.constant(feed[n]) for n in names])
        # materialise every output so the timing includes the work, as a runtime's invoke does
        for v in tf.nest.flatten(out):
            v.numpy()

    return run


def measured_peak_gflops(threads: int = THREADS, n: int = 1024, repeats: int = 7) -> float:
    """Best fp32 GEMM rate numpy (its BLAS) reaches on this CPU: an achievable, not a datasheet, peak."""
    import time

    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)  # timing input, not model data
    b = a.T.copy()
    a @ b
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def _tool(name: str) -> str:
    """A runtime's own command-line tool: next to the running Python (a venv's python run without activating it),
    the active virtualenv's copy, else whatever PATH finds."""
    for directory in (Path(sys.executable).parent, Path(os.environ.get("VIRTUAL_ENV", "")) / "bin"):
        if (directory / name).is_file():
            return str(directory / name)
    return name


def benchmark_app_median_ms(xml: Path, threads: int = THREADS, seconds: int = 5, f32: bool = True) -> float | None:
    """OpenVINO's own benchmark_app on the same IR, sync API, one stream, same threads: its median latency.

    ``f32``: compute in f32 as edgekit's session does; without it the CPU plugin runs an fp32 IR in bf16 on
    CPUs that have it (avx512_bf16 / AMX), which is a different computation."""
    cmd = [_tool("benchmark_app"), "-m", str(xml), "-d", "CPU", "-api", "sync",
           "-nstreams", "1", "-nthreads", str(threads), "-hint", "none", "-t", str(seconds),
           *(["-infer_precision", "f32"] if f32 else [])]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300).stdout
    m = re.search(r"Median:\s+([\d.]+)\s+(us|ms)", out)
    return None if not m else float(m.group(1)) / (1000 if m.group(2) == "us" else 1)


def litert_benchmark_median_ms(tflite: Path, tmp: Path, threads: int = THREADS, runs: int = 2000) -> float | None:
    """LiteRT's own litert-benchmark on the same .tflite, same threads: its median latency."""
    import json

    result = tmp / "litert-benchmark.json"
    subprocess.run([_tool("litert-benchmark"), "--model", str(tflite), "--num_runs",
                    str(runs), "--num_threads", str(threads), "--result_json", str(result)],
                   capture_output=True, text=True, timeout=300)
    return json.loads(result.read_text())["latency"]["median_ms"] if result.is_file() else None
