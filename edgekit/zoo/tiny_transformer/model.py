"""tiny-transformer, workstation side: a compact Transformer encoder that spots 10 spoken keywords in 1-second clips.

Why keyword spotting: it is the transformer task an edge device actually runs (wake words, voice commands),
its held-out set can hold out whole voices, and its input (log-mel frames) exercises attention, softmax and
LayerNorm at int8 without an embedding table dominating the model. Data: tiny_transformer.speech (espeak-ng
voices).

Input ``mels`` (1, 49, 40): log-mel frames from speech.features(). Output ``logits`` (1, 12): the 10
keywords, unknown word, silence. Encoder: convolutional frame embedding + learned positional embedding, 3 post-norm blocks
(4-head self-attention, LayerNorm, ReLU feed-forward), mean pool, classifier; 117k parameters.
Baseline: a small CNN on the same features, same training clips and budget (scripts/train_tiny_transformer.py).
"""

from __future__ import annotations

import numpy as np

from edgekit.zoo._layers import learned_table
from edgekit.zoo._weights import load_weights, read_json
from edgekit.zoo.tiny_transformer import speech, task
from edgekit.zoo.tiny_transformer.task import INPUT, OUTPUT

DIM, HEADS, FFN, BLOCKS = 64, 4, 128, 3
SIZES = {"train": 12000, "validation": 1500, "heldout": 2000}
WEIGHTS = "tiny_transformer.weights.h5"
META = "tiny_transformer.json"  # baseline and training record, written by scripts/train_tiny_transformer.py


def build_model():
    from edgekit._lazy import quiet_tensorflow

    quiet_tensorflow()
    import keras
    from keras import layers

    inp = keras.Input(shape=(speech.FRAMES, speech.N_MELS), name=INPUT)
    x = layers.Normalization(axis=-1, name="norm")(inp)  # per-mel mean/variance of the training clips
    # Convolutional frame embedding: each token sees 5 neighbouring frames (formant transitions), which
    # attention alone learns slowly from 12k clips.
    x = layers.Conv1D(DIM, 5, padding="same", activation="relu", name="embed")(x)
    x = learned_table()(name="position")(x)  # learned positional embedding
    for b in range(BLOCKS):
        a = layers.MultiHeadAttention(HEADS, DIM // HEADS, name=f"attn{b}")(x, x)
        x = layers.LayerNormalization(name=f"ln{b}a")(layers.Add(name=f"res{b}a")([x, layers.Dropout(0.1)(a)]))
        f = layers.Dense(FFN, activation="relu", name=f"ffn{b}_in")(x)
        f = layers.Dense(DIM, name=f"ffn{b}_out")(f)
        x = layers.LayerNormalization(name=f"ln{b}b")(layers.Add(name=f"res{b}b")([x, layers.Dropout(0.1)(f)]))
    x = layers.GlobalAveragePooling1D(name="pool")(x)
    out = layers.Dense(len(speech.CLASSES), name=OUTPUT)(layers.Dropout(0.2)(x))
    return keras.Model(inp, {OUTPUT: out}, name="tiny_transformer")


def build_baseline_cnn():
    """The baseline: a small CNN over the same log-mel frames."""
    import keras
    from keras import layers

    inp = keras.Input(shape=(speech.FRAMES, speech.N_MELS), name=INPUT)
    x = layers.Reshape((speech.FRAMES, speech.N_MELS, 1))(layers.Normalization(axis=-1, name="norm")(inp))
    for filters in (16, 32, 64):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.GlobalAveragePooling2D()(x)
    out = layers.Dense(len(speech.CLASSES), name=OUTPUT)(layers.Dropout(0.2)(x))
    return keras.Model(inp, {OUTPUT: out}, name="baseline_cnn")


def load_model():
    return load_weights(build_model(), WEIGHTS)


def calibration_inputs(n: int = 200) -> dict[str, np.ndarray]:
    """Training clips (training voices only)."""
    return {INPUT: speech.dataset("train", n)[0]}


def heldout_inputs() -> dict[str, np.ndarray]:
    return {INPUT: speech.dataset("heldout", SIZES["heldout"])[0]}


def eval_arrays(split: str = "heldout") -> dict[str, np.ndarray]:
    """Log-mel features and labels of a split's clips (held-out: data/eval.npz of a bundle, no espeak-ng needed)."""
    x, y = speech.dataset(split, SIZES[split])
    return {INPUT: x, "labels": y}


def demo_arrays() -> dict[str, np.ndarray]:
    """One held-out clip of each class."""
    d = eval_arrays()
    first = [int(np.flatnonzero(d["labels"] == c)[0]) for c in range(len(speech.CLASSES))]
    return {INPUT: d[INPUT][first], "labels": d["labels"][first]}


def evaluate(predict: task.Predict, split: str = "heldout") -> dict[str, float]:
    """Top-1 over the 12 classes on clips spoken by voices never heard in training (tiny_transformer.task)."""
    return task.evaluate(predict, eval_arrays(split))


def baseline() -> dict[str, float]:
    return {"small_cnn_top1": read_json(META)["baseline"]["heldout_top1"]}
