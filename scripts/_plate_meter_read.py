"""Read plate crops with hyperlpr2 (the realism meter's instrument). Runs in the meter's own venv, not edgekit's.

    python _plate_meter_read.py CROPS.npz   ->  prints a JSON list: the text hyperlpr2 read for each crop ("" if none)

CROPS.npz holds ``images``: uint8 RGB (N, H, W, 3) plate crops as plate-ocr sees them. hyperlpr2's pipeline
starts with a plate detector that needs a scene, so each crop is enlarged 2x and placed on a 640 x 480 grey
canvas (the way the issue measured real and generated crops alike); of several detections the most confident is
taken. Only numpy, OpenCV and hyperlpr2 here: hyperlpr2 is a measuring instrument, never part of edgekit.
"""

from __future__ import annotations

import json
import sys

import cv2
import numpy as np


def on_canvas(rgb: np.ndarray) -> np.ndarray:
    crop = cv2.resize(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    canvas = np.full((480, 640, 3), 128, np.uint8)
    h, w = crop.shape[:2]
    top, left = (480 - h) // 2, (640 - w) // 2
    canvas[top:top + h, left:left + w] = crop
    return canvas


def main() -> None:
    from hyperlpr2 import HyperLPR_plate_recognition

    images = np.load(sys.argv[1])["images"]
    texts = []
    for rgb in images:
        found = HyperLPR_plate_recognition(on_canvas(rgb)) or []
        texts.append(max(found, key=lambda r: r[1])[0] if found else "")
    json.dump(texts, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
