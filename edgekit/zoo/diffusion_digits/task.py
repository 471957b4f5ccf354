"""diffusion-digits' task, device side (numpy only; shipped in bundles): the deterministic DDIM sampler that
calls the denoiser by input name, the timestep embedding it feeds, and fidelity / speed against fp32.

Inputs ``noisy`` (1, 28, 28, 1) in the [-1, 1] scale and ``time`` (1, 64), the sinusoidal embedding of the
timestep (computed here, so no runtime quantizes sin/cos); output ``noise`` (1, 28, 28, 1). Cosine schedule of
1,000 training steps; sampling is DDIM (eta = 0) over ``STEPS`` evenly spaced timesteps, so an image is a
function of its starting noise alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from edgekit.zoo.imaging import psnr

NOISY, TIME, OUTPUT = "noisy", "time", "noise"
SIZE = 28
T = 1000  # training timesteps
EMBED = 64
STEPS = 10  # DDIM steps per image
SEEDS = {"calibration": 11, "heldout": 12, "validation": 13}
N_EVAL = 500
N_TIMED = 3  # images sampled one at a time for the per-image latency

Predict = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]


def alpha_bar(t: np.ndarray) -> np.ndarray:
    """Cosine schedule (Nichol & Dhariwal 2021): the fraction of signal variance left at timestep t."""
    f = np.cos((np.asarray(t, np.float64) / T + 0.008) / 1.008 * np.pi / 2) ** 2
    f0 = np.cos(0.008 / 1.008 * np.pi / 2) ** 2
    return np.clip(f / f0, 1e-5, 1.0)


def time_embedding(t: np.ndarray) -> np.ndarray:
    """Sinusoidal embedding (n, 64) of integer timesteps (n,): the denoiser's ``time`` input."""
    half = EMBED // 2
    freqs = np.exp(-np.log(10000.0) * np.arange(half) / half)
    angles = np.asarray(t, np.float64)[:, None] * freqs[None, :]
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1).astype(np.float32)


def sampler_timesteps(steps: int = STEPS) -> np.ndarray:
    """The timesteps DDIM visits, from pure noise (T - 1) down to 0."""
    if not 1 <= steps <= T:
        raise ValueError(f"steps must be between 1 and {T}. Got: steps={steps}")
    return np.linspace(T - 1, 0, steps).round().astype(np.int64)


def sample(predict: Predict, noise: np.ndarray, steps: int = STEPS,
           visited: list[dict[str, np.ndarray]] | None = None) -> np.ndarray:
    """Deterministic DDIM from ``noise`` (n, 28, 28, 1); returns images (n, 28, 28, 1) in [0, 1].

    ``predict`` runs the denoiser on a batch fed by name. When ``visited`` is a list, every batch fed to the
    denoiser is appended to it (calibration data).
    """
    x = noise.astype(np.float32)
    ts = sampler_timesteps(steps)
    x0 = x
    for i, t in enumerate(ts):
        feeds = {NOISY: x, TIME: np.repeat(time_embedding(np.array([t])), len(x), axis=0)}
        if visited is not None:
            visited.append(feeds)
        eps = np.asarray(predict(feeds)[OUTPUT], np.float32)
        ab = alpha_bar(t)
        x0 = np.clip((x - np.sqrt(1 - ab) * eps) / np.sqrt(ab), -1.0, 1.0).astype(np.float32)
        if i + 1 < len(ts):
            ab_next = alpha_bar(ts[i + 1])
            x = (np.sqrt(ab_next) * x0 + np.sqrt(1 - ab_next) * eps).astype(np.float32)
    return (x0 + 1.0) / 2.0


def noise(split: str, n: int = N_EVAL) -> np.ndarray:
    return np.random.default_rng(SEEDS[split]).standard_normal((n, SIZE, SIZE, 1)).astype(np.float32)


def time_per_image(predict: Predict, n: int = N_TIMED) -> float:
    """Milliseconds to sample one image end to end (batch 1, sampler included), the median of ``n``."""
    times = []
    for i in range(n):
        started = time.perf_counter()
        sample(predict, noise("heldout", i + 1)[i:])
        times.append((time.perf_counter() - started) * 1e3)
    return float(np.median(times))


def evaluate_fidelity(predict: Predict, data: dict) -> dict[str, float]:
    """PSNR against fp32's images from the same noise, and the time per image and per step."""
    images = sample(predict, data["start_noise"])
    ms = time_per_image(predict)
    return {"psnr_vs_fp32_db": psnr(data["fp32_images"], images), "n_generated": int(len(images)),
            "steps": STEPS, "ms_per_image": ms, "ms_per_step": ms / STEPS}
