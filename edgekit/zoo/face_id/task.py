"""face-id's task, device side (numpy only; shipped in bundles): enrol a gallery, match probes by cosine
similarity with rejection, and the metric — the same code on the workstation and on a device.

The model's outputs: ``logits`` over the 32 known identities (closed-set top-1) and ``embedding`` (64-d). Faces
are compared by cosine similarity after L2 normalisation, outside the model, so an app can enrol people never
seen in training and reject strangers below a threshold.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

INPUT = "image"
LOGITS, EMBEDDING = "logits", "embedding"

Predict = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]


def normalise(e: np.ndarray) -> np.ndarray:
    return e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)


def gallery(embeddings: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Enrol: one unit centroid per identity. Returns (centroids (P, D), identities (P,))."""
    labels = np.unique(ids)
    centroids = np.stack([normalise(embeddings[ids == p]).mean(0) for p in labels])
    return normalise(centroids), labels


def match(probes: np.ndarray, centroids: np.ndarray, labels: np.ndarray, threshold: float):
    """Identify probe embeddings: (best identity, accepted = cosine similarity >= threshold) per probe."""
    sims = normalise(probes) @ centroids.T
    best = sims.argmax(1)
    return labels[best], sims[np.arange(len(probes)), best] >= threshold


def choose_threshold(predict: Predict, data: dict, accept_rate: float = 0.05) -> float:
    """Cosine threshold that accepts ``accept_rate`` of never-trained strangers against the known gallery.

    Known people's impostor scores are too optimistic (the classifier was trained to separate exactly them),
    so the operating point is set on strangers kept for this purpose only (ORL s33..s36), with the model being
    evaluated: a pruned or quantized model's similarities shift, and so does its operating point.
    ``data``: the evaluation arrays (face_id.model.eval_arrays(), data/eval.npz on a device).
    """
    centroids, _ = gallery(predict({INPUT: data["train_images"]})[EMBEDDING], data["train_person"])
    probes = normalise(predict({INPUT: data["stranger_images"]})[EMBEDDING])
    return round(float(np.quantile((probes @ centroids.T).max(1), 1.0 - accept_rate)), 3)


def evaluate(predict: Predict, data: dict, threshold: float | None = None) -> dict[str, float]:
    """face-id metrics on held-out data. ``predict`` maps {'image': batch} to {'logits', 'embedding'}.

    The rejection threshold is set with ``predict`` itself on the threshold strangers (see choose_threshold)
    unless given."""
    d = data
    threshold = choose_threshold(predict, d) if threshold is None else threshold
    out_held = predict({INPUT: d["held_images"]})
    top1 = float(np.mean(out_held[LOGITS].argmax(1) == d["held_class"]))
    emb_train = predict({INPUT: d["train_images"]})[EMBEDDING]
    emb_unseen = predict({INPUT: d["unseen_images"]})[EMBEDDING]

    known_gallery, known_labels = gallery(emb_train, d["train_person"])
    pred, accepted = match(out_held[EMBEDDING], known_gallery, known_labels, threshold)
    known_ident = float(np.mean((pred == d["held_person"]) & accepted))
    false_reject = float(np.mean(~accepted))
    # Strangers against a gallery of the known people only: they should all be rejected.
    _, stranger_accepted = match(emb_unseen, known_gallery, known_labels, threshold)
    # Enrol the unseen people from 3 images each, then identify their other 7 images.
    enrol, person = d["unseen_enrol"].astype(bool), d["unseen_person"]
    g_new, l_new = gallery(emb_unseen[enrol], person[enrol])
    centroids, labels = np.concatenate([known_gallery, g_new]), np.concatenate([known_labels, l_new])
    pred_u, acc_u = match(emb_unseen[~enrol], centroids, labels, threshold)
    return {
        "top1": top1,
        "n_heldout": int(len(d["held_person"])),
        "embedding_top1": known_ident,
        "false_reject_rate": false_reject,
        "stranger_reject_rate": float(np.mean(~stranger_accepted)),
        "enrolled_unseen_top1": float(np.mean((pred_u == person[~enrol]) & acc_u)),
        "threshold": float(threshold),
        # the samples behind the two open-set rates (n_heldout, first, counts the others)
        "n_strangers": int(len(emb_unseen)),
        "n_unseen_probes": int(np.sum(~enrol)),
    }
