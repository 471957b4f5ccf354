"""Keras layers the zoo's models share (Keras is imported only when a model is built)."""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=1)
def learned_table():
    """A layer that adds a learned tensor of its input's per-sample shape: a learned vector per position
    (tiny-transformer's frames) or per node of a fixed graph (gnn-grid's buses)."""
    import keras

    @keras.saving.register_keras_serializable(package="edgekit")
    class LearnedTable(keras.layers.Layer):
        def build(self, input_shape):
            self.table = self.add_weight(shape=tuple(input_shape[1:]), initializer="zeros", name="table")

        def call(self, x):
            return x + self.table

    return LearnedTable
