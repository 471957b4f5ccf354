"""Bad input: one clear message (what, what was received, what to do), nonzero exit, no traceback,
and nothing written to the output directory."""

from __future__ import annotations

import numpy as np

from tests.conftest import run_cli
from tests.test_targets import GOOD


def _fails(out, *args, env=None):
    r = run_cli("convert", *args, "--out", str(out), env=env)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    # one ERROR (and its TIP), after any progress lines ("[  0.0s] loading ..." in a log, "… loading" on a terminal)
    lines = r.stderr.splitlines()
    assert [line for line in lines if line.startswith("ERROR: ")] == [lines[-1] if not lines[-1].startswith("TIP: ")
                                                                       else lines[-2]], r.stderr
    assert all(line.startswith(("ERROR: ", "TIP: ", "[", "… ")) for line in lines), r.stderr
    assert not out.exists() or not any(p.is_file() for p in out.rglob("*")), list(out.rglob("*"))
    return r.stderr


def test_unknown_target_suggests(tmp_path):
    err = _fails(tmp_path / "o", "face-id", "--target", "raspberry-pi5")
    assert "Unknown target 'raspberry-pi5'. Did you mean 'raspberry-pi-5'?" in err
    assert "TIP: Known targets:" in err


def test_precision_the_target_does_not_support(tmp_path):
    toml = tmp_path / "fp16only.toml"
    toml.write_text(GOOD)
    err = _fails(tmp_path / "o", "face-id", "--target", str(toml), "--precision", "int8")
    assert "Target 'my-board' does not support precision 'int8'" in err and "Use one of: fp16" in err


def test_missing_model_file(tmp_path):
    err = _fails(tmp_path / "o", str(tmp_path / "nope.keras"), "--target", "jetson-orin-nano")
    assert "No zoo model and no file named" in err and "nope.keras" in err


def test_corrupt_keras_file(tmp_path):
    bad = tmp_path / "broken.keras"
    bad.write_bytes(b"PK\x03\x04 this is not really a keras archive" * 10)
    err = _fails(tmp_path / "o", str(bad), "--target", "jetson-orin-nano", "--precision", "fp32")
    assert "Cannot load the Keras model" in err and "broken.keras" in err and "TIP: Save it again" in err


def test_truncated_onnx_file(tmp_path, user_onnx):
    raw = user_onnx.read_bytes()
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(raw[: len(raw) // 2])
    err = _fails(tmp_path / "o", str(cut), "--target", "jetson-orin-nano", "--precision", "fp32")
    assert "Cannot load the ONNX model: it is corrupt, truncated or invalid" in err


def test_calibration_with_wrong_input_names(tmp_path, user_model, digits):
    # a one-input model takes its one array under any name; two arrays must be named as the inputs are
    np.savez(tmp_path / "c.npz", image=digits[0][0][:50], mask=digits[0][0][:50])
    err = _fails(tmp_path / "o", str(user_model["keras"]), "--target", "jetson-orin-nano", "--precision", "int8",
                 "--calib", str(tmp_path / "c.npz"))
    assert "do not match the model's input names" in err and "arrays ['image', 'mask']" in err and "['pixels']" in err


def test_calibration_with_wrong_shape(tmp_path, user_model, digits):
    np.savez(tmp_path / "c.npz", pixels=digits[0][0][:50, :7, :7])
    err = _fails(tmp_path / "o", str(user_model["keras"]), "--target", "jetson-orin-nano", "--precision", "int8",
                 "--calib", str(tmp_path / "c.npz"))
    assert "Got: shape=(50, 7, 7, 1); the model expects (N, 8, 8, 1)" in err


def test_too_few_calibration_samples(tmp_path, user_model, digits):
    np.savez(tmp_path / "c.npz", pixels=digits[0][0][:5])
    err = _fails(tmp_path / "o", str(user_model["keras"]), "--target", "raspberry-pi-5", "--precision", "int8",
                 "--calib", str(tmp_path / "c.npz"))
    assert "Too few calibration samples" in err and "Got: 5 samples" in err


def test_int8_without_calibration_data(tmp_path, user_model):
    err = _fails(tmp_path / "o", str(user_model["keras"]), "--target", "raspberry-pi-5", "--precision", "int8")
    assert "int8 quantization needs real calibration data" in err and "--calib" in err


def test_calibration_file_that_is_not_npz(tmp_path, user_model):
    (tmp_path / "c.npz").write_text("hello")
    err = _fails(tmp_path / "o", str(user_model["keras"]), "--target", "raspberry-pi-5", "--calib",
                 str(tmp_path / "c.npz"))
    assert "is not an .npz archive (a zip of .npy arrays). Got: " in err and "(starts with b'hello')" in err
    # numpy's own words for a text file ("pickled data ... allow_pickle") would mislead
    assert "pickle" not in err


def test_a_raw_npy_and_an_empty_npz_are_named_as_such(tmp_path, user_model):
    import numpy as np

    x = np.load(user_model["calib"])["pixels"]
    np.save(tmp_path / "raw.npy", x)
    (tmp_path / "raw.npy").rename(tmp_path / "raw.npz")
    err = _fails(tmp_path / "o", str(user_model["keras"]), "--target", "raspberry-pi-5", "--calib",
                 str(tmp_path / "raw.npz"))
    assert "is a single .npy array, not an .npz archive of arrays by input name" in err
    np.savez(tmp_path / "empty.npz", pixels=x[:0])
    err = _fails(tmp_path / "o", str(user_model["keras"]), "--target", "raspberry-pi-5", "--precision", "fp32",
                 "--eval", str(tmp_path / "empty.npz"))
    assert "The evaluation data file holds no samples. Got: " in err and "pixels shape=(0, 8, 8, 1)" in err


def test_missing_optional_dependency_names_the_extra(tmp_path):
    blocker = tmp_path / "blocked" / "openvino"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('openvino blocked for this test')\n")
    err = _fails(tmp_path / "o", "face-id", "--target", "intel-core-ultra-npu", "--precision", "fp16",
                 env={"PYTHONPATH": str(tmp_path / "blocked")})
    assert "needs the Python package 'openvino'" in err and "TIP: pip install 'edgekit[convert]'" in err


def test_debug_shows_the_traceback(tmp_path):
    r = run_cli("--debug", "convert", "face-id", "--target", "nowhere", "--out", str(tmp_path))
    assert r.returncode == 2 and "Traceback" in r.stderr  # and still the error's own exit code
    # every TIP says "run again with --debug": it works after the subcommand too
    r = run_cli("convert", "face-id", "--target", "nowhere", "--out", str(tmp_path), "--debug")
    assert r.returncode == 2 and "Traceback" in r.stderr and "UsageError: Unknown target 'nowhere'" in r.stderr
