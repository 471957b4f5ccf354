"""Data that cannot give a trustworthy int8 artifact is refused or named before quantizing, the artifacts are
verified on samples that did not calibrate them, and a degraded artifact never exits 0 unless the user says so."""

from __future__ import annotations

import json

import numpy as np

from tests.conftest import run_cli


def _convert(tmp_path, user_model, *args, target="raspberry-pi-5"):
    return run_cli("convert", str(user_model["keras"]), "--target", target, "--precision", "int8",
                   "--out", str(tmp_path / "out"), "--json", *args)


def test_nan_or_inf_calibration_is_refused_naming_the_first_bad_sample(tmp_path, user_model, digits):
    x = digits[0][0][:200].copy()
    x[17, 3, 3, 0], x[40, 0, 0, 0] = np.nan, np.inf
    np.savez(tmp_path / "c.npz", pixels=x)
    r = _convert(tmp_path, user_model, "--calib", str(tmp_path / "c.npz"), "--eval", str(user_model["eval"]))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "ERROR: The calibration data for input 'pixels' contains NaN and Inf values." in r.stderr
    assert "2 of 200 samples are not finite; the first is sample 17" in r.stderr
    assert not (tmp_path / "out").exists() or not any(p.is_file() for p in (tmp_path / "out").rglob("*"))


def test_noise_calibration_is_a_named_check(tmp_path, user_model):
    noise = np.random.default_rng(0).random((200, 8, 8, 1)).astype(np.float32)
    np.savez(tmp_path / "c.npz", pixels=noise)
    r = _convert(tmp_path, user_model, "--calib", str(tmp_path / "c.npz"), "--eval", str(user_model["eval"]),
                 "--allow-degraded")
    assert r.returncode == 0, r.stderr
    found = {f["check"]: f["message"] for f in json.loads(r.stdout)["sanity"]}
    assert "calibration input 'pixels' looks like noise" in found["calibration-noise-like"]


def test_integer_images_for_a_float_model_are_named_and_the_artifact_is_degraded(tmp_path, user_model, digits):
    """0..255 integers calibrating a model fed 0..1 floats: named before quantizing, and the artifact it gives is
    caught on the held-out data: exit 7, the artifact written and marked DEGRADED. On ONNX Runtime: for LiteRT the
    speed guard replaces this tiny CNN's full-integer build (2x fp32's time here) with dynamic-range int8, which
    takes no calibration, so the bad data leaves no trace in that artifact."""
    np.savez(tmp_path / "c.npz", pixels=np.round(digits[0][0][:200] * 255).astype(np.uint8))
    r = _convert(tmp_path, user_model, "--calib", str(tmp_path / "c.npz"), "--eval", str(user_model["eval"]),
                 target="jetson-orin-nano")
    assert r.returncode == 7, (r.returncode, r.stderr)
    summary = json.loads(r.stdout)
    found = {f["check"]: f["message"] for f in summary["sanity"]}
    assert "whole numbers only (integer images for a model fed scaled floats?)" in found["calibration-range"]
    assert summary["degraded"] == ["jetson-orin-nano int8"] and "degraded" in found
    assert "ERROR: 1 artifact(s) are degraded vs fp32 on held-out data: jetson-orin-nano int8: output 'scores'" in \
        r.stderr and "TIP: The artifacts and reports are written (marked DEGRADED)" in r.stderr
    report = json.loads((tmp_path / "out" / "digits" / "jetson-orin-nano" / "int8" / "report.json").read_text())
    assert report["fidelity"]["thresholds"]["min_snr_db"] == 10.0
    # the per-layer error says where it starts: the first layer below the threshold
    assert report["fidelity"]["degraded"][-1].startswith("the first layer below 10 dB is '"), report["fidelity"]
    assert report["layers"]["first_below"]["layer"] in report["fidelity"]["degraded"][-1]


def test_one_file_is_split_and_the_artifact_is_verified_on_the_held_out_quarter(tmp_path, user_model, digits):
    (xt, yt), _ = digits
    np.savez(tmp_path / "one.npz", pixels=xt[:200], labels=yt[:200])
    r = _convert(tmp_path, user_model, "--calib", str(tmp_path / "one.npz"), "--eval", str(tmp_path / "one.npz"))
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["evaluated_on"].startswith("50 of the 200 --eval samples held out")
    (row,) = summary["artifacts"]
    assert row["n_evaluated"] == 50 and row["degraded"] == []
    meta = json.loads((tmp_path / "out" / "digits" / "raspberry-pi-5" / "int8" / "metadata.json").read_text())
    assert meta["calibration"]["samples"] == 150


def test_labels_are_checked_before_converting(tmp_path, user_model, digits):
    _, (xh, yh) = digits
    np.savez(tmp_path / "e.npz", pixels=xh, labels=yh + 5)  # 5..14 for a 10-class output
    r = _convert(tmp_path, user_model, "--calib", str(user_model["calib"]), "--eval", str(tmp_path / "e.npz"))
    assert r.returncode == 2 and "The evaluation labels do not fit the model's output 'scores'." in r.stderr
    assert "labels 0..14; the output has shape (397, 10) (10 classes)" in r.stderr
    np.savez(tmp_path / "e.npz", pixels=xh, labels=np.eye(10)[yh])  # one-hot rows are class labels too
    r = _convert(tmp_path, user_model, "--calib", str(user_model["calib"]), "--eval", str(tmp_path / "e.npz"))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["reference_metrics"]["top1"] == user_model["top1"]


def test_the_python_api_raises_on_a_degraded_artifact_unless_allowed(tmp_path, user_model, digits):
    import keras
    import pytest

    import edgekit
    from edgekit.reporting.fidelity import DegradedArtifacts

    model = keras.saving.load_model(user_model["keras"])
    bad = np.round(digits[0][0][:200] * 255).astype(np.float32)  # 0..255 for a model fed 0..1
    _, (xh, yh) = digits
    with pytest.raises(DegradedArtifacts, match="1 artifact\\(s\\) are degraded vs fp32") as caught:
        edgekit.convert(model, targets="jetson-orin-nano", precision="int8", calib=bad, eval={"x": xh, "labels": yh},
                        out=tmp_path, name="digits")
    assert caught.value.summary.degraded == ("jetson-orin-nano int8",) and caught.value.exit_code == 7
    summary = edgekit.convert(model, targets="jetson-orin-nano", precision="int8", calib=bad,
                              eval={"x": xh, "labels": yh}, out=tmp_path, name="digits", allow_degraded=True)
    assert summary.artifacts[0].degraded and summary.artifacts[0].precision == "int8"
