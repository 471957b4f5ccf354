"""Save a picture of generated digits: the fp32 Keras model next to each int8 artifact, same latents / noise.

    edgekit convert gan-digits --target all
    python scripts/digits_png.py gan-digits [--build build/gan-digits] [--out build/gan-digits/samples.png] [--n 16]
    edgekit convert diffusion-digits --target all
    python scripts/digits_png.py diffusion-digits

Rows: fp32 Keras, then every <target>/int8 artifact found under --build (run with its device's runtime on the
host; the diffusion denoiser inside the zoo's numpy DDIM sampler). Each row is labelled with its runtime and its
PSNR against the fp32 row.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

MODULES = {"gan-digits": "gan_digits", "diffusion-digits": "diffusion_digits"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", choices=sorted(MODULES))
    ap.add_argument("--build", default=None, help="default: build/<model>")
    ap.add_argument("--out", default=None, help="default: <build>/samples.png")
    ap.add_argument("--n", type=int, default=16)
    args = ap.parse_args()

    import importlib

    from PIL import Image, ImageDraw

    from edgekit.formats import FORMATS
    from edgekit.runtime import open_session
    from edgekit.zoo import digits

    mod = importlib.import_module(f"edgekit.zoo.{MODULES[args.model]}.model")
    rows = [("fp32 Keras", mod.generate(digits.keras_predict(mod.load_model()), "heldout", args.n))]
    build = Path(args.build or f"build/{args.model}")
    for target_dir in sorted(p for p in build.iterdir() if (p / "int8").is_dir()):
        artifact = next(p for p in (target_dir / "int8").iterdir() if p.name in {f.artifact for f in FORMATS.values()})
        session = open_session(artifact)
        rows.append((f"{target_dir.name} int8 ({session.runtime})", mod.generate(session.predict, "heldout", args.n)))
    scale, label_w = 3, 330
    sheet = Image.new("L", (label_w + args.n * 28 * scale, len(rows) * 28 * scale), 255)
    draw = ImageDraw.Draw(sheet)
    for r, (name, images) in enumerate(rows):
        text = name if r == 0 else f"{name}  PSNR {digits.psnr(rows[0][1], images):.1f} dB"
        draw.text((4, r * 28 * scale + 36), text, fill=0)
        for c, img in enumerate(images):
            tile = Image.fromarray((np.clip(img[..., 0], 0, 1) * 255).astype(np.uint8)).resize((28 * scale,) * 2)
            sheet.paste(tile, (label_w + c * 28 * scale, r * 28 * scale))
    out = Path(args.out) if args.out else build / "samples.png"
    sheet.save(out)
    print(f"wrote {out} ({len(rows)} rows x {args.n} digits)")


if __name__ == "__main__":
    main()
