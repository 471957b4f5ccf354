"""Train the plate-ocr zoo model on rendered plates and write its shipped weights.

    python scripts/train_plate_ocr.py [--train 40000] [--epochs 14] [--seed 0]

Writes edgekit/zoo/weights/plate_ocr.weights.h5 and plate_ocr.json (training record). Plates are rendered
from training seed 0 (edgekit.zoo.plate_ocr.plates); the epoch is chosen on validation seed 2; held-out seed 1 is scored
only at the end, for the record. Needs fonts-b612, fonts-wqy-microhei and scikit-image's photos (`edgekit doctor`).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from edgekit.zoo.plate_ocr import model as plate_ocr, plates

OUT = Path(__file__).resolve().parents[1] / "edgekit" / "zoo" / "weights"


def _render_chunk(args):
    seed, start, stop = args
    return plates.generate(stop - start, seed, plate_ocr.photos("train"), start=start)


def render_parallel(n: int, seed: int, workers: int) -> tuple[np.ndarray, list[str]]:
    bounds = np.linspace(0, n, 4 * workers + 1).astype(int)
    with ProcessPoolExecutor(workers) as pool:
        parts = list(pool.map(_render_chunk, [(seed, a, b) for a, b in zip(bounds[:-1], bounds[1:])]))
    return np.concatenate([p[0] for p in parts]), [t for p in parts for t in p[1]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", type=int, default=40000)
    ap.add_argument("--epochs", type=int, default=14)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    started = time.time()
    x, texts = render_parallel(args.train, plate_ocr.SEEDS["train"], os.cpu_count() or 1)
    y = plates.encode(texts)
    print(f"rendered {len(x)} training plates in {time.time() - started:.0f} s", flush=True)

    import keras

    keras.utils.set_random_seed(args.seed)
    model = plate_ocr.build_model()
    steps = args.epochs * int(np.ceil(len(x) / 64))
    model.compile(keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(2e-3, steps)),
                  loss={plate_ocr.OUTPUT: keras.losses.SparseCategoricalCrossentropy(from_logits=True)})

    def predict(feeds):
        return model.predict(feeds[plate_ocr.INPUT], batch_size=256, verbose=0)

    best, best_epoch, best_weights = -1.0, -1, None
    for epoch in range(args.epochs):
        model.fit(x, {plate_ocr.OUTPUT: y}, batch_size=64, epochs=1, shuffle=True, verbose=0)
        val = plate_ocr.evaluate(predict, "validation", 1000)
        if val["exact_match"] > best:
            best, best_epoch, best_weights = val["exact_match"], epoch, model.get_weights()
        print(f"epoch {epoch:2d}  validation exact {val['exact_match']:.3f}  chars {val['char_accuracy']:.4f}  "
              f"({time.time() - started:.0f} s)", flush=True)
    model.set_weights(best_weights)
    model.save_weights(str(OUT / plate_ocr.WEIGHTS))
    record = {
        "training": {"plates": args.train, "epochs": args.epochs, "best_epoch": best_epoch, "seed": args.seed,
                     "seconds": round(time.time() - started, 1), "validation_exact_match": best},
        "heldout": plate_ocr.evaluate(predict),
        "fonts": sorted(plates.FONTS),
    }
    (OUT / plate_ocr.META).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
