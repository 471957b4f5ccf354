"""A user's own model on a device: package (the generic app + real samples + the workstation's outputs) -> flash
-> run -> profile through a real OpenSSH server on loopback; the device's outputs are checked against the
workstation's for the same artifact."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from tests.conftest import run_cli
from tests.sshd import SSHD, LoopbackSshd
from tests.test_device_apps import _inventory

pytestmark = pytest.mark.skipif(SSHD is None, reason="openssh-server is not installed (.ci/run installs it)")


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    server = LoopbackSshd(tmp_path_factory.mktemp("sshd"))
    yield server
    server.stop()


def test_a_users_keras_model_reaches_a_device_and_matches_the_workstation(sshd, user_model, tmp_path):
    build, dist = tmp_path / "build", tmp_path / "dist"
    keras_file = str(user_model["keras"])
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
    r = run_cli("package", keras_file, "--target", "raspberry-pi-5", "--build", str(build), "--out", str(dist),
                "--samples", str(user_model["eval"]))
    assert r.returncode == 0 and "s] running the artifact on the samples" in r.stderr, r.stderr
    bundle = dist / "digits-raspberry-pi-5-int8.tar.gz"
    inv = ["--inventory", str(_inventory(sshd, tmp_path / "inv.toml", "pi", tmp_path / "pi"))]
    r = run_cli("flash", str(bundle), "pi", *inv)
    assert r.returncode == 0, r.stderr
    r = run_cli("run", *inv, "pi", "--demo")
    assert r.returncode == 0 and "sample 7: scores: top-3 #" in r.stdout and "runtime: litert" in r.stdout, r.stdout
    r = run_cli("run", *inv, "pi", "--evaluate", "--json")
    assert r.returncode == 0, r.stderr
    device = json.loads(r.stdout)
    workstation = json.loads((tmp_path / "pi" / "current" / "data" / "workstation.json").read_text())
    assert device["app"] == "digits" and device["n_heldout"] == 200
    assert device["snr_db_min_vs_workstation"] == 120.0 and device["top1_agreement_vs_workstation"] == 1.0, device
    assert device["top1"] == workstation["top1"] >= user_model["top1"] - 0.1, (device, workstation, user_model["top1"])
    r = run_cli("profile", "pi", *inv, "--min-runs", "20", "--min-seconds", "0.1", "--out", str(tmp_path / "rep"))
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads((tmp_path / "rep" / "pi" / "digits" / "report.json").read_text())
    assert report["metrics"]["top1"] == report["workstation_metrics"]["top1"]
    assert not [f for f in report["sanity"] if f["check"] == "device-mismatch"], report["sanity"]
    assert report["latency"]["runs"] >= 20 and report["metric"] == "top1"


def test_a_users_onnx_model_is_packaged_from_its_build_directory(sshd, user_model, user_onnx, tmp_path):
    build = tmp_path / "build"
    onnx_file = tmp_path / "digits_onnx.onnx"
    shutil.copyfile(user_onnx, onnx_file)
    r = run_cli("convert", str(onnx_file), "--target", "jetson-orin-nano", "--precision", "fp16", "--eval",
                str(user_model["eval"]), "--out", str(build))
    assert r.returncode == 0, r.stderr
    r = run_cli("package", str(build / "digits_onnx"), "--target", "jetson-orin-nano", "--precision", "fp16",
                "--samples", str(user_model["eval"]), "--out", str(tmp_path / "dist"))
    assert r.returncode == 0, r.stderr
    inv = ["--inventory", str(_inventory(sshd, tmp_path / "inv.toml", "jetson", tmp_path / "jetson"))]
    assert run_cli("flash", str(tmp_path / "dist" / "digits_onnx-jetson-orin-nano-fp16.tar.gz"), "jetson",
                   *inv).returncode == 0
    r = run_cli("run", *inv, "jetson", "--evaluate", "--json")
    assert r.returncode == 0, r.stderr
    device = json.loads(r.stdout)
    assert device["runtime"] == "onnxruntime" and device["snr_db_min_vs_workstation"] == 120.0, device
    manifest = json.loads((tmp_path / "jetson" / "current" / "manifest.json").read_text())
    assert manifest["model"] == "digits_onnx" and manifest["devices"][0] == "TensorrtExecutionProvider"


def test_the_generic_app_is_not_packaged_by_its_own_name(tmp_path):
    r = run_cli("package", "generic", "--target", "raspberry-pi-5", "--build", str(tmp_path))
    assert r.returncode == 2 and "The 'generic' app packages a user's model, named instead of the app." in r.stderr
    r = run_cli("package", "face-idd", "--target", "raspberry-pi-5", "--build", str(tmp_path))
    assert r.returncode == 2 and "Did you mean 'face-id'?" in r.stderr and "generic" not in r.stderr

