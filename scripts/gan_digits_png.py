"""Save a picture of gan-digits samples: the fp32 generator next to each int8 artifact, same latents.

    edgekit convert gan-digits --target all
    python scripts/gan_digits_png.py [--build build/gan-digits] [--out build/gan-digits/samples.png] [--n 16]

Rows: fp32 Keras, then every <target>/int8 artifact found under --build (run with its device's runtime on the
host). Each row is labelled on the left with its runtime and PSNR against the fp32 row.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build/gan-digits")
    ap.add_argument("--out", default=None)
    ap.add_argument("--n", type=int, default=16)
    args = ap.parse_args()

    from PIL import Image, ImageDraw

    from edgekit.formats import FORMATS
    from edgekit.runtime import open_session
    from edgekit.zoo import gan_digits as gd

    z = gd.latents("heldout", args.n)
    rows = [("fp32 Keras", np.asarray(gd.load_model()(z, training=False)[gd.OUTPUT]))]
    build = Path(args.build)
    for target_dir in sorted(p for p in build.iterdir() if (p / "int8").is_dir()):
        artifact = next(p for p in (target_dir / "int8").iterdir() if p.name in {f.artifact for f in FORMATS.values()})
        session = open_session(artifact)
        rows.append((f"{target_dir.name} int8 ({session.runtime})", session.predict({gd.INPUT: z})[gd.OUTPUT]))
    scale, label_w = 3, 330
    sheet = Image.new("L", (label_w + args.n * 28 * scale, len(rows) * 28 * scale), 255)
    draw = ImageDraw.Draw(sheet)
    for r, (name, images) in enumerate(rows):
        text = name if r == 0 else f"{name}  PSNR {gd.psnr(rows[0][1], images):.1f} dB"
        draw.text((4, r * 28 * scale + 36), text, fill=0)
        for c, img in enumerate(images):
            tile = Image.fromarray((np.clip(img[..., 0], 0, 1) * 255).astype(np.uint8)).resize((28 * scale,) * 2)
            sheet.paste(tile, (label_w + c * 28 * scale, r * 28 * scale))
    out = Path(args.out) if args.out else build / "samples.png"
    sheet.save(out)
    print(f"wrote {out} ({len(rows)} rows x {args.n} digits)")


if __name__ == "__main__":
    main()
