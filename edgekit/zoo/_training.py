"""What fine-tuning a zoo model needs (pruning fine-tunes): its training split, its loss, its augmentation.

Training sets are numpy; ``loss`` and ``augment`` are called inside a tf.function with TensorFlow tensors.
Only training data ever appears here: fine-tuning never sees validation or held-out samples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TrainingSet:
    inputs: dict[str, np.ndarray]  # by input name
    targets: dict[str, np.ndarray]  # by output name
    loss: Callable  # (targets: dict of tensors, outputs: dict of tensors) -> scalar tensor
    epochs: int  # fine-tuning epochs after pruning
    learning_rate: float
    batch_size: int = 32
    augment: Callable | None = None  # (inputs: dict of tensors) -> dict of tensors, training only
    origin: str = ""

    @property
    def samples(self) -> int:
        return int(len(next(iter(self.inputs.values()))))


def sparse_softmax_loss(output: str, from_logits: bool = True) -> Callable:
    """Mean sparse categorical cross-entropy of one output against integer labels."""
    def loss(targets, outputs):
        import keras

        return keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)(targets[output], outputs[output])
    return loss
