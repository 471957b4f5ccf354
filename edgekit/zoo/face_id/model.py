"""face-id, workstation side: the Keras model, its ORL data splits, calibration, fine-tuning set and baseline.
The metric itself is device-side code (face_id.task), called here on the same arrays a bundle packs.
"""

from __future__ import annotations

import numpy as np

from edgekit.zoo._weights import load_weights
from edgekit.zoo.face_id import orl, task
from edgekit.zoo.face_id.task import INPUT

EMBED_DIM = 64
SCALE = 16.0  # cosine-softmax temperature
MARGIN = 0.2  # CosFace margin, used in training only
N_CLASSES = len(orl.KNOWN)
WEIGHTS = "face_id.weights.h5"
META = "face_id.json"  # training record, written by scripts/train_face_id.py


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


def calibration_inputs(n: int = 200) -> dict[str, np.ndarray]:
    """Real training images (never held-out ones), spread evenly over the known identities."""
    train = orl.load_faces().select(orl.KNOWN, orl.TRAIN_IMAGES)
    order = np.argsort(train.index * 100 + train.person, kind="stable")  # image 1 of everyone first
    return {INPUT: train.images[order[:n]]}


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


def choose_threshold(predict: task.Predict, accept_rate: float = 0.05) -> float:
    return task.choose_threshold(predict, eval_arrays(), accept_rate)


def evaluate(predict: task.Predict, threshold: float | None = None) -> dict[str, float]:
    """face-id metrics (face_id.task.evaluate) on the held-out ORL split."""
    return task.evaluate(predict, eval_arrays(), threshold)


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
