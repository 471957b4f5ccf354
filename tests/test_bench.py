"""`edgekit bench ARTIFACT`: latency and the runtime's per-op profile of any artifact, with generated or given
inputs; bad input gets one clear error."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import run_cli


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory, user_model, user_onnx):
    """The user's digits CNN as ONNX with a dynamic batch (as exporters write it), and as an OpenVINO IR."""
    import onnx
    import openvino as ov

    root = tmp_path_factory.mktemp("bench")
    model = onnx.load(str(user_onnx))
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "N"
    onnx.save(model, str(root / "dynamic.onnx"))
    ov.save_model(ov.convert_model(str(user_onnx)), str(root / "digits.xml"))
    return {"onnx": root / "dynamic.onnx", "xml": root / "digits.xml", "calib": user_model["calib"], "root": root}


def test_onnx_with_a_dynamic_batch_needs_its_size_then_profiles_every_op(artifacts):
    r = run_cli("bench", str(artifacts["onnx"]), "--min-runs", "20", "--min-seconds", "0")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Input 'pixels' has dynamic dimensions, so generated inputs need their size." in r.stderr
    assert "Got: shape (?, 8, 8, 1)" in r.stderr and "--input-shape pixels=1x..." in r.stderr
    r = run_cli("bench", str(artifacts["onnx"]), "--input-shape", "pixels=1x8x8x1", "--threads", "1",
                "--min-runs", "20", "--min-seconds", "0", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["runtime"] == "onnxruntime" and out["runtime_options"]["threads"] == 1
    assert out["inputs"] == [{"name": "pixels", "shape": [1, 8, 8, 1], "dtype": "float32"}]
    assert out["latency"]["runs"] >= 20 and 0 < out["latency"]["median_ms"] <= out["latency"]["p99_ms"]
    ops = out["ops"]
    assert ops["runtime"] == "onnxruntime" and ops["timed"] and ops["total_ms"] > 0, ops
    assert {"Conv", "MatMul"} & {o["type"] for o in ops["per_op"]}, ops["per_op"]


def test_openvino_ir_on_given_samples_prints_tables(artifacts):
    r = run_cli("bench", str(artifacts["xml"]), "--inputs", str(artifacts["calib"]), "--min-runs", "20",
                "--min-seconds", "0", "--top", "3")
    assert r.returncode == 0, r.stderr
    assert "openvino" in r.stdout and f"16 samples of {artifacts['calib']}" in r.stdout
    assert "p50 ms" in r.stdout and "op type" in r.stdout and "per-op profile (openvino" in r.stdout
    header = next(i for i, line in enumerate(r.stdout.splitlines()) if line.startswith("op  "))
    listed = r.stdout.splitlines()[header + 2:]
    assert len([line for line in listed if line.strip()]) == 3, r.stdout  # --top 3


def test_bad_benchmark_input_is_one_clear_error(artifacts, tmp_path):
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, image=np.zeros((4, 8, 8, 1), np.float32), other=np.zeros((4, 3), np.float32))
    r = run_cli("bench", str(artifacts["xml"]), "--inputs", str(wrong))
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "The benchmark data's arrays do not match the model's input names." in r.stderr
    assert "Got: arrays ['image', 'other']; the model's inputs are ['pixels']" in r.stderr
    r = run_cli("bench", str(artifacts["xml"]), "--input-shape", "image=1x8x8x1")
    assert r.returncode == 2 and "--input-shape names no input of this model: 'image'." in r.stderr
    r = run_cli("bench", str(tmp_path / "model.pt"))
    assert r.returncode == 2 and "Cannot tell which runtime runs 'model.pt'." in r.stderr


def test_an_openvino_ir_is_measured_on_a_device_over_ssh(artifacts, tmp_path):
    """--device: the IR (.xml + .bin), its inputs and edgekit's measuring code go to <path>/bench/<key>; the device's
    Python measures with its runtime and answers with the same record (here the loopback sshd's host Python)."""
    import sys

    from tests.sshd import SSHD, LoopbackSshd
    from tests.sshd import inventory_file as _inventory

    if SSHD is None:
        pytest.skip("openssh-server is not installed (.ci/run installs it)")
    (tmp_path / "sshd").mkdir()
    server = LoopbackSshd(tmp_path / "sshd")
    try:
        inv = _inventory(server, tmp_path / "inv.toml", "box", tmp_path / "box", python=sys.executable)
        r = run_cli("bench", str(artifacts["xml"]), "--device", "box", "--inventory", str(inv), "--inputs",
                    str(artifacts["calib"]), "--min-runs", "20", "--min-seconds", "0", "--threads", "1", "--json")
    finally:
        server.stop()
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["device"]["address"] == "box" and out["device"]["machine"] and out["artifact"] == str(artifacts["xml"])
    assert out["runtime"] == "openvino" and out["inputs_from"] == f"16 samples of {artifacts['calib']}"
    assert out["latency"]["runs"] >= 20 and out["ops"]["runtime"] == "openvino" and out["ops"]["timed"], out["ops"]
    (copied,) = (tmp_path / "box" / "bench").iterdir()
    assert {"digits.xml", "digits.bin", "feeds.npz"} <= {p.name for p in copied.iterdir()}
    assert (copied / "lib" / "edgekit" / "profiling" / "measure.py").is_file()
    assert not (copied / "lib" / "edgekit" / "converters").exists()  # the device side only
