"""Calibration / evaluation data: .npz files keyed by input name, validated against the model."""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from edgekit.errors import DataError, InputFileError, UsageError

LABELS_KEY = "labels"  # in an --eval .npz: integer class labels, one per sample
MIN_CALIBRATION = 20
MAX_CALIBRATION = 300


def load_npz(path: str | Path, role: str) -> dict[str, np.ndarray]:
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"The {role} data file does not exist.", got=str(path), tip="Check the path.")
    tip = "Write it with numpy.savez(path, <input_name>=array, ...)."
    try:
        with open(path, "rb") as fh:
            magic = fh.read(6)
    except OSError as exc:
        raise InputFileError(f"Cannot read the {role} data file ({exc.strerror or exc}).", got=str(path),
                             tip="Check its permissions.") from exc
    # told apart by their first bytes: numpy would call a text file "pickled data" and return a bare array for .npy
    if magic.startswith(b"\x93NUMPY"):
        raise InputFileError(f"The {role} data file is a single .npy array, not an .npz archive of arrays by input "
                             "name.", got=str(path), tip=tip)
    if not magic.startswith(b"PK"):
        raise InputFileError(f"The {role} data file is not an .npz archive (a zip of .npy arrays).",
                             got=f"{path} (starts with {magic!r})", tip=tip)
    try:
        with np.load(path, allow_pickle=False) as npz:
            data = {k: npz[k] for k in npz.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise InputFileError(f"The {role} data file is not a readable .npz archive ({exc}).", got=str(path),
                             tip=tip) from exc
    empty = sorted(k for k, v in data.items() if v.ndim == 0 or len(v) == 0)
    if not data or empty:
        raise InputFileError(f"The {role} data file holds no samples.",
                             got=f"{path}: " + (", ".join(f"{k} shape={data[k].shape}" for k in empty) or "no arrays"),
                             tip=tip.replace("array", "array (samples along the first axis)", 1))
    return data


def load_data(data, role: str) -> dict[str, np.ndarray] | None:
    """Samples from a .npz path, a dict of arrays by input name (labels under 'labels'), or one array (a one-input
    model's samples) — what the CLI and the Python API take."""
    if data is None:
        return None
    if isinstance(data, (str, Path)):
        return load_npz(data, role)
    if isinstance(data, Mapping):
        return {str(k): np.asarray(v) for k, v in data.items()}
    if isinstance(data, np.ndarray):
        return {"input": data}
    raise UsageError(f"The {role} data must be a .npz path, a dict of numpy arrays or a numpy array.",
                     got=type(data).__name__, tip="Pass e.g. {'x': images, 'labels': labels}.")


def by_input_name(data: dict[str, np.ndarray], specs) -> dict[str, np.ndarray]:
    """``data`` keyed by the model's input names. A one-input model takes its one array under any name: Keras
    names a Sequential model's input itself (input_layer, input_layer_3, ... depending on what else the training
    process built), and nobody should have to guess it."""
    arrays = [k for k in data if k != LABELS_KEY]
    if len(specs) == 1 and len(arrays) == 1 and arrays[0] != specs[0].name:
        out = {specs[0].name: data[arrays[0]]}
        if LABELS_KEY in data:
            out[LABELS_KEY] = data[LABELS_KEY]
        return out
    return data


def check_inputs(data: dict[str, np.ndarray], specs, role: str) -> int:
    """Check names and per-sample shapes against the model inputs (see by_input_name); return the number of
    samples."""
    names = [s.name for s in specs]
    given = sorted(k for k in data if k != LABELS_KEY)
    if sorted(names) != given:
        raise DataError(
            f"The {role} data's arrays do not match the model's input names.",
            got=f"arrays {given}; the model's inputs are {names}",
            tip=f"Save one array per input, keyed by input name: numpy.savez(path, {', '.join(f'{n}=...' for n in names)})"
            + (f"; put labels under '{LABELS_KEY}'." if role in ("evaluation", "training") else "."),
        )
    counts = set()
    for spec in specs:
        arr = data[spec.name]
        want = tuple(spec.shape[1:])
        got = tuple(arr.shape[1:])
        if arr.ndim != len(spec.shape) or any(w is not None and w != g for w, g in zip(want, got)):
            raise DataError(
                f"The {role} data for input '{spec.name}' has the wrong shape.",
                got=f"shape={tuple(arr.shape)}; the model expects (N, {', '.join(str(w) for w in want)})",
                tip="Stack samples along the first axis; each sample must have the model's input shape.",
            )
        if not np.issubdtype(arr.dtype, np.number):
            raise DataError(f"The {role} data for input '{spec.name}' is not numeric.", got=f"dtype={arr.dtype}")
        check_finite(arr, f"The {role} data for input '{spec.name}'")
        counts.add(len(arr))
    if len(counts) != 1:
        raise DataError(f"The {role} arrays have different sample counts.", got=f"counts {sorted(counts)}")
    n = counts.pop()
    if role == "evaluation" and LABELS_KEY in data and len(data[LABELS_KEY]) != n:
        raise DataError(
            "The evaluation labels do not match the number of samples.",
            got=f"{len(data[LABELS_KEY])} labels for {n} samples",
        )
    return n


def check_finite(arr: np.ndarray, what: str) -> None:
    """NaN/Inf poison int8 ranges (one Inf once made an ONNX int8 model output a constant) and every comparison:
    refuse them, naming the first bad sample."""
    if not np.issubdtype(arr.dtype, np.floating) or len(arr) == 0:
        return
    bad = ~np.isfinite(arr.reshape(len(arr), -1)).all(axis=1)
    if bad.any():
        first = int(np.argmax(bad))
        kinds = " and ".join(k for k, f in (("NaN", np.isnan), ("Inf", np.isinf)) if f(arr).any())
        raise DataError(f"{what} contains {kinds} values.",
                        got=f"{int(bad.sum())} of {len(arr)} samples are not finite; the first is sample {first}",
                        tip="Drop or repair those samples (numpy.isfinite(x).all(axis=...)) and save the file again.")


def class_labels(labels, n: int) -> np.ndarray:
    """--eval labels as integer class indices: integer (or integer-valued float) class ids, or one-hot rows."""
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] > 1 and np.isin(labels, (0, 1)).all() and (labels.sum(1) == 1).all():
        labels = labels.argmax(1)  # one-hot rows
    if labels.ndim != 1 or len(labels) != n:
        raise DataError(
            "The evaluation labels must be one class index per sample (or one one-hot row per sample).",
            got=f"labels of shape {labels.shape} ({labels.dtype}) for {n} samples",
            tip=f"Save integer class ids: numpy.savez(path, ..., {LABELS_KEY}=y.astype(int)).")
    if not np.issubdtype(labels.dtype, np.integer):
        if not np.issubdtype(labels.dtype, np.number) or not np.all(np.isfinite(labels)) or not np.all(
                labels == np.round(labels)):
            raise DataError("The evaluation labels must be integer class indices.",
                            got=f"dtype={labels.dtype}, e.g. {labels[:3].tolist()}",
                            tip="Save the class index of each sample (argmax of a one-hot row), not scores.")
        labels = labels.astype(np.int64)
    if len(labels) and labels.min() < 0:
        raise DataError("The evaluation labels must be class indices from 0.",
                        got=f"smallest label {int(labels.min())}", tip="Map the classes to 0..C-1.")
    return labels.astype(np.int64)


def spread(n: int, k: int) -> np.ndarray:
    """Indices of at most ``k`` of ``n`` samples, spread evenly (data often comes in order: episodes, windows,
    one class after another)."""
    return np.linspace(0, n - 1, min(n, k)).round().astype(int)


def calibration_subset(data: dict[str, np.ndarray], specs) -> dict[str, np.ndarray]:
    """Validate calibration data and keep at most MAX_CALIBRATION samples, spread evenly."""
    data = by_input_name(data, specs)
    n = check_inputs(data, specs, "calibration")
    if n < MIN_CALIBRATION:
        raise DataError(
            "Too few calibration samples for int8 quantization.",
            got=f"{n} samples",
            tip=f"Give at least {MIN_CALIBRATION} (100-300 real samples from the training data is typical).",
        )
    keep = spread(n, MAX_CALIBRATION)
    return {s.name: np.asarray(data[s.name][keep], dtype=s.dtype) for s in specs}  # token ids stay integers


def data_hash(data: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for key in sorted(data):
        arr = np.ascontiguousarray(data[key])
        h.update(f"{key}:{arr.dtype}:{arr.shape};".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def user_training_set(data: dict[str, np.ndarray], specs, output: str, from_logits: bool, source: str):
    """A --train .npz (samples keyed by input name, integer labels under 'labels') as a TrainingSet that
    fine-tunes ``output`` with sparse cross-entropy."""
    from edgekit.zoo._training import TrainingSet, sparse_softmax_loss

    data = by_input_name(data, specs)
    n = check_inputs(data, specs, "training")
    labels = data.get(LABELS_KEY)
    if labels is None or len(labels) != n or not np.issubdtype(np.asarray(labels).dtype, np.integer):
        raise DataError(
            "Fine-tuning needs integer class labels for every training sample.",
            got=f"labels: {'missing' if labels is None else f'{len(labels)} of dtype {np.asarray(labels).dtype}'} "
            f"for {n} samples",
            tip=f"Save them under '{LABELS_KEY}': numpy.savez(path, {specs[0].name}=x, {LABELS_KEY}=y).",
        )
    return TrainingSet({s.name: np.asarray(data[s.name], s.dtype) for s in specs}, {output: np.asarray(labels)},
                       sparse_softmax_loss(output, from_logits), epochs=10, learning_rate=5e-4,
                       origin=f"--train {source} ({n} samples)")
