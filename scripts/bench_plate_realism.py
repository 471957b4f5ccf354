"""How real do plate-ocr's rendered plates look? A reader trained on real Chinese plates reads them.

    python scripts/bench_plate_realism.py [--n 300] [--meter build/plate-meter] [--sheet build/plate-sheet.png]
                                          [--json out.json]

The instrument is hyperlpr2 2.0.0 (PyPI; its Caffe models ship in the wheel and run through OpenCV's dnn module,
nothing is downloaded). It reads real plate crops at about 0.9 exact match, so what it reads of ours says how far
the renderer is from real plates. It runs in its own venv (--meter; created on first use with pip from PyPI:
hyperlpr2 --no-deps, opencv-python-headless<5, numpy): it is a measuring instrument, never a dependency of edgekit,
never used for training or labels. The plates are the first --n of plate-ocr's held-out split; plate-ocr's own fp32
reading of the same plates is printed next to it ("other 6": the six characters after the province, all right).
--sheet writes a PNG of the first 40 plates (2x, nearest).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
READER = Path(__file__).resolve().parent / "_plate_meter_read.py"
INSTRUMENT = ["hyperlpr2==2.0.0"]
INSTRUMENT_DEPS = ["opencv-python-headless<5", "numpy"]


def meter_python(venv: Path) -> Path:
    """The meter venv's python, creating the venv (from PyPI) the first time."""
    python = venv / "bin" / "python"
    if not (venv / ".installed").is_file():
        print(f"creating the meter's venv in {venv} (hyperlpr2 and OpenCV from PyPI)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "--no-deps", *INSTRUMENT], check=True)  # its metadata pins an old opencv build
        subprocess.run([*pip, *INSTRUMENT_DEPS], check=True)
        (venv / ".installed").touch()
    return python


def score(read: list[str], truth: list[str]) -> dict:
    """plate-ocr's own metric (task.score) on what a reader read, with the exact match's 95 % interval and the six
    characters after the province; a reading of the wrong length counts its missing positions as wrong."""
    from edgekit.profiling.stats import wilson
    from edgekit.zoo.plate_ocr import task

    fitted = [r.ljust(task.LENGTH)[:task.LENGTH] for r in read]
    out = task.score(fitted, truth)
    return {**out, "exact_match_ci95": [round(v, 4) for v in wilson(out["exact_match"], len(truth))],
            "after_province_exact": float(np.mean([r[1:] == t[1:] for r, t in zip(fitted, truth)])),
            "unread": sum(r == "" for r in read), "n": len(truth)}


def write_sheet(images: np.ndarray, path: Path, columns: int = 4) -> None:
    from PIL import Image

    h, w = images.shape[1] * 2, images.shape[2] * 2
    rows = -(-len(images) // columns)
    sheet = Image.new("RGB", (columns * (w + 8) + 8, rows * (h + 8) + 8), (255, 255, 255))
    for k, image in enumerate(images):
        tile = Image.fromarray((image * 255).round().astype(np.uint8)).resize((w, h), Image.NEAREST)
        sheet.paste(tile, (8 + (k % columns) * (w + 8), 8 + (k // columns) * (h + 8)))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--meter", type=Path, default=ROOT / "build" / "plate-meter", help="the instrument's venv")
    ap.add_argument("--sheet", type=Path, default=ROOT / "build" / "plate-sheet.png")
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    args = ap.parse_args()
    if not 1 <= args.n <= 1000:
        sys.exit(f"ERROR: --n must be between 1 and 1000 (the held-out split's size). Got: --n {args.n}")

    from edgekit.zoo.plate_ocr import model as plate_ocr, task

    images, texts = plate_ocr.dataset("heldout", args.n)
    texts = list(texts)
    write_sheet(images[:40], args.sheet)
    with tempfile.TemporaryDirectory(prefix="edgekit-plate-meter-") as tmp:
        crops = Path(tmp) / "crops.npz"
        np.savez(crops, images=(images * 255).round().astype(np.uint8))
        done = subprocess.run([str(meter_python(args.meter)), str(READER), str(crops)], capture_output=True,
                              text=True, encoding="utf-8")
    if done.returncode != 0:
        sys.exit(f"ERROR: hyperlpr2 failed (exit {done.returncode}).\n{done.stderr[-2000:]}")
    hyperlpr = json.loads(done.stdout)

    keras_model = plate_ocr.load_model()
    logits = keras_model.predict(images, batch_size=256, verbose=0)[task.OUTPUT]
    rows = {"hyperlpr2 2.0.0 (trained on real plates)": score(hyperlpr, texts),
            "plate-ocr fp32 (trained on this renderer)": score(task.decode(logits), texts)}
    print(f"{args.n} held-out rendered plates (plate-ocr's split seed {plate_ocr.SEEDS['heldout']}); sheet: {args.sheet}")
    print(f"{'reader':44} {'exact match [95 % CI]':>24} {'per char':>9} {'province':>9} {'other 6':>8} {'unread':>7}")
    for name, s in rows.items():
        lo, hi = s["exact_match_ci95"]
        print(f"{name:44} {s['exact_match']:>8.3f} [{lo:.3f}, {hi:.3f}] {s['char_accuracy']:>9.4f} "
              f"{s['province_accuracy']:>9.3f} {s['after_province_exact']:>8.3f} {s['unread']:>7}")
    by_province: dict[str, list[bool]] = {}
    for r, t in zip(hyperlpr, texts):
        by_province.setdefault(t[0], []).append(r[:1] == t[0])
    worst = sorted(by_province.items(), key=lambda kv: np.mean(kv[1]))[:8]
    print("hyperlpr2's weakest provinces (read right / plates): "
          + ", ".join(f"{p} {sum(v)}/{len(v)}" for p, v in worst))
    confusions: dict[str, int] = {}
    for r, t in zip(hyperlpr, texts):
        for a, b in zip(t, r) if len(r) == len(t) else ():
            if a != b:
                confusions[f"{a}->{b}"] = confusions.get(f"{a}->{b}", 0) + 1
    top = sorted(confusions.items(), key=lambda kv: -kv[1])[:10]
    print("hyperlpr2's commonest confusions (truth->read): " + ", ".join(f"{k} {v}" for k, v in top))
    if args.json:
        args.json.write_text(json.dumps({"n": args.n, "readers": rows, "confusions": dict(top)}, indent=2,
                                        ensure_ascii=False))


if __name__ == "__main__":
    from edgekit.errors import EdgekitError

    try:
        main()
    except EdgekitError as exc:  # a missing font or photo package: what to install, not a traceback
        sys.exit(exc.render())
