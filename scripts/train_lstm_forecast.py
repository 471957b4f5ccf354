"""Train the lstm-forecast zoo model on the Taylor demand series and write its shipped weights.

    python scripts/train_lstm_forecast.py [--epochs 60] [--seed 0]

Writes edgekit/zoo/weights/lstm_forecast.weights.h5 and lstm_forecast.json (normalisation, training record).
Fitted on training weeks 2-8; the epoch is chosen on validation week 9; held-out weeks 10-12 are scored only
at the end, for the record. Takes about a minute on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from edgekit.zoo.lstm_forecast import model as lf

OUT = Path(__file__).resolve().parents[1] / "edgekit" / "zoo" / "weights"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import keras

    keras.utils.set_random_seed(args.seed)
    started = time.time()
    mean, std = lf.normalisation()
    x, t, _ = lf.windows("train")
    y = ((t - mean) / std).astype(np.float32)
    model = lf.build_model()
    steps = args.epochs * int(np.ceil(len(x) / 64))
    model.compile(keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(3e-3, steps)), loss="huber")

    def predict(feeds):
        return model.predict(feeds[lf.INPUT], batch_size=256, verbose=0)

    best, best_epoch, best_weights = np.inf, -1, None
    for epoch in range(args.epochs):
        model.fit(x, {lf.OUTPUT: y}, batch_size=64, epochs=1, shuffle=True, verbose=0)
        val = lf.evaluate(predict, "validation")["mae_mw"]
        if val < best:
            best, best_epoch, best_weights = val, epoch, model.get_weights()
        if epoch % 10 == 0:
            print(f"epoch {epoch:3d}  validation MAE {val:7.1f} MW  (best {best:.1f} @ {best_epoch})", flush=True)
    model.set_weights(best_weights)
    model.save_weights(str(OUT / lf.WEIGHTS))
    record = {
        "normalisation": {"mean_mw": mean, "std_mw": std},
        "training": {"epochs": args.epochs, "best_epoch": best_epoch, "seed": args.seed,
                     "seconds": round(time.time() - started, 1), "validation_mae_mw": round(best, 1)},
        "heldout": {k: round(v, 1) if isinstance(v, float) else v for k, v in lf.evaluate(predict).items()},
        "baseline": {k: round(v, 1) for k, v in lf.baseline().items()},
    }
    (OUT / lf.META).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
