"""Keras models as tutorials write them — Sequential Dense, Conv2D and LSTM classifiers, and a subclassed model —
trained on the real 8x8 digits, converted to every format and checked against Keras on held-out digits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgekit.converters.common.pipeline import convert, plan_jobs
from edgekit.errors import InputFileError
from edgekit.targets import load_target
from tests.byo.keras_tutorials import SUBCLASSED, TUTORIAL_MODELS, tutorial_model
from tests.conftest import run_cli

INT8_EVERYWHERE = ("raspberry-pi-5", "jetson-orin-nano", "intel-core-ultra-npu")

def _data(digits, kind):
    (xt, yt), (xh, yh) = digits
    if kind == "lstm":  # each image as a sequence of 8 rows of 8 pixels
        xt, xh = xt[..., 0], xh[..., 0]
    return xt, yt, xh, yh


def _train(model, xt, yt):
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(xt, yt, epochs=10, batch_size=64, verbose=0)
    return model


def _jobs():
    return [j for t in INT8_EVERYWHERE for j in plan_jobs([load_target(t)], "int8", every=False)]


@pytest.mark.parametrize("kind", sorted(TUTORIAL_MODELS))
def test_sequential_tutorial_models_convert_to_every_format(kind, tmp_path, digits):
    import keras

    keras.utils.set_random_seed(0)
    xt, yt, xh, yh = _data(digits, kind)
    model = _train(tutorial_model(kind), xt, yt)
    model.save(tmp_path / f"{kind}.keras")
    # keyed as the user likes: Keras names a Sequential model's input itself (input_layer_N on reload)
    np.savez(tmp_path / "calib.npz", x=xt[:200])
    np.savez(tmp_path / "eval.npz", x=xh, labels=yh)
    keras_top1 = float(np.mean(model.predict(xh, verbose=0).argmax(1) == yh))
    summary = convert(str(tmp_path / f"{kind}.keras"), _jobs(), tmp_path / "build",
                      calib_path=str(tmp_path / "calib.npz"), eval_path=str(tmp_path / "eval.npz"))
    assert summary.recipe == ("recurrent" if kind == "lstm" else "generic")
    assert summary.reference_metrics["top1"] == pytest.approx(keras_top1, abs=1e-6)
    assert len(summary.artifacts) == 3
    for row in summary.artifacts:
        assert row.value >= keras_top1 - 0.03, row
        assert row.top1_agreement >= 0.95, row


def test_subclassed_model_with_its_custom_objects_file(tmp_path, digits):
    import runpy

    import keras

    keras.utils.set_random_seed(0)
    (tmp_path / "digit_net.py").write_text(SUBCLASSED)
    xt, yt, xh, yh = _data(digits, "dense")
    net = runpy.run_path(str(tmp_path / "digit_net.py"))["DigitNet"]()
    net.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    net.fit(xt, yt, epochs=10, batch_size=64, verbose=0)
    net.save(tmp_path / "net.keras")
    np.savez(tmp_path / "eval.npz", pixels=xh, labels=yh)
    keras_top1 = float(np.mean(np.asarray(net(xh)).argmax(1) == yh))

    # without the class: one clear error naming it and the option that fixes it
    r = run_cli("convert", str(tmp_path / "net.keras"), "--target", "jetson-orin-nano", "--precision", "fp32",
                "--eval", str(tmp_path / "eval.npz"), "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "uses the custom class 'DigitNet', which is not registered here" in r.stderr
    assert "TIP: Pass --custom-objects" in r.stderr

    # with it: the call's argument name is the input name, and every format verifies
    r = run_cli("convert", str(tmp_path / "net.keras"), "--target", "jetson-orin-nano", "--target",
                "intel-core-ultra-npu", "--precision", "fp32", "--custom-objects", str(tmp_path / "digit_net.py"),
                "--eval", str(tmp_path / "eval.npz"), "--out", str(tmp_path / "o"), "--json")
    assert r.returncode == 0, r.stderr
    import json

    rows = json.loads(r.stdout)["artifacts"]
    assert len(rows) == 2 and all(abs(row["value"] - keras_top1) < 1e-6 for row in rows), rows


def test_sequential_without_an_input_shape_is_one_clear_error(tmp_path):
    import keras

    from edgekit.converters.common.keras_source import functional_view
    from edgekit.errors import UsageError

    model = keras.Sequential([keras.layers.Dense(4), keras.layers.Dense(2)])
    with pytest.raises(UsageError, match="The Sequential model has no input shape") as e:
        functional_view(model)
    assert "keras.Input(shape=...)" in e.value.tip
    with pytest.raises(InputFileError, match="--custom-objects file does not exist"):
        from edgekit.converters.common.keras_source import load_custom_objects

        load_custom_objects(tmp_path / "missing.py")


def test_functional_model_with_dict_outputs_keeps_its_keys(tmp_path, digits):
    """Keras names a functional model's outputs after their layers ('dense', 'dense_1'); a model returning
    {'probs': ..., 'embedding': ...} must be exported and verified under those keys."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    xt, yt, xh, yh = _data(digits, "dense")
    inp = keras.Input((8, 8, 1), name="pixels")
    hidden = layers.Dense(32, activation="relu", name="dense")(layers.Flatten()(inp))
    model = keras.Model(inp, {"probs": layers.Dense(10, activation="softmax", name="dense_1")(hidden),
                              "embedding": hidden})
    model.compile("adam", {"probs": "sparse_categorical_crossentropy"})
    model.fit(xt, {"probs": yt}, epochs=5, batch_size=64, verbose=0)
    model.save(tmp_path / "two_heads.keras")
    np.savez(tmp_path / "eval.npz", pixels=xh, labels=yh)
    summary = convert(str(tmp_path / "two_heads.keras"), plan_jobs([load_target("jetson-orin-nano")], "fp32",
                      every=False), tmp_path / "build", eval_path=str(tmp_path / "eval.npz"))
    keras_top1 = float(np.mean(np.asarray(model(xh)["probs"]).argmax(1) == yh))
    (row,) = summary.artifacts
    assert row.value == pytest.approx(keras_top1, abs=1e-6) and row.snr_db_min > 60
    from edgekit.runtime import open_session

    assert {t.name for t in open_session(row.path).outputs} == {"probs", "embedding"}


def test_every_cell_is_attempted_and_a_failed_one_is_named(tmp_path, digits):
    """Bicubic resizing has no LiteRT builtin kernel: the Raspberry Pi cells fail with the op and layer named,
    the Jetson cells are still built, verified and reported, and the run exits nonzero."""
    import json

    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    xt, yt, xh, yh = _data(digits, "conv")
    model = keras.Sequential([keras.Input((8, 8, 1), name="pixels"), layers.Resizing(16, 16, interpolation="bicubic"),
                              layers.Conv2D(8, 3, activation="relu"), layers.GlobalAveragePooling2D(),
                              layers.Dense(10, activation="softmax")])
    _train(model, xt, yt).save(tmp_path / "bicubic.keras")
    np.savez(tmp_path / "eval.npz", pixels=xh, labels=yh)
    r = run_cli("convert", str(tmp_path / "bicubic.keras"), "--target", "raspberry-pi-5", "--target",
                "jetson-orin-nano", "--precision", "fp32", "--eval", str(tmp_path / "eval.npz"), "--out",
                str(tmp_path / "build"))
    assert r.returncode == 4 and "Traceback" not in r.stderr
    assert "FAILED raspberry-pi-5 fp32 (tflite): TFLite conversion to fp32 failed: LiteRT has no builtin kernel " \
           "for the TensorFlow op(s) ResizeBicubic (layer 'resizing" in r.stdout
    assert "ERROR: 1 of the requested conversions failed" in r.stderr and "are verified and written" in r.stderr
    table = r.stdout.splitlines()
    assert any(line.split()[:4] == ["raspberry-pi-5", "tflite", "fp32", "-"] and "FAILED" in line for line in table)
    summary = json.loads((tmp_path / "build" / "bicubic" / "summary.json").read_text())
    assert [(a["target"], a["precision"]) for a in summary["artifacts"]] == [("jetson-orin-nano", "fp32")]
    assert [(f["target"], f["precision"]) for f in summary["failed"]] == [("raspberry-pi-5", "fp32")]
    assert not (tmp_path / "build" / "bicubic" / "raspberry-pi-5").exists()  # nothing half-written
    assert "FAILED in the last run" in (tmp_path / "build" / "bicubic" / "report.md").read_text()
    html = (tmp_path / "build" / "bicubic" / "report.html").read_text()
    assert "<td>raspberry-pi-5</td><td>tflite</td><td>fp32</td><td>-</td><td>-</td><td>FAILED</td>" in html.replace(
        "\n", "")


def test_integer_token_inputs_keep_their_dtype_everywhere(tmp_path):
    """An Embedding over integer tokens (the 8x8 digits' 0..16 pixel counts, as int64 ids): calibration,
    evaluation and every artifact keep int64 inputs; ONNX fp16 keeps the embedding's index comparisons in float32
    where onnxconverter-common's output would not load, instead of failing."""
    import json

    import keras
    from keras import layers
    from sklearn.datasets import load_digits

    keras.utils.set_random_seed(0)
    d = load_digits()
    x, y = d.data.astype(np.int64), d.target
    model = keras.Sequential([keras.Input((64,), dtype="int64", name="tokens"), layers.Embedding(17, 8),
                              layers.Flatten(), layers.Dense(32, activation="relu"), layers.Dense(10)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x[:1400], y[:1400], epochs=10, batch_size=64, verbose=0)
    model.save(tmp_path / "tokens.keras")
    np.savez(tmp_path / "calib.npz", tokens=x[:200])
    np.savez(tmp_path / "eval.npz", tokens=x[1400:], labels=y[1400:])
    keras_top1 = float(np.mean(np.asarray(model(x[1400:])).argmax(1) == y[1400:]))
    jobs = [j for t in INT8_EVERYWHERE for j in plan_jobs([load_target(t)], "all", every=False)]
    summary = convert(str(tmp_path / "tokens.keras"), jobs, tmp_path / "build", calib_path=str(tmp_path / "calib.npz"),
                      eval_path=str(tmp_path / "eval.npz"))
    assert summary.failed == () and len(summary.artifacts) == 9
    for row in summary.artifacts:
        assert row.value >= keras_top1 - 0.02, row
        meta = json.loads((Path(row.path).parent / "metadata.json").read_text())
        assert meta["inputs"] == [{"name": "tokens", "shape": [1, 64], "dtype": "int64"}], row.name
        assert meta["artifact_io"]["inputs"][0]["dtype"] in ("int64", "int32"), (row.name, meta["artifact_io"])


def test_python_api_takes_an_in_memory_sequential_model(tmp_path, digits):
    """edgekit.convert(model, ...) on the Keras object a tutorial just trained: no file, arrays as data."""
    import keras

    import edgekit

    keras.utils.set_random_seed(0)
    xt, yt, xh, yh = _data(digits, "conv")
    model = _train(tutorial_model("conv"), xt, yt)
    keras_top1 = float(np.mean(model.predict(xh, verbose=0).argmax(1) == yh))
    summary = edgekit.convert(model, targets="raspberry-pi-5", precision="int8", calib=xt[:200],
                              eval={"x": xh, "labels": yh}, out=tmp_path, name="digits-cnn")
    (row,) = summary.artifacts
    assert summary.source["kind"] == "keras" and summary.reference_metrics["top1"] == pytest.approx(keras_top1)
    assert row.value >= keras_top1 - 0.03 and (tmp_path / "digits-cnn" / "raspberry-pi-5" / "int8").is_dir()
