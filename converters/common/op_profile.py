"""Where a quantized artifact spends its time, op by op, with the runtime of its target.

One record for the three runtimes (each backend only says how to read its own per-op numbers: ``Backend.ops``):
OpenVINO's performance counters (time and the kernel each op ran, whose name carries its precision: ``jit_avx2_I8``
vs ``jit_avx2_FP32``), ONNX Runtime's profiler (time per node), and for LiteRT, whose Python interpreter has no
profiler, the ops and the type of what each computes (no times). What a reader looks for: the share of time in
quantize / dequantize plumbing and the ops that still compute in float inside an int8 artifact — where int8
kernels are missing, the usual reason an int8 file is slower than its fp32 twin.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

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
