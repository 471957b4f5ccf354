"""Show the int8 float-fallback search at work: per backend, each candidate layer's measured recovery.

    python scripts/bench_float_fallback.py [--model tiny-transformer] [--tolerance 0.0] [--formats tflite,onnx,openvino-ir]

With the recipe's tolerance (0.5 points) every backend keeps tiny-transformer fully int8; a tolerance of 0
forces the full search, so the table shows which layers cost accuracy on which backend (validation split).
Prints one table per format: trial, float layers, validation metric.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="tiny-transformer")
    ap.add_argument("--tolerance", type=float, default=0.0)
    ap.add_argument("--formats", default="tflite,onnx,openvino-ir")
    args = ap.parse_args()

    from edgekit.converters.common.builder import Builder
    from edgekit.converters.common.source import load_source
    from edgekit.converters.recipes import get_recipe
    from edgekit.reporting.summary import format_table

    src = load_source(args.model)
    recipe = dataclasses.replace(get_recipe(src.architecture), float_fallback_tolerance=args.tolerance)
    if not recipe.float_fallback_types:
        raise SystemExit(f"recipe {recipe.name!r} of {args.model} allows no float fallback")
    with tempfile.TemporaryDirectory() as tmp:
        builder = Builder(src, recipe, src.zoo.calibration_inputs(recipe.calibration_samples), Path(tmp))
        for fmt in args.formats.split(","):
            started = time.perf_counter()
            builder.build(fmt, "int8")
            d = builder.fallbacks[fmt]
            rows = [[str(i), ", ".join(t["float_layers"]) or "(all int8)", f"{t['score']:.4f}",
                     f"{100 * (t['score'] - d['reference']):+.2f}"] for i, t in enumerate(d["trials"])]
            print(f"\n{args.model} {fmt} int8 — validation {d['metric']} fp32 {d['reference']:.4f}, tolerance "
                  f"{args.tolerance}; chosen float layers: {', '.join(d['float_layers']) or 'none'} "
                  f"({time.perf_counter() - started:.0f} s)")
            print(format_table(["trial", "float layers", d["metric"], "Δ pt vs fp32"], rows))


if __name__ == "__main__":
    main()
