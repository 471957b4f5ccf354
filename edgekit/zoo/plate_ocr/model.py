"""plate-ocr, workstation side: a compact CNN that reads a whole Chinese licence plate in one pass.

Design (in the spirit of LPRNet, without CTC): a conv stack squeezes the 32 x 100 plate to one row of 25
column features; a learned ``align`` layer maps those 25 columns to the 7 character positions (a dense layer
over the width axis: soft, learned alignment that tolerates perspective and offset), and one shared classifier
scores every position over the 65-character alphabet. Output ``chars`` (1, 7, 65) logits. Decoding
(plate_ocr.task.decode: argmax restricted to the characters each position may hold) runs in numpy outside the model,
identical on workstation and device. Fixed layout makes per-position heads exact where CTC would need
blank/merge rules; plates with a different character count (new-energy 8-character plates) are out of scope.

Data: plates rendered by edgekit.zoo.plate_ocr.plates, deterministic per seed: training seed 0, validation seed 2,
held-out seed 1 (1,000 plates); never the same images.
"""

from __future__ import annotations

import functools
import numpy as np

from edgekit.zoo._weights import load_weights
from edgekit.zoo.plate_ocr import plates, task
from edgekit.zoo.plate_ocr.task import INPUT, OUTPUT

SEEDS = {"train": 0, "heldout": 1, "validation": 2}
HELDOUT_SIZE = 1000
WEIGHTS = "plate_ocr.weights.h5"
META = "plate_ocr.json"  # training record, written by scripts/train_plate_ocr.py


def photos(split: str) -> str:
    """The scenes a split's plates are set on: held-out and validation plates on photos training never sees."""
    return "training" if split == "train" else "evaluation"


def build_model():
    from edgekit._lazy import quiet_tensorflow

    quiet_tensorflow()
    import keras
    from keras import layers

    def conv(x, filters, name, kernel=3, padding="same"):
        x = layers.Conv2D(filters, kernel, padding=padding, use_bias=False, name=f"{name}_conv")(x)
        x = layers.BatchNormalization(name=f"{name}_bn")(x)
        return layers.ReLU(name=f"{name}_relu")(x)

    inp = keras.Input(shape=(plates.HEIGHT, plates.WIDTH, 3), name=INPUT)
    x = conv(inp, 16, "c1")
    x = layers.MaxPooling2D(2, name="p1")(x)  # 16 x 50
    x = conv(conv(x, 32, "c2a"), 32, "c2b")
    x = layers.MaxPooling2D(2, name="p2")(x)  # 8 x 25
    x = conv(conv(x, 64, "c3a"), 64, "c3b")
    x = layers.MaxPooling2D((2, 1), name="p3")(x)  # 4 x 25
    x = conv(x, 96, "c4", kernel=(4, 1), padding="valid")  # 1 x 25: one feature vector per column
    x = layers.Reshape((plates.WIDTH // 4, 96), name="columns")(x)
    x = layers.Permute((2, 1), name="to_channels")(x)
    x = layers.Dense(plates.LENGTH, name="align")(x)  # 25 columns -> 7 character positions
    x = layers.Permute((2, 1), name="to_positions")(x)
    x = layers.Dropout(0.2, name="drop")(x)
    x = layers.Dense(96, activation="relu", name="char_features")(x)
    out = layers.Dense(len(plates.ALPHABET), name=OUTPUT)(x)
    return keras.Model(inp, {OUTPUT: out}, name="plate_ocr")


def load_model():
    return load_weights(build_model(), WEIGHTS)


@functools.lru_cache(maxsize=4)
def dataset(split: str, n: int) -> tuple[np.ndarray, tuple[str, ...]]:
    images, texts = plates.generate(n, SEEDS[split], photos(split))
    return images, tuple(texts)


def calibration_inputs(n: int = 200) -> dict[str, np.ndarray]:
    """Rendered training plates (seed 0), never held-out ones."""
    return {INPUT: dataset("train", n)[0]}


def heldout_inputs() -> dict[str, np.ndarray]:
    return {INPUT: dataset("heldout", HELDOUT_SIZE)[0]}


def training_set(n: int = 8000):
    """``n`` rendered training plates (seed 0: the training split) for fine-tuning, with the training loss."""
    from edgekit.zoo._training import TrainingSet, sparse_softmax_loss

    images, texts = dataset("train", n)
    return TrainingSet({INPUT: images}, {OUTPUT: plates.encode(list(texts))}, sparse_softmax_loss(OUTPUT),
                       epochs=8, learning_rate=1e-3, batch_size=64, origin=f"{n} rendered training plates (seed 0)")


def eval_arrays(split: str = "heldout", n: int = HELDOUT_SIZE) -> dict[str, np.ndarray]:
    """``n`` plates of ``split`` and their texts as class indices (held-out: what a device bundle packs as
    data/eval.npz)."""
    images, texts = dataset(split, n)
    return {INPUT: images, "labels": plates.encode(list(texts))}


def demo_arrays() -> dict[str, np.ndarray]:
    """12 held-out plates for a device demo."""
    d = eval_arrays()
    return {INPUT: d[INPUT][:12], "labels": d["labels"][:12]}


def evaluate(predict: task.Predict, split: str = "heldout", n: int = HELDOUT_SIZE) -> dict:
    """Whole-plate exact match and per-character accuracy on ``n`` rendered plates of ``split``."""
    return task.evaluate(predict, eval_arrays(split, n))


def baseline() -> dict[str, float]:
    """Chance level of exact match is ~3e-11; the meaningful reference is the fp32 row itself."""
    return {}
