"""face-id: a small residual CNN that identifies people and embeds faces for open-set enrolment.

Outputs: ``logits`` over the 35 training identities (closed-set top-1) and ``embedding`` (64-d; compared by
cosine similarity after L2 normalisation, outside the model, so an app can enrol people never seen in training
and reject strangers below a threshold). The metric code is numpy-only so a device computes it identically.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edgekit.zoo import orl
from edgekit.zoo._weights import load_weights, read_json

INPUT = "image"
EMBED_DIM = 64
SCALE = 16.0  # cosine-softmax temperature
MARGIN = 0.2  # CosFace margin, used in training only
N_CLASSES = len(orl.KNOWN)
WEIGHTS = "face_id.weights.h5"
META = "face_id.json"  # rejection threshold and training record, written by scripts/train_face_id.py

Predict = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]


def build_model():
    """The Keras 3 functional model (Sequential breaks tf2onnx and OpenVINO conversion)."""
    from edgekit._lazy import quiet_tensorflow

    quiet_tensorflow()
    import keras
    from keras import layers

    def block(x, filters, stride, name):
        shortcut = x
        y = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_conv1")(x)
        y = layers.BatchNormalization(name=f"{name}_bn1")(y)
        y = layers.ReLU(name=f"{name}_relu1")(y)
        y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv2")(y)
        y = layers.BatchNormalization(name=f"{name}_bn2")(y)
        if stride != 1 or x.shape[-1] != filters:
            shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False, name=f"{name}_proj")(x)
            shortcut = layers.BatchNormalization(name=f"{name}_proj_bn")(shortcut)
        y = layers.Add(name=f"{name}_add")([y, shortcut])
        return layers.ReLU(name=f"{name}_out")(y)

    inp = keras.Input(shape=(orl.HEIGHT, orl.WIDTH, 1), name=INPUT)
    x = layers.Conv2D(16, 3, strides=2, padding="same", use_bias=False, name="stem_conv")(inp)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.ReLU(name="stem_relu")(x)
    x = block(x, 16, 1, "res1")
    x = block(x, 32, 2, "res2")
    x = block(x, 64, 2, "res3")
    x = block(x, 96, 2, "res4")
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    emb = layers.Dense(EMBED_DIM, name="embedding")(x)
    # Cosine classifier (CosFace head without the margin): unit embedding . unit class vectors, scaled.
    # It trains embeddings that cluster by angle, which is what open-set matching by cosine needs.
    unit = layers.UnitNormalization(name="unit_embedding")(layers.Dropout(0.2, name="drop")(emb))
    cos = layers.Dense(N_CLASSES, use_bias=False, kernel_constraint=keras.constraints.UnitNorm(axis=0), name="cosine")(unit)
    logits = layers.Rescaling(SCALE, name="logits")(cos)
    return keras.Model(inp, {"embedding": emb, "logits": logits}, name="face_id")


def augmenter(seed: int = 0):
    """Training-time augmentation of face images (flip, small rotation/shift/zoom, contrast, brightness)."""
    import keras
    from keras import layers

    inp = keras.Input(shape=(orl.HEIGHT, orl.WIDTH, 1))
    x = layers.RandomFlip("horizontal", seed=seed)(inp)
    x = layers.RandomRotation(0.03, fill_mode="nearest", seed=seed + 1)(x)
    x = layers.RandomTranslation(0.08, 0.08, fill_mode="nearest", seed=seed + 2)(x)
    x = layers.RandomZoom(0.1, fill_mode="nearest", seed=seed + 3)(x)
    x = layers.RandomContrast(0.3, seed=seed + 4)(x)
    x = layers.RandomBrightness(0.15, value_range=(0.0, 1.0), seed=seed + 5)(x)
    return keras.Model(inp, x, name="augment")


def margin_loss(loss_fn, labels, logits):
    """CosFace: the true class's scaled cosine is lowered by SCALE * MARGIN before the softmax loss."""
    import tensorflow as tf

    onehot = tf.one_hot(labels, N_CLASSES)
    return loss_fn(onehot, logits - SCALE * MARGIN * onehot)


def training_set():
    """The training split (images 1-5 of the 32 known people) with the training loss and augmentation."""
    from edgekit.zoo._training import TrainingSet

    train = orl.load_faces().select(orl.KNOWN, orl.TRAIN_IMAGES)
    aug = augmenter(0)

    def loss(targets, outputs):
        import keras

        ce = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
        return margin_loss(ce, targets["logits"], outputs["logits"])

    return TrainingSet({INPUT: train.images}, {"logits": orl.class_index(train.person)}, loss, epochs=150,
                       learning_rate=2e-3, augment=lambda x: {INPUT: aug(x[INPUT], training=True)},
                       origin="ORL training split (images 1-5 of s1-s32), augmented")


def load_model():
    return load_weights(build_model(), WEIGHTS)


def meta() -> dict:
    return read_json(META)


def calibration_inputs(n: int = 200) -> dict[str, np.ndarray]:
    """Real training images (never held-out ones), spread evenly over the known identities."""
    train = orl.load_faces().select(orl.KNOWN, orl.TRAIN_IMAGES)
    order = np.argsort(train.index * 100 + train.person, kind="stable")  # image 1 of everyone first
    return {INPUT: train.images[order[:n]]}


def _normalise(e: np.ndarray) -> np.ndarray:
    return e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)


def _gallery(emb: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels = np.unique(ids)
    centroids = np.stack([_normalise(emb[ids == p]).mean(0) for p in labels])
    return _normalise(centroids), labels


def _match(probes: np.ndarray, gallery: np.ndarray, labels: np.ndarray, threshold: float):
    sims = _normalise(probes) @ gallery.T
    best = sims.argmax(1)
    return labels[best], sims[np.arange(len(probes)), best] >= threshold


def eval_arrays() -> dict[str, np.ndarray]:
    """Everything evaluate() reads, as plain arrays (what a device bundle packs as data/eval.npz)."""
    faces = orl.load_faces()
    train = faces.select(orl.KNOWN, orl.TRAIN_IMAGES)
    held = faces.select(orl.KNOWN, orl.HELDOUT_IMAGES)
    unseen = faces.select(orl.UNSEEN, range(1, 11))
    strangers = faces.select(orl.THRESHOLD_STRANGERS, range(1, 11))
    return {"train_images": train.images, "train_person": train.person, "held_images": held.images,
            "held_person": held.person, "held_class": orl.class_index(held.person),
            "unseen_images": unseen.images, "unseen_person": unseen.person,
            "unseen_enrol": np.isin(unseen.index, orl.ENROL_IMAGES), "stranger_images": strangers.images}


def demo_arrays() -> dict[str, np.ndarray]:
    """A device demo: the known people's training images as the enrolled gallery, and probes: one held-out
    image of 8 known people and one image of each of the 4 never-seen people (who should be rejected)."""
    d = eval_arrays()
    known = np.flatnonzero(d["held_person"] != np.roll(d["held_person"], 1))[:8]  # first image of 8 people
    strangers = np.flatnonzero(d["unseen_person"] != np.roll(d["unseen_person"], 1))
    return {INPUT: np.concatenate([d["held_images"][known], d["unseen_images"][strangers]]),
            "probe_person": np.concatenate([d["held_person"][known], np.full(len(strangers), -1)]),
            "gallery_images": d["train_images"], "gallery_person": d["train_person"]}


def choose_threshold(predict: Predict, accept_rate: float = 0.05, data: dict | None = None) -> float:
    """Cosine threshold that accepts ``accept_rate`` of never-trained strangers against the known gallery.

    Known people's impostor scores are too optimistic (the classifier was trained to separate exactly them),
    so the operating point is set on strangers kept for this purpose only (ORL s33..s36), with the model being
    evaluated: a pruned or quantized model's similarities shift, and so does its operating point.
    """
    d = eval_arrays() if data is None else data
    gallery, _ = _gallery(predict({INPUT: d["train_images"]})["embedding"], d["train_person"])
    probes = _normalise(predict({INPUT: d["stranger_images"]})["embedding"])
    return round(float(np.quantile((probes @ gallery.T).max(1), 1.0 - accept_rate)), 3)


def evaluate(predict: Predict, threshold: float | None = None, data: dict | None = None) -> dict[str, float]:
    """face-id metrics on held-out data. ``predict`` maps {'image': batch} to {'logits', 'embedding'}.

    ``data`` defaults to eval_arrays() (a device passes the packed copy). The rejection threshold is set with
    ``predict`` itself on the threshold strangers (see choose_threshold) unless given."""
    d = eval_arrays() if data is None else data
    threshold = choose_threshold(predict, data=d) if threshold is None else threshold
    out_held = predict({INPUT: d["held_images"]})
    top1 = float(np.mean(out_held["logits"].argmax(1) == d["held_class"]))
    emb_train = predict({INPUT: d["train_images"]})["embedding"]
    emb_unseen = predict({INPUT: d["unseen_images"]})["embedding"]

    known_gallery, known_labels = _gallery(emb_train, d["train_person"])
    pred, accepted = _match(out_held["embedding"], known_gallery, known_labels, threshold)
    known_ident = float(np.mean((pred == d["held_person"]) & accepted))
    false_reject = float(np.mean(~accepted))
    # Strangers against a gallery of the known people only: they should all be rejected.
    _, stranger_accepted = _match(emb_unseen, known_gallery, known_labels, threshold)
    # Enrol the unseen people from 3 images each, then identify their other 7 images.
    enrol, person = d["unseen_enrol"].astype(bool), d["unseen_person"]
    g_new, l_new = _gallery(emb_unseen[enrol], person[enrol])
    gallery, labels = np.concatenate([known_gallery, g_new]), np.concatenate([known_labels, l_new])
    pred_u, acc_u = _match(emb_unseen[~enrol], gallery, labels, threshold)
    return {
        "top1": top1,
        "n_heldout": int(len(d["held_person"])),
        "embedding_top1": known_ident,
        "false_reject_rate": false_reject,
        "stranger_reject_rate": float(np.mean(~stranger_accepted)),
        "enrolled_unseen_top1": float(np.mean((pred_u == person[~enrol]) & acc_u)),
        "threshold": float(threshold),
    }


def eigenfaces_baseline(components: int = 60) -> float:
    """Classic eigenfaces (PCA) + 1-nearest-neighbour top-1 on the same split."""
    faces = orl.load_faces()
    train = faces.select(orl.KNOWN, orl.TRAIN_IMAGES)
    held = faces.select(orl.KNOWN, orl.HELDOUT_IMAGES)
    xt = train.images.reshape(len(train.person), -1)
    xh = held.images.reshape(len(held.person), -1)
    mean = xt.mean(0)
    _, _, vt = np.linalg.svd(xt - mean, full_matrices=False)
    basis = vt[:components].T
    pt, ph = (xt - mean) @ basis, (xh - mean) @ basis
    dist = ((ph[:, None, :] - pt[None, :, :]) ** 2).sum(-1)
    return float(np.mean(train.person[dist.argmin(1)] == held.person))


def heldout_inputs() -> dict[str, np.ndarray]:
    """The held-out images of the known people: inputs for agreement and latency measurements."""
    return {INPUT: orl.load_faces().select(orl.KNOWN, orl.HELDOUT_IMAGES).images}


def baseline() -> dict[str, float]:
    return {"eigenfaces_1nn_top1": eigenfaces_baseline()}
