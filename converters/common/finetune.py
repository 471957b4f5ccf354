"""Fine-tune a Keras model on a TrainingSet, optionally re-applying weight masks after every optimiser step."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from edgekit.zoo._training import TrainingSet


def planned_steps(ts: TrainingSet, epochs: int | None = None) -> int:
    return (ts.epochs if epochs is None else epochs) * max(1, int(np.ceil(ts.samples / ts.batch_size)))


def fine_tune(model, ts: TrainingSet, *, epochs: int | None = None, seed: int = 0, teacher=None,
              after_step: Callable[[int], None] | None = None, progress: Callable[[str], None] = lambda msg: None) -> dict:
    """Adam with cosine decay from ``ts.learning_rate``; ``after_step(step)`` runs after each update (masks).

    With a ``teacher`` (the unpruned model), every output is also pulled towards the teacher's output on the
    same augmented batch (mean squared error over the teacher's output variance, so outputs of any scale count
    equally): with little training data this keeps what the model had learnt, e.g. face-id's embedding geometry.
    Returns a record: epochs, steps, samples, final loss, seconds.
    """
    import keras
    import tensorflow as tf

    from edgekit.converters.common.source import _keras_call, _keras_outputs

    epochs = ts.epochs if epochs is None else epochs
    names = [t.name for t in model.inputs]
    missing = sorted(set(names) - set(ts.inputs))
    if missing:
        from edgekit.errors import DataError

        raise DataError("The training data does not have every model input.", got=f"missing {missing}",
                        tip=f"Key the training arrays by input name: {', '.join(names)}.")
    n = ts.samples
    per_epoch = max(1, int(np.ceil(n / ts.batch_size)))
    total = planned_steps(ts, epochs)
    opt = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(ts.learning_rate, max(total, 1)))

    @tf.function
    def step(feeds, targets):
        if ts.augment is not None:
            feeds = ts.augment(feeds)
        with tf.GradientTape() as tape:
            out = _keras_outputs(model, _keras_call(model, names, [feeds[k] for k in names]))
            loss = ts.loss(targets, out)
            if teacher is not None:
                ref = _keras_outputs(teacher, _keras_call(teacher, names, [feeds[k] for k in names]))
                for key, t in ref.items():
                    loss += tf.reduce_mean(tf.square(out[key] - t)) / (tf.math.reduce_variance(t) + 1e-6)
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    rng = np.random.default_rng(seed)
    started, k, losses = time.perf_counter(), 0, [np.nan]
    for epoch in range(epochs):
        order = rng.permutation(n)
        losses = []
        for b in np.array_split(order, per_epoch):
            feeds = {name: tf.constant(ts.inputs[name][b], tf.float32) for name in names}
            targets = {key: tf.constant(v[b]) for key, v in ts.targets.items()}
            losses.append(float(step(feeds, targets)))
            k += 1
            if after_step:
                after_step(k)
        progress(f"fine-tuning epoch {epoch + 1}/{epochs}: loss {np.mean(losses):.4f}")
    return {"epochs": epochs, "steps": k, "samples": n, "batch_size": ts.batch_size,
            "learning_rate": ts.learning_rate, "final_loss": float(np.mean(losses)),
            "seconds": round(time.perf_counter() - started, 1), "data": ts.origin,
            "distilled_from_unpruned": teacher is not None}
