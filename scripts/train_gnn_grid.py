"""Train the gnn-grid zoo model on pandapower AC power-flow samples of the IEEE 118-bus case.

    python scripts/train_gnn_grid.py [--epochs 300] [--seed 0]

Samples come from edgekit.zoo.gnn_grid.grid (train seed-split 0; the epoch is chosen on validation split 1; held-out
split 2 is scored only at the end). Writes edgekit/zoo/weights/gnn_grid.weights.h5 and gnn_grid.json.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from edgekit.zoo.gnn_grid import grid, model as gg

OUT = Path(__file__).resolve().parents[1] / "edgekit" / "zoo" / "weights"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    started = time.time()
    skipped = {s: grid.dataset(s, n)[2] for s, n in gg.SIZES.items()}
    print(f"solved the power flows in {time.time() - started:.0f} s (skipped {skipped})", flush=True)

    import keras

    keras.utils.set_random_seed(args.seed)
    feeds = gg.inputs("train")
    y = gg.encode_targets(grid.dataset("train", gg.SIZES["train"])[1])
    model = gg.build_model()
    steps = args.epochs * int(np.ceil(len(y) / 32))
    model.compile(keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(2e-3, steps)), loss="mse")

    def predict(f):
        return model.predict(f, batch_size=128, verbose=0)

    best, best_epoch, best_weights = np.inf, -1, None
    for epoch in range(args.epochs):
        model.fit(feeds, {gg.OUTPUT: y}, batch_size=32, epochs=1, shuffle=True, verbose=0)
        if epoch % 5 == 4 or epoch == args.epochs - 1:
            val = gg.evaluate(predict, "validation")
            score = val["vm_rmse_pu"] / 0.001 + val["va_rmse_deg"] / 0.1  # both matter; comparable scales
            if score < best:
                best, best_epoch, best_weights = score, epoch, model.get_weights()
            print(f"epoch {epoch:3d}  validation vm {val['vm_rmse_pu']:.5f} p.u.  va {val['va_rmse_deg']:.3f} deg "
                  f"({time.time() - started:.0f} s)", flush=True)
    model.set_weights(best_weights)
    model.save_weights(str(OUT / gg.WEIGHTS))
    record = {"training": {"samples": len(y), "epochs": args.epochs, "best_epoch": best_epoch, "seed": args.seed,
                           "seconds": round(time.time() - started, 1), "skipped_nonconverged": skipped},
              "heldout": gg.evaluate(predict), "baseline": gg.compute_baseline()}
    (OUT / gg.META).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
