"""plate-ocr's task, device side (numpy only; shipped in bundles): the plate alphabet, decoding the model's
per-position scores, and the metric — the same code on the workstation and on a device.

A plate is 7 characters: a province (31), a letter (A-Z without I and O), then 5 letters or digits. Output
``chars`` (1, 7, 65): logits over ALPHABET per position.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edgekit.errors import DataError

INPUT, OUTPUT = "plate", "chars"
PROVINCES = "京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川贵云藏陕甘青宁新"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # I and O are never used (they read as 1 and 0)
DIGITS = "0123456789"
ALPHABET = PROVINCES + LETTERS + DIGITS  # class index = position in this string
POSITIONS = (PROVINCES, LETTERS) + (LETTERS + DIGITS,) * 5  # what each of the 7 positions may hold
LENGTH = len(POSITIONS)

Predict = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]


def validate(text: str) -> str:
    """Return ``text`` if it is a valid plate; otherwise one DataError naming the offending character."""
    if len(text) != LENGTH:
        raise DataError(f"A plate has exactly {LENGTH} characters.", got=f"{text!r} ({len(text)} characters)",
                        tip="Province character, a letter, then 5 letters or digits, e.g. '京A12345'.")
    for i, (ch, allowed) in enumerate(zip(text, POSITIONS)):
        if ch not in allowed:
            kind = ("a province character", "a letter A-Z without I/O")[i] if i < 2 else "a letter (no I/O) or digit"
            raise DataError(f"Unknown character {ch!r} at position {i + 1} of plate {text!r}: it must be {kind}.",
                            got=text, tip=f"Allowed at position {i + 1}: {allowed}")
    return text


def encode(texts: list[str]) -> np.ndarray:
    """Plate strings -> class indices (N, 7)."""
    return np.array([[ALPHABET.index(c) for c in validate(t)] for t in texts], dtype=np.int64)


def decode(logits: np.ndarray) -> list[str]:
    """(N, 7, len(ALPHABET)) scores -> plate strings; each position only picks characters it may hold.

    numpy-only, the same on workstation and device."""
    out = []
    masks = [np.array([c in allowed for c in ALPHABET]) for allowed in POSITIONS]
    for row in np.asarray(logits):
        out.append("".join(ALPHABET[int(np.argmax(np.where(m, s, -np.inf)))] for s, m in zip(row, masks)))
    return out


def texts_of(labels: np.ndarray) -> list[str]:
    """Class indices (N, 7) -> plate strings."""
    return ["".join(ALPHABET[i] for i in row) for row in labels]


def score(pred: list[str], truth: list[str]) -> dict[str, float]:
    chars = np.array([[p == t for p, t in zip(a, b)] for a, b in zip(pred, truth)])
    return {"exact_match": float(chars.all(1).mean()), "char_accuracy": float(chars.mean()),
            "province_accuracy": float(chars[:, 0].mean())}


def evaluate(predict: Predict, data: dict) -> dict:
    """Whole-plate exact match and per-character accuracy on packed plate images and their labels."""
    images = data[INPUT]
    pred = decode(predict({INPUT: images})[OUTPUT])
    return {**score(pred, texts_of(data["labels"])), "n_heldout": int(len(images))}
