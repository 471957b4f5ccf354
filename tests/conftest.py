"""Shared fixtures: real data (scikit-learn's bundled handwritten digits, ORL faces), real models, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None,
            timeout: float = 900) -> subprocess.CompletedProcess:
    """Run `python -m edgekit ...` as a user would, capturing output."""
    return subprocess.run([sys.executable, "-m", "edgekit", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=timeout)


@pytest.fixture(scope="session")
def digits():
    """The 1,797 real 8x8 handwritten digits that ship inside scikit-learn: (x, y) split train/held-out."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)[..., None]
    y = d.target.astype(np.int64)
    return (x[:1400], y[:1400]), (x[1400:], y[1400:])


FACE_ID_TARGETS = ["raspberry-pi-5", "jetson-orin-nano", "intel-core-ultra-npu"]


@pytest.fixture(scope="session")
def face_id_build(tmp_path_factory):
    """face-id converted once for the session (Raspberry Pi 5, Jetson, NPU; every precision): (build root, summary).
    The convert tests read it; the device, wheel and emulated-Pi tests package from it with --build (three more
    conversions took 20-45 s each). Tests only read it: packaging finds the artifacts verified and writes nothing."""
    from edgekit.converters.common.pipeline import convert, plan_jobs
    from edgekit.targets import resolve_targets

    out = tmp_path_factory.mktemp("face_id_build")
    summary = convert("face-id", plan_jobs(resolve_targets(FACE_ID_TARGETS), "all", every=False), out)
    return out, summary


@pytest.fixture(scope="session")
def user_model(tmp_path_factory, digits):
    """A user's own Keras model (functional CNN) trained briefly on real digits, with calib/eval .npz files."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    (xt, yt), (xh, yh) = digits
    inp = keras.Input((8, 8, 1), name="pixels")
    x = layers.Conv2D(16, 3, padding="same", activation="relu")(inp)
    x = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    out = layers.Dense(10, name="scores")(x)
    model = keras.Model(inp, out)
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(xt, yt, epochs=8, batch_size=64, verbose=0)
    root = tmp_path_factory.mktemp("user_model")
    model.save(root / "digits.keras")
    model.export(str(root / "digits_saved_model"), verbose=False)
    np.savez(root / "calib.npz", pixels=xt[:200])
    np.savez(root / "eval.npz", pixels=xh, labels=yh)
    keras_top1 = float(np.mean(np.asarray(model(xh)).argmax(1) == yh))
    return {"root": root, "keras": root / "digits.keras", "saved_model": root / "digits_saved_model",
            "calib": root / "calib.npz", "eval": root / "eval.npz", "top1": keras_top1}


@pytest.fixture(scope="session")
def user_onnx(tmp_path_factory, user_model):
    """The user's model as a real .onnx file (exported by edgekit's own Keras -> ONNX path)."""
    import shutil

    from edgekit.converters.common.pipeline import convert, plan_jobs
    from edgekit.targets import load_target

    out = tmp_path_factory.mktemp("onnx_export")
    jobs = plan_jobs([load_target("jetson-orin-nano")], "fp32", every=False)
    convert(str(user_model["keras"]), jobs, out, eval_path=str(user_model["eval"]))
    dst = user_model["root"] / "digits.onnx"
    shutil.copyfile(out / "digits" / "jetson-orin-nano" / "fp32" / "model.onnx", dst)
    return dst


@pytest.fixture(scope="session", autouse=True)
def every_report_matches_schema(tmp_path_factory):
    """After the whole session, every report any test wrote (convert, device profile, sweep, diff) must validate
    against edgekit/reporting/schemas/reports-1.json: a field added without documenting it fails here."""
    yield
    import json

    from edgekit.reporting import schema

    bad, seen = [], 0
    for path in tmp_path_factory.getbasetemp().rglob("*.json"):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ValueError):
            continue
        if not isinstance(doc, dict) or doc.get("schema") not in schema.KINDS:
            continue
        seen += 1
        bad += [f"{path}: {e}" for e in schema.errors(doc)[:3]]
    assert not bad, f"{len(bad)} schema violation(s) in the reports tests wrote:\n" + "\n".join(bad[:20])


# the loopback device, its inventory and face-id's bundles: shared by the device flows (test_device_apps) and the
# bundle and flash corpus (test_bundle_safety); the bundles are packaged once per session
@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    from tests.sshd import LoopbackSshd

    server = LoopbackSshd(tmp_path_factory.mktemp("sshd"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def inventory(tmp_path_factory, sshd):
    from tests.sshd import inventory_file

    root = tmp_path_factory.mktemp("devices")
    path = inventory_file(sshd, root / "devices.toml", "pi", root / "pi")
    with path.open("a") as fh:
        fh.write(f'\n[devices.card]\nurl = "local:{root / "card"}"\npython = "{sys.executable}"\n')
    return {"path": str(path), "pi": root / "pi", "card": root / "card"}


@pytest.fixture(scope="session")
def bundles(tmp_path_factory, face_id_build):
    """face-id for a Raspberry Pi, int8 and fp32 (two releases), each packaged twice, from the session's build."""
    root, build = tmp_path_factory.mktemp("pkg"), face_id_build[0]
    out = {}
    for precision in ("int8", "fp32"):
        r = run_cli("package", "face-id", "--target", "raspberry-pi-5", "--precision", precision,
                    "--build", str(build), "--out", str(root / "dist"))
        assert r.returncode == 0, r.stderr
        out[precision] = root / "dist" / f"face-id-raspberry-pi-5-{precision}.tar.gz"
    r = run_cli("package", "face-id", "--target", "raspberry-pi-5", "--precision", "int8",
                "--build", str(build), "--out", str(root / "again"))
    out["again"] = root / "again" / "face-id-raspberry-pi-5-int8.tar.gz"
    return out
