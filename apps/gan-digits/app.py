"""gan-digits on the device: generate handwritten digits from random latents and save them as a PNG.

    python app/app.py --demo        # 32 digits from the packed latents -> output/gan_digits.png beside the releases
    python app/app.py --evaluate    # PSNR against the fp32 generator's images for the same 1,000 latents
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from edgekit.agent.app import run_app  # noqa: E402
from edgekit.zoo.gan_digits import task  # noqa: E402
from edgekit.zoo.imaging import png_grid  # noqa: E402


def demo(ctx):
    images = ctx.predict({task.INPUT: ctx.data("demo")[task.INPUT]})[task.OUTPUT]
    out = ctx.output_path("gan_digits.png")
    with ctx.stage("png encode"):
        out.write_bytes(png_grid(images))
    print(f"wrote {out} ({len(images)} digits)")
    return {"digits": len(images), "png": str(out)}


def evaluate(ctx):
    return task.evaluate_fidelity(ctx.predict, ctx.data("eval"))


if __name__ == "__main__":
    sys.exit(run_app(demo, evaluate))
