"""gan-digits' task, device side (numpy only; shipped in bundles): the generator's latents and its fidelity to
the fp32 generator. Input ``latent`` (1, 32) ~ N(0, 1); output ``image`` (1, 28, 28, 1) in [0, 1]."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edgekit.zoo.imaging import psnr

INPUT, OUTPUT = "latent", "image"
LATENT = 32
SEEDS = {"calibration": 1, "heldout": 2, "validation": 3}
N_EVAL = 1000

Predict = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]


def latents(split: str, n: int = N_EVAL) -> np.ndarray:
    return np.random.default_rng(SEEDS[split]).standard_normal((n, LATENT)).astype(np.float32)


def evaluate_fidelity(predict: Predict, data: dict) -> dict[str, float]:
    """PSNR of the generated images against fp32's for the same latents (what a device can check alone)."""
    images = predict({INPUT: data[INPUT]})[OUTPUT]
    return {"psnr_vs_fp32_db": psnr(data["fp32_images"], images), "n_generated": int(len(images))}
