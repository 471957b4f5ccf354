"""Train the tiny-transformer keyword spotter (and its small-CNN baseline) and write the shipped weights.

    python scripts/train_tiny_transformer.py [--epochs 40] [--seed 0]

Clips are synthesised by edgekit.zoo.tiny_transformer.speech with espeak-ng (apt-get install espeak-ng) from training voices
only; the epoch is chosen on validation voices; held-out voices are scored only at the end, for the record.
Both models get the same clips, epochs and optimiser. Writes edgekit/zoo/weights/tiny_transformer.weights.h5
and tiny_transformer.json (baseline and training record).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from edgekit.zoo.tiny_transformer import model as tt, speech

OUT = Path(__file__).resolve().parents[1] / "edgekit" / "zoo" / "weights"


def fit(model, x, y, epochs: int, label: str):
    import keras

    model.get_layer("norm").adapt(x)  # the Normalization layer: training statistics only
    steps = epochs * int(np.ceil(len(x) / 64))
    model.compile(keras.optimizers.AdamW(keras.optimizers.schedules.CosineDecay(2e-3, steps), weight_decay=1e-3),
                  loss={tt.OUTPUT: keras.losses.SparseCategoricalCrossentropy(from_logits=True)})

    def predict(feeds):
        return model.predict(feeds[tt.INPUT], batch_size=256, verbose=0)

    best, best_epoch, best_weights = -1.0, -1, None
    for epoch in range(epochs):
        # SpecAugment-style masking: a random band of frames and of mel channels per clip.
        rng = np.random.default_rng(epoch)
        xa = x.copy()
        mean = x.mean((0, 1))
        for i in range(len(xa)):
            t, f = rng.integers(0, speech.FRAMES - 8), rng.integers(0, speech.N_MELS - 6)
            xa[i, t : t + rng.integers(0, 9)] = mean
            w = rng.integers(0, 7)
            xa[i, :, f : f + w] = mean[f : f + w]
        model.fit(xa, {tt.OUTPUT: y}, batch_size=64, epochs=1, shuffle=True, verbose=0)
        val = tt.evaluate(predict, "validation")["top1"]
        if val > best:
            best, best_epoch, best_weights = val, epoch, model.get_weights()
        print(f"{label} epoch {epoch:2d}  validation top1 {val:.4f}", flush=True)
    model.set_weights(best_weights)
    return predict, best, best_epoch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    started = time.time()
    x, y = speech.dataset("train", tt.SIZES["train"])
    for split in ("validation", "heldout"):
        speech.dataset(split, tt.SIZES[split])
    print(f"synthesised the clips in {time.time() - started:.0f} s", flush=True)

    import keras

    keras.utils.set_random_seed(args.seed)
    cnn = tt.build_baseline_cnn()
    cnn_predict, cnn_val, _ = fit(cnn, x, y, args.epochs, "cnn")
    keras.utils.set_random_seed(args.seed)
    model = tt.build_model()
    predict, val, best_epoch = fit(model, x, y, args.epochs, "transformer")
    model.save_weights(str(OUT / tt.WEIGHTS))
    record = {
        "parameters": int(model.count_params()),
        "training": {"clips": len(x), "epochs": args.epochs, "best_epoch": best_epoch, "seed": args.seed,
                     "seconds": round(time.time() - started, 1), "validation_top1": val,
                     "heldout_top1": tt.evaluate(predict)["top1"]},
        "baseline": {"model": "small CNN (3 conv + pool, same features, clips, epochs, optimiser)",
                     "parameters": int(cnn.count_params()), "validation_top1": cnn_val,
                     "heldout_top1": tt.evaluate(cnn_predict)["top1"]},
        "voices": {s: [v for v in speech.variants() if speech.split_of(v) == s] for s in speech.SPLITS},
    }
    (OUT / tt.META).write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in record.items() if k != "voices"}, indent=2))


if __name__ == "__main__":
    main()
