"""Bring-your-own models: .keras, SavedModel and .onnx, with --calib / --eval data keyed by input name."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from edgekit.converters.common.pipeline import convert, plan_jobs
from edgekit.runtime import open_session
from edgekit.targets import load_target
from tests.conftest import run_cli


def _jobs(target, precision):
    return plan_jobs([load_target(target)], precision, every=False)


def _calibration_lines(lines: list[str], fmt: str, n: int) -> list[str]:
    """The heartbeat lines of one conversion that say which calibration sample its quantizer is at."""
    import re

    pattern = re.compile(rf": converting to {fmt}: still running \(\d+ s; (calibration sample (\d+) of {n}"
                         rf"|{n} of {n} calibration samples fed)(, pass \d+)?\)")
    return [line for line in lines if pattern.search(line)]


def test_keras_to_openvino_int8_for_the_npu(tmp_path, user_model, monkeypatch):
    monkeypatch.setattr("edgekit._heartbeat.EVERY_SECONDS", 0.002)  # beat often enough to see NNCF calibrate
    lines = []
    summary = convert(str(user_model["keras"]), _jobs("intel-core-ultra-npu", None), tmp_path,
                      calib_path=str(user_model["calib"]), eval_path=str(user_model["eval"]), progress=lines.append)
    n = len(np.load(user_model["calib"])["pixels"])
    assert _calibration_lines(lines, "openvino-ir", n), lines
    (row,) = summary.artifacts
    assert row.precision == "int8"  # the NPU target's default
    assert summary.reference_metrics["top1"] == user_model["top1"]
    assert abs(row.value - user_model["top1"]) <= 0.02
    meta = json.loads((tmp_path / "digits" / "intel-core-ultra-npu" / "int8" / "metadata.json").read_text())
    assert meta["source"]["kind"] == "keras" and meta["calibration"]["origin"] == "--calib file"
    assert meta["inputs"] == [{"name": "pixels", "shape": [1, 8, 8, 1], "dtype": "float32"}]


def test_saved_model_to_tflite_int8(tmp_path, user_model, monkeypatch):
    monkeypatch.setattr("edgekit._heartbeat.EVERY_SECONDS", 0.002)
    lines = []
    summary = convert(str(user_model["saved_model"]), _jobs("raspberry-pi-4", "int8"), tmp_path,
                      calib_path=str(user_model["calib"]), eval_path=str(user_model["eval"]), progress=lines.append)
    assert _calibration_lines(lines, "tflite", len(np.load(user_model["calib"])["pixels"])), lines
    (row,) = summary.artifacts
    assert abs(row.value - user_model["top1"]) <= 0.02
    s = open_session(row.path)
    assert s.inputs[0].name == "pixels" and s.inputs[0].dtype == _litert_int8_input_dtype(row.path)


def _litert_int8_input_dtype(path) -> str:
    """Full-integer int8 takes int8 input, unless it ran slower than fp32 here (measured on this 8x8 CNN: 0.051
    vs 0.024 ms) and the speed guard kept dynamic-range (float input, int8 weights): report.json says which, and
    the file's metadata agrees."""
    speed = json.loads((Path(path).parent / "report.json").read_text())["int8_speed"]
    scheme = json.loads((Path(path).parent / "metadata.json").read_text())["format_details"]["int8_scheme"]
    assert scheme == ("dynamic-range" if speed["chosen"] == "dynamic-range" else "full-integer"), (scheme, speed)
    return "float32" if speed["chosen"] == "dynamic-range" else "int8"


def test_onnx_to_jetson_fp16_int8_and_npu_int8(tmp_path, user_model, user_onnx, monkeypatch):
    monkeypatch.setattr("edgekit._heartbeat.EVERY_SECONDS", 0.002)  # ONNX Runtime's calibration, counted
    lines = []
    jobs = _jobs("jetson-orin-nano", "fp16") + _jobs("jetson-orin-nano", "int8") + _jobs("intel-core-ultra-npu", "int8")
    summary = convert(str(user_onnx), jobs, tmp_path, calib_path=str(user_model["calib"]),
                      eval_path=str(user_model["eval"]), progress=lines.append)
    assert _calibration_lines(lines, "onnx", len(np.load(user_model["calib"])["pixels"])), lines
    assert len(summary.artifacts) == 3 and summary.source["kind"] == "onnx"
    for row in summary.artifacts:
        assert abs(row.value - user_model["top1"]) <= 0.02, row
        assert row.top1_agreement >= 0.95


def test_onnx_to_litert_through_onnx2tf(tmp_path, user_model, user_onnx):
    """An .onnx file reaches a Raspberry Pi: onnx2tf makes the SavedModel, TensorFlow's converter the int8 .tflite;
    names and the NHWC input layout survive, accuracy holds."""
    summary = convert(str(user_onnx), _jobs("raspberry-pi-5", "int8"), tmp_path, calib_path=str(user_model["calib"]),
                      eval_path=str(user_model["eval"]))
    (row,) = summary.artifacts
    assert summary.failed == () and abs(row.value - user_model["top1"]) <= 0.03, row
    assert row.top1_agreement >= 0.95
    s = open_session(row.path)
    assert s.inputs[0].name == "pixels" and s.inputs[0].shape == (1, 8, 8, 1)
    assert s.inputs[0].dtype == _litert_int8_input_dtype(row.path)


def test_without_eval_only_agreement_is_reported(tmp_path, user_model):
    r = run_cli("convert", str(user_model["keras"]), "--target", "jetson-orin-nano", "--precision", "fp32",
                "--calib", str(user_model["calib"]), "--out", str(tmp_path), "--json", "--quiet")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["evaluated_on"].startswith("the --calib samples (no int8 in this run")
    assert "loading" not in r.stderr and "verifying with" not in r.stderr, r.stderr  # --quiet: no progress
    (row,) = summary["artifacts"]
    assert row["value"] is None and row["top1_agreement"] == 1.0 and not row["degraded"]
    # logits without labels: nothing says they are class scores, so top-1 agreement is shown but not judged
    report = json.loads((tmp_path / "digits" / "jetson-orin-nano" / "fp32" / "report.json").read_text())
    assert report["fidelity"]["classes"] is False


def test_calibration_fed_by_name_for_two_input_model(tmp_path, digits):
    """Inputs whose names sort differently from their positions still calibrate and verify correctly."""
    import keras
    from keras import layers

    (xt, yt), (xh, yh) = digits
    keras.utils.set_random_seed(1)
    zeta = keras.Input((8, 8, 1), name="zeta")
    alpha = keras.Input((4,), name="alpha")
    h = layers.Flatten()(layers.Conv2D(8, 3, activation="relu")(zeta))
    h = layers.Concatenate()([h, layers.Dense(8)(alpha)])
    model = keras.Model([zeta, alpha], layers.Dense(10, name="out")(h))
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    side = lambda x: x.reshape(len(x), 4, 16).mean(-1)  # a real second view of the same digit
    model.fit([xt, side(xt)], yt, epochs=5, verbose=0)
    model.save(tmp_path / "two.keras")
    np.savez(tmp_path / "calib.npz", zeta=xt[:100], alpha=side(xt[:100]))
    np.savez(tmp_path / "eval.npz", zeta=xh, alpha=side(xh), labels=yh)
    summary = convert(str(tmp_path / "two.keras"), _jobs("raspberry-pi-5", "int8") + _jobs("jetson-orin-nano", "int8"),
                      tmp_path / "out", calib_path=str(tmp_path / "calib.npz"), eval_path=str(tmp_path / "eval.npz"))
    ref = summary.reference_metrics["top1"]
    assert ref > 0.8
    for row in summary.artifacts:
        assert abs(row.value - ref) <= 0.03, row


def test_users_keras_lstm_gets_the_recurrent_recipe(tmp_path, digits):
    """A user's LSTM (digit rows as an 8-step sequence) is unrolled for LiteRT and keeps the LSTM op in ONNX."""
    import keras
    import onnx

    (xt, yt), (xh, yh) = digits
    keras.utils.set_random_seed(0)
    inp = keras.Input((8, 8), name="rows")
    out = keras.layers.Dense(10, name="scores")(keras.layers.LSTM(24)(inp))
    model = keras.Model(inp, out)
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(xt[..., 0], yt, epochs=10, batch_size=32, verbose=0)
    model.save(tmp_path / "rows.keras")
    np.savez(tmp_path / "calib.npz", rows=xt[:200, ..., 0])
    np.savez(tmp_path / "eval.npz", rows=xh[..., 0], labels=yh)
    keras_top1 = float(np.mean(np.asarray(model(xh[..., 0])).argmax(1) == yh))
    r = run_cli("convert", str(tmp_path / "rows.keras"), "--target", "raspberry-pi-5", "--target", "jetson-orin-nano",
                "--precision", "int8", "--calib", str(tmp_path / "calib.npz"), "--eval", str(tmp_path / "eval.npz"),
                "--out", str(tmp_path / "build"), "--json")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["recipe"] == "recurrent"
    for row in summary["artifacts"]:
        assert row["value"] >= keras_top1 - 0.03, row
    ops = {n.op_type for n in onnx.load(str(tmp_path / "build/rows/jetson-orin-nano/int8/model.onnx")).graph.node}
    assert "LSTM" in ops


def test_users_openvino_ir_with_a_dynamic_batch_runs_at_any_batch(tmp_path):
    """Static inputs are copied into the request's own tensors; a dynamic one must be set per call instead."""
    import openvino as ov
    import openvino.opset13 as ops

    x = ops.parameter([-1, 4], np.float32, name="x")
    weights = np.arange(8, dtype=np.float32).reshape(4, 2)
    ov.save_model(ov.Model([ops.matmul(x, ops.constant(weights), False, False)], [x], "dyn"), str(tmp_path / "m.xml"))
    s = open_session(tmp_path / "m.xml", threads=1)
    assert s.inputs[0].shape == (None, 4)
    for batch in (1, 3, 2):
        feed = np.arange(batch * 4, dtype=np.float64).reshape(batch, 4)
        (out,) = s.run({"x": feed}).values()
        np.testing.assert_allclose(out, feed @ weights, rtol=1e-6)


def test_the_model_directory_lists_every_artifact_whichever_run_made_it(tmp_path, user_model):
    """--target all, then one target again: summary.json / report.md still list all twelve artifacts, each with
    when it was built; an artifact of another version of the model in the same directory is named, not listed."""
    import shutil

    import keras

    args = dict(calib_path=str(user_model["calib"]), eval_path=str(user_model["eval"]))
    every = convert(str(user_model["keras"]), plan_jobs(list(_all_targets()), None, every=True), tmp_path, **args)
    assert len(every.artifacts) == 12
    first = {r.name: r.built_at for r in every.artifacts}
    again = convert(str(user_model["keras"]), _jobs("raspberry-pi-5", "int8"), tmp_path, **args)
    assert [r.name for r in again.artifacts] == [r.name for r in every.artifacts]  # all twelve, same order
    rebuilt = [r.name for r in again.artifacts if r.built_at != first[r.name]]
    assert rebuilt == ["raspberry-pi-5 int8"] and again.not_listed == ()
    on_disk = json.loads((tmp_path / "digits" / "summary.json").read_text())
    assert len(on_disk["artifacts"]) == 12 and all(a["built_at"] for a in on_disk["artifacts"])
    assert (tmp_path / "digits" / "report.md").read_text().count("| raspberry-pi-4 ") == 3

    # a retrained model of the same name: its old artifacts are not compared as if they were its own
    model = keras.saving.load_model(user_model["keras"])
    model.set_weights([w * 1.01 for w in model.get_weights()])
    other = tmp_path / "retrained"
    other.mkdir()
    model.save(other / "digits.keras")
    changed = convert(str(other / "digits.keras"), _jobs("jetson-orin-nano", "fp32"), tmp_path, **args)
    assert [r.name for r in changed.artifacts] == ["jetson-orin-nano fp32"]
    assert len(changed.not_listed) == 11 and all("another version of the source" in n for n in changed.not_listed)
    shutil.rmtree(other)


def _all_targets():
    from edgekit.targets import builtin_targets

    return builtin_targets().values()
