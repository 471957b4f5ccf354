"""tiny-transformer's task, device side (numpy only; shipped in bundles): the classes and the metric.

Input ``mels`` (1, 49, 40) log-mel frames; output ``logits`` (1, 12) over CLASSES: 10 keywords, unknown word,
silence.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

INPUT, OUTPUT = "mels", "logits"
KEYWORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
UNKNOWN, SILENCE = "_unknown_", "_silence_"
CLASSES = KEYWORDS + (UNKNOWN, SILENCE)

Predict = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]


def softmax(logits: np.ndarray) -> np.ndarray:
    prob = np.exp(logits - logits.max(-1, keepdims=True))
    return prob / prob.sum(-1, keepdims=True)


def evaluate(predict: Predict, data: dict) -> dict[str, float]:
    """Top-1 over the 12 classes (and over the keyword clips only) on packed features and labels."""
    x, y = data[INPUT], data["labels"]
    pred = predict({INPUT: x})[OUTPUT].argmax(-1)
    kw = y < len(KEYWORDS)
    return {"top1": float(np.mean(pred == y)), "keyword_top1": float(np.mean(pred[kw] == y[kw])),
            "n_heldout": int(len(y)), "n_keyword_clips": int(np.sum(kw))}
