"""A user's own model packaged for a device with the generic app (the whole way to a device — flash, run,
profile on an emulated Raspberry Pi 5 — is in tests/test_emulated_pi.py)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tarfile

from tests.conftest import run_cli


def test_a_users_onnx_model_is_packaged_from_its_build_directory(user_model, user_onnx, tmp_path):
    """A Jetson bundle of a user's .onnx: packed from the build directory, with the target's execution-provider
    preference for the session on the device."""
    build = tmp_path / "build"
    onnx_file = tmp_path / "digits_onnx.onnx"
    shutil.copyfile(user_onnx, onnx_file)
    r = run_cli("convert", str(onnx_file), "--target", "jetson-orin-nano", "--precision", "fp16", "--eval",
                str(user_model["eval"]), "--out", str(build))
    assert r.returncode == 0, r.stderr
    r = run_cli("package", str(build / "digits_onnx"), "--target", "jetson-orin-nano", "--precision", "fp16",
                "--samples", str(user_model["eval"]), "--out", str(tmp_path / "dist"), "--json")
    assert r.returncode == 0, r.stderr
    bundle = tmp_path / "dist" / "digits_onnx-jetson-orin-nano-fp16.tar.gz"
    assert json.loads(r.stdout) == {"bundle": str(bundle),
                                    "app": "digits_onnx", "model": "digits_onnx", "target": "jetson-orin-nano",
                                    "precision": "fp16", "size_bytes": bundle.stat().st_size,
                                    "sha256": hashlib.sha256(bundle.read_bytes()).hexdigest(), "with_wheels": False}
    with tarfile.open(bundle) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        names = tar.getnames()
    assert manifest["model"] == manifest["app"] == "digits_onnx", manifest
    assert manifest["devices"] == ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
    assert {"data/workstation.json", "data/eval.npz", "app/app.py"} <= set(names), names


def test_a_users_keras_model_is_packaged_with_its_samples(user_model, tmp_path):
    """What a user meets before a device (the way on to the emulated Pi: tests/test_emulated_pi.py): package before
    convert names the command; convert reports progress in a log too; packaging needs real samples."""
    keras_file, build, dist = str(user_model["keras"]), tmp_path / "build", tmp_path / "dist"
    r = run_cli("package", keras_file, "--target", "raspberry-pi-5", "--build", str(build), "--samples",
                str(user_model["eval"]))
    assert r.returncode == 2 and "No verified raspberry-pi-5 int8 artifact of 'digits' to package." in r.stderr
    assert f"TIP: Convert it first: edgekit convert {keras_file} --target raspberry-pi-5 --precision int8" in r.stderr
    r = run_cli("convert", keras_file, "--target", "raspberry-pi-5", "--precision", "int8", "--calib",
                str(user_model["calib"]), "--eval", str(user_model["eval"]), "--out", str(build))
    assert r.returncode == 0, r.stderr
    # progress reaches a log too (no terminal here), each line with the seconds since the start
    assert re.search(r"^\[ *\d+\.\ds\] \[1/1\] raspberry-pi-5 int8: verifying with litert$", r.stderr, re.M), r.stderr
    r = run_cli("package", keras_file, "--target", "raspberry-pi-5", "--build", str(build), "--out", str(dist))
    assert r.returncode == 2 and "A user's model is packaged with real samples" in r.stderr, r.stderr
    r = run_cli("package", keras_file, "--target", "raspberry-pi-5", "--build", str(build), "--samples",
                str(user_model["eval"]), "--out", str(dist))
    assert r.returncode == 0 and "s] running the artifact on the samples" in r.stderr, r.stderr
    with tarfile.open(dist / "digits-raspberry-pi-5-int8.tar.gz") as tar:
        names = tar.getnames()
    assert {"data/workstation.json", "data/eval.npz", "app/app.py", "model/model.tflite"} <= set(names), names


def test_the_generic_app_is_not_packaged_by_its_own_name(tmp_path):
    r = run_cli("package", "generic", "--target", "raspberry-pi-5", "--build", str(tmp_path))
    assert r.returncode == 2 and "The 'generic' app packages a user's model, named instead of the app." in r.stderr
    r = run_cli("package", "face-idd", "--target", "raspberry-pi-5", "--build", str(tmp_path))
    assert r.returncode == 2 and "Did you mean 'face-id'?" in r.stderr and "generic" not in r.stderr

