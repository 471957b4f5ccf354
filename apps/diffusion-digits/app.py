"""diffusion-digits on the device: sample handwritten digits with a 10-step DDIM loop and save a PNG.

    python app/app.py --demo        # 16 digits from the packed starting noise -> output/diffusion_digits.png beside the releases
    python app/app.py --evaluate    # PSNR against fp32's images from the same 500 noises; ms per image/step
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from edgekit.agent.app import run_app  # noqa: E402
from edgekit.zoo.diffusion_digits import task  # noqa: E402
from edgekit.zoo.imaging import png_grid  # noqa: E402


def demo(ctx):
    started = time.perf_counter()
    images = task.sample(ctx.predict, ctx.data("demo")["start_noise"])
    seconds = time.perf_counter() - started
    out = ctx.output_path("diffusion_digits.png")
    with ctx.stage("png encode"):
        out.write_bytes(png_grid(images))
    print(f"wrote {out} ({len(images)} digits, {task.STEPS} denoiser steps each, {seconds:.2f} s)")
    return {"digits": len(images), "steps": task.STEPS, "png": str(out)}


def evaluate(ctx):
    return task.evaluate_fidelity(ctx.predict, ctx.data("eval"))


if __name__ == "__main__":
    sys.exit(run_app(demo, evaluate))
