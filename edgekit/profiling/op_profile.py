"""Where a quantized artifact spends its time, op by op, with the runtime of its target.

One record for the three runtimes, read by one function per runtime (``OPS_BY_FORMAT``; the converters' backends
call them as ``Backend.ops``, `edgekit bench` on the host and on a device — this module is device-safe: numpy and
the runtime only):
OpenVINO's performance counters (time and the kernel each op ran, whose name carries its precision: ``jit_avx2_I8``
vs ``jit_avx2_FP32``), ONNX Runtime's profiler (time per node), and for LiteRT, whose Python interpreter has no
profiler, the ops and the type of what each computes (no times). What a reader looks for: the share of time in
quantize / dequantize plumbing and the ops that still compute in float inside an int8 artifact — where int8
kernels are missing, the usual reason an int8 file is slower than its fp32 twin.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from edgekit._fs import scratch_directory
from edgekit._lazy import require
from edgekit.runtime import as_model_input

PLUMBING = ("QUANTIZE", "DEQUANTIZE", "QuantizeLinear", "DequantizeLinear", "FakeQuantize", "Convert", "Reorder")
RUNS = 20  # inferences the per-op times are the median of
TOP = 5  # op types a report lists


@dataclass(frozen=True)
class OpTime:
    name: str  # the op as the runtime names it
    type: str  # its op type (LiteRT builtin, ONNX op type, OpenVINO layer type)
    compute: str  # int8, int16, float, int8-dynamic (LiteRT dynamic-range: int8 weights, activations quantized
    # per inference), or "" when the runtime does not say
    ms: float | None  # median time per inference; None where the runtime has no per-op profiler (LiteRT)


@dataclass(frozen=True)
class OpProfile:
    """``ops.json`` next to a quantized artifact, and its summary in report.json."""

    runtime: str
    ops: tuple[OpTime, ...]
    timed: bool  # whether per-op times were measured

    @property
    def float_ops(self) -> list[OpTime]:
        """The ops computing in float that are not quantize/dequantize plumbing."""
        return [o for o in self.ops if o.compute == "float" and o.type not in PLUMBING]

    def summary(self) -> dict:
        plumbing = [o for o in self.ops if o.type in PLUMBING]
        floating = self.float_ops
        out = {"runtime": self.runtime, "ops": len(self.ops), "timed": self.timed,
               "plumbing_ops": len(plumbing), "float_ops": len(floating),
               "float_op_types": sorted({o.type for o in floating})}
        if self.timed:
            total = sum(o.ms or 0.0 for o in self.ops)
            by_type: dict[str, float] = {}
            for o in self.ops:
                by_type[o.type] = by_type.get(o.type, 0.0) + (o.ms or 0.0)
            out.update(total_ms=round(total, 4),
                       plumbing_share=round(sum(o.ms or 0.0 for o in plumbing) / total, 4) if total else None,
                       float_share=round(sum(o.ms or 0.0 for o in floating) / total, 4) if total else None,
                       top_types=[{"type": t, "ms": round(ms, 4)} for t, ms in
                                  sorted(by_type.items(), key=lambda kv: -kv[1])[:TOP]])
        return out

    def to_json(self) -> dict:
        return {**self.summary(), "per_op": [asdict(o) for o in self.ops]}


def compute_of(kernel_or_dtype: str) -> str:
    """int8 / int16 / float from a kernel name (OpenVINO: jit_avx512_I8, ref_any_FP32) or a dtype name (uint8,
    float32)."""
    text = kernel_or_dtype.lower()
    if "float" in text or "bf16" in text or text.endswith(("f32", "f16", "fp32", "fp16")):
        return "float"
    if "int8" in text or text.endswith(("i8", "u8")):
        return "int8"
    if "int16" in text or text.endswith(("i16", "u16")):
        return "int16"
    return ""


def onnx_ops(path: Path, feed: dict[str, np.ndarray], threads: int):
    """ONNX Runtime's profiler (CPU provider, the session's default graph optimisations, so fused and converted
    nodes are what runs): per node its median kernel time over op_profile.RUNS runs and the type of its first input
    (uint8/int8: an int8 kernel; float: a float one)."""
    import json

    ort = require("onnxruntime", purpose="Running ONNX models")
    with scratch_directory("edgekit-ortprof-") as tmp:
        options = ort.SessionOptions()
        options.enable_profiling = True
        options.profile_file_prefix = f"{tmp}/ort"
        options.intra_op_num_threads = threads
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        inputs = {k: as_model_input(v) for k, v in feed.items()}
        for _ in range(RUNS):
            session.run(None, inputs)
        events = json.loads(Path(session.end_profiling()).read_text())
    times: dict[str, list[float]] = {}
    kinds: dict[str, tuple[str, str]] = {}
    for e in events:
        if e.get("cat") != "Node" or not e.get("name", "").endswith("_kernel_time"):
            continue
        name, args = e["name"][: -len("_kernel_time")], e.get("args", {})
        first = (args.get("input_type_shape") or [{}])[0]
        kinds[name] = (args.get("op_name", ""), compute_of(next(iter(first), "")))
        times.setdefault(name, []).append(e["dur"] / 1e3)
    ops = tuple(OpTime(name, *kinds[name], round(float(np.median(t)), 5)) for name, t in times.items())
    return OpProfile("onnxruntime", ops, True)


def openvino_ops(path: Path, feed: dict[str, np.ndarray], threads: int):
    """OpenVINO CPU's performance counters: per executed op (after the plugin's fusions) its median time over
    op_profile.RUNS inferences and the kernel it ran, whose name carries the precision (jit_avx2_I8)."""
    ov = require("openvino", purpose="Running OpenVINO models", extra="convert")
    compiled = ov.Core().compile_model(str(path), "CPU", {"PERF_COUNT": True, "INFERENCE_NUM_THREADS": threads})
    request = compiled.create_infer_request()
    times: dict[str, list[float]] = {}
    kinds: dict[str, tuple[str, str]] = {}
    for _ in range(RUNS):
        request.infer(feed)
        for info in request.profiling_info:
            if info.status != info.Status.EXECUTED:
                continue
            # a FakeQuantize the plugin compiled into a Subgraph is still quantize plumbing
            kind = "FakeQuantize" if "/fq_" in info.node_name else info.node_type
            kinds[info.node_name] = (kind, compute_of(info.exec_type))
            times.setdefault(info.node_name, []).append(info.real_time.total_seconds() * 1e3)
    ops = tuple(OpTime(name, *kinds[name], round(float(np.median(t)), 5)) for name, t in times.items())
    return OpProfile("openvino", ops, True)


def tflite_ops(path: Path):
    """LiteRT's Python interpreter has no per-op profiler (benchmark_model, a C++ tool, has): the ops and the type
    each computes in (its first output's), untimed; float ops inside an int8 file are where int8 kernels are
    missing."""
    interpreter = require("ai_edge_litert.interpreter", purpose="Reading TFLite graphs").Interpreter(
        model_path=str(path))
    tensors = interpreter.get_tensor_details()
    details = interpreter._get_ops_details()
    constants = _constant_tensors(interpreter, details)
    ops, seen = [], set()
    for op in details:
        out = next((i for i in op["outputs"] if i >= 0), None)
        if out in seen:  # the ops list repeats the signature's subgraph
            continue
        seen.add(out)
        dtype = np.dtype(tensors[out]["dtype"]).name if out is not None else ""
        compute = compute_of(dtype)
        weights = {np.dtype(tensors[i]["dtype"]).name for i in op["inputs"] if i in constants}
        if compute == "float" and "int8" in weights:  # dynamic-range: int8 weights, activations quantized per run
            compute = "int8-dynamic"
        ops.append(OpTime(tensors[out]["name"].split(";")[0] if out is not None else str(op["index"]),
                          op["op_name"], compute, None))
    return OpProfile("litert", tuple(ops), False)


def _constant_tensors(interpreter, details) -> set[int]:
    """Indices of the tensors no op computes and no graph input feeds: weights, biases, shapes."""
    produced = {i for op in details for i in op["outputs"]} | {d["index"] for d in interpreter.get_input_details()}
    return {i for op in details for i in op["inputs"] if i >= 0 and i not in produced}


# format name (edgekit.formats) -> its runtime's per-op reader
OPS_BY_FORMAT = {"onnx": onnx_ops, "openvino-ir": openvino_ops, "tflite": lambda path, feed, threads: tflite_ops(path)}
