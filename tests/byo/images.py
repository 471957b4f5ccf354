"""Real photographs as model inputs: square crops of scikit-learn's two sample photos (a Chinese temple, a
flower), at several scales and positions, resized to the model's input size. Calibration comes from one photo,
held-out inputs from the other, so no evaluated input was seen in calibration."""

from __future__ import annotations

import numpy as np


def photo_crops(which: str, n: int, size: int = 224, seed: int = 0, mean: float = 127.0,
                std: float = 128.0) -> np.ndarray:
    """``n`` crops of the 'china' or 'flower' photo as (n, 3, size, size) float32, (pixel - mean) / std."""
    from sklearn.datasets import load_sample_images

    china, flower = load_sample_images().images
    image = {"china": china, "flower": flower}[which]
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        side = int(rng.integers(size // 2, min(image.shape[:2])))
        y, x = int(rng.integers(0, image.shape[0] - side + 1)), int(rng.integers(0, image.shape[1] - side + 1))
        idx = np.arange(size) * side // size
        crop = image[y : y + side, x : x + side][idx][:, idx].astype(np.float32)
        out.append(((crop - mean) / std).transpose(2, 0, 1))
    return np.stack(out).astype(np.float32)
