"""int8 that is not slower (converters/common/speed_guard): an int8 build slower than fp32 on this host is replaced by
the fastest variant its backend offers that is no less accurate, and report.json says what was tried."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgekit.converters.common.speed_guard import FASTER_BY, SpeedTrial, choose
from tests.conftest import run_cli


def test_a_faster_variant_is_kept_only_when_no_less_accurate():
    built = SpeedTrial("as built", 1.0, 0.95, True)
    fast_bad = SpeedTrial("dynamic-range", 0.3, 0.80, False)
    fast_ok = SpeedTrial("float ops kept float", 0.5, 0.94, True)
    fp32 = 0.5
    assert choose([built, fast_bad], fp32, True) == "as built"  # faster, but outside the budget the build met
    assert choose([built, fast_bad, fast_ok], fp32, True) == "float ops kept float"
    # the second timing no longer finds the build slower than fp32: noise, the file stays
    assert choose([built, fast_bad, fast_ok], 0.95, True) == "as built"
    # a variant within timing noise of the build is not worth a different file
    assert choose([built, SpeedTrial("v", 1.0 / FASTER_BY + 0.01, 0.95, True)], fp32, True) == "as built"
    # a build that missed the budget: a variant scoring at least as well (lower RMSE here) is no less accurate
    missed = SpeedTrial("as built", 4.0, 0.0007, False)
    assert choose([missed, SpeedTrial("dynamic-range", 0.4, 0.0003, False)], fp32, False) == "dynamic-range"
    assert choose([missed, SpeedTrial("dynamic-range", 0.4, 0.0009, False)], fp32, False) == "as built"
    assert choose([built, SpeedTrial("v", None, None, None, "cannot be built")], fp32, True) == "as built"


@pytest.fixture(scope="module")
def attention_model(tmp_path_factory, digits):
    """A user's small attention classifier as Keras tutorials write one (MultiHeadAttention, LayerNormalization,
    a residual feed-forward block, global pooling) on real digits, each image row a token."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    (xt, yt), (xh, yh) = digits
    inputs = keras.Input((8, 8), name="rows")
    x = layers.Dense(32)(inputs)
    x = layers.LayerNormalization()(x + layers.MultiHeadAttention(num_heads=2, key_dim=16)(x, x))
    x = layers.LayerNormalization()(x + layers.Dense(32)(layers.Dense(64, activation="relu")(x)))
    outputs = layers.Dense(10, activation="softmax")(layers.GlobalAveragePooling1D()(x))
    model = keras.Model(inputs, outputs)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(xt[..., 0], yt, epochs=40, batch_size=64, verbose=0)
    root = tmp_path_factory.mktemp("attention")
    model.save(root / "attention.keras")
    np.savez(root / "calib.npz", rows=xt[:300, ..., 0])
    np.savez(root / "eval.npz", rows=xh[..., 0], labels=yh)
    return root


def _convert_int8(model_dir, out, *extra: str):
    """The attention model to LiteRT int8 for a Raspberry Pi 5, as a user runs it."""
    return run_cli("convert", str(model_dir / "attention.keras"), "--target", "raspberry-pi-5", "--precision", "int8",
                   "--calib", str(model_dir / "calib.npz"), "--eval", str(model_dir / "eval.npz"), "--out", str(out),
                   *extra)


def _lent_to_a_default_run(model_dir) -> bool:
    """Whether a default run (prune-sweep's reuse of earlier artifacts) would take the int8 cell as its own."""
    from edgekit.reporting.convert import lendable_reports

    cell = json.loads((model_dir / "raspberry-pi-5" / "int8" / "report.json").read_text())
    meta = cell["metadata"]
    lent = lendable_reports(model_dir, meta["source"]["sha256"], cell["evaluation"]["sha256"], meta["recipe"],
                            meta["calibration"]["sha256"])
    return ("raspberry-pi-5", "int8") in lent


def test_a_users_int8_slower_than_fp32_on_litert_becomes_dynamic_range(tmp_path, attention_model):
    """Full-integer int8 of attention + LayerNorm runs on LiteRT's slow int8 kernels (measured on tiny-transformer:
    3.5x fp32); with no search requested, the variant is judged by the fidelity thresholds on calibration samples."""
    r = _convert_int8(attention_model, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    cell = tmp_path / "attention" / "raspberry-pi-5" / "int8"
    report = json.loads((cell / "report.json").read_text())
    speed = report["int8_speed"]
    built, dynamic = speed["trials"]
    assert speed["slower"] and built["p50_ms"] > 1.1 * speed["fp32_ms"], speed
    assert speed["metric"] == "min SNR dB vs fp32 (fidelity thresholds)", speed
    assert speed["chosen"] == "dynamic-range" and dynamic["within_budget"], speed
    assert dynamic["p50_ms"] * FASTER_BY < built["p50_ms"], speed
    assert json.loads((cell / "metadata.json").read_text())["format_details"] == {"int8_scheme": "dynamic-range"}
    assert "int8 speed raspberry-pi-5 int8: int8 as built" in r.stdout and "replaced by 'dynamic-range'" in r.stdout
    assert report["metrics"]["top1"] >= report["reference_metrics"]["top1"] - 0.02, report["metrics"]
    assert _lent_to_a_default_run(tmp_path / "attention")


def test_no_speed_guard_keeps_int8_as_built_whatever_this_host_times(tmp_path, attention_model):
    """The same model as above with --no-speed-guard: full-integer int8, nothing timed, no decision recorded — the
    artifact a workstation with another CPU builds too."""
    r = _convert_int8(attention_model, tmp_path, "--no-speed-guard")
    assert r.returncode == 0, r.stdout + r.stderr
    cell = tmp_path / "attention" / "raspberry-pi-5" / "int8"
    assert json.loads((cell / "report.json").read_text())["int8_speed"] is None
    assert json.loads((cell / "metadata.json").read_text())["format_details"] == {"int8_scheme": "full-integer"}
    assert "int8 speed" not in r.stdout and "trying faster int8 builds" not in r.stderr, r.stdout + r.stderr
    # a default run would have timed it: it is not lent to one as if it had been
    assert not _lent_to_a_default_run(tmp_path / "attention")
