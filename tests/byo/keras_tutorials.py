"""Keras models as tutorials write them: keras.io's "simple MNIST convnet" and the Sequential DNN / LSTM of every
introduction, and a subclassed model with its own registered class — sized for the real 8x8 digits."""

from __future__ import annotations

import textwrap

TUTORIAL_MODELS = {
    "dense": """keras.Sequential([
        keras.Input(shape=(8, 8, 1)),
        layers.Flatten(),
        layers.Dense(64, activation="relu"),
        layers.Dropout(0.2),
        layers.Dense(10, activation="softmax"),
    ])""",
    "conv": """keras.Sequential([
        keras.Input(shape=(8, 8, 1)),
        layers.Conv2D(16, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])""",
    "lstm": """keras.Sequential([
        keras.Input(shape=(8, 8)),
        layers.LSTM(32),
        layers.Dense(10, activation="softmax"),
    ])""",
}



def tutorial_model(kind: str):
    """A fresh, untrained model of ``kind`` (dense, conv, lstm) built from its tutorial code."""
    import keras
    from keras import layers

    return eval(textwrap.dedent(TUTORIAL_MODELS[kind]), {"keras": keras, "layers": layers})


SUBCLASSED = '''
import keras
from keras import layers


@keras.saving.register_keras_serializable(package="tutorial")
class DigitNet(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.flatten = layers.Flatten()
        self.hidden = layers.Dense(32, activation="relu")
        self.out = layers.Dense(10)

    def call(self, pixels):
        return self.out(self.hidden(self.flatten(pixels)))
'''
