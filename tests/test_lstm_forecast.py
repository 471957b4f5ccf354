"""lstm-forecast: the Taylor loader, the per-format export forms, and conversion verified on every runtime."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgekit.converters.common.pipeline import convert, plan_jobs
from edgekit.converters.recipes import get_recipe
from edgekit.errors import UsageError
from edgekit.runtime import open_session
from edgekit.targets import resolve_targets
from edgekit.zoo import ZOO
from edgekit.zoo.lstm_forecast import model as lstm_forecast, taylor

TARGETS = ["raspberry-pi-5", "jetson-orin-nano", "intel-core-ultra-npu"]


@pytest.fixture(scope="module")
def lstm_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    summary = convert("lstm-forecast", plan_jobs(resolve_targets(TARGETS), "all", every=False), out)
    return out / "lstm-forecast", summary


def _report(model_dir, target, precision):
    return json.loads((model_dir / target / precision / "report.json").read_text())


def test_taylor_series_is_read_offline_from_pmdarima():
    y = taylor.load_taylor()
    assert y.shape == (4032,)
    # The first values printed in pmdarima's own load_taylor() docstring.
    np.testing.assert_array_equal(y[:5], [22262.0, 21756.0, 22247.0, 22759.0, 22549.0])


def test_splits_are_chronological_and_targets_never_overlap():
    spans = {}
    for split in ("train", "validation", "heldout"):
        x, targets, starts = lstm_forecast.windows(split)
        assert x.shape == (len(starts), lstm_forecast.WINDOW, lstm_forecast.FEATURES)
        assert targets.shape == (len(starts), lstm_forecast.HORIZON)
        spans[split] = (starts.min(), starts.max() + lstm_forecast.HORIZON - 1)
    assert spans["train"][1] < spans["validation"][0] <= spans["validation"][1] < spans["heldout"][0]
    assert spans["heldout"][1] == taylor.N_POINTS - 1
    # The lag channel's last HORIZON rows are last week's demand at the target times (the naive forecast).
    x, targets, starts = lstm_forecast.windows("heldout")
    mean, std = lstm_forecast.normalisation()
    np.testing.assert_allclose(x[0, -lstm_forecast.HORIZON:, 1] * std + mean,
                               taylor.load_taylor()[starts[0] - taylor.PER_WEEK + np.arange(12)], rtol=1e-5)


def test_recurrent_recipe_unrolls_for_litert_and_keeps_the_lstm_op_elsewhere(lstm_build):
    recipe = get_recipe(ZOO["lstm-forecast"].architecture)
    assert recipe.route("tflite").form == "unrolled"
    assert recipe.route("onnx").form == "onnx-lstm"
    assert recipe.route("openvino-ir").start == "onnx"
    model_dir, _ = lstm_build
    import onnx

    ops = {n.op_type for n in onnx.load(str(model_dir / "jetson-orin-nano" / "fp32" / "model.onnx")).graph.node}
    assert "LSTM" in ops and "Loop" not in ops
    import openvino as ov

    ir = ov.Core().read_model(str(model_dir / "intel-core-ultra-npu" / "fp32" / "model.xml"))
    assert "LSTMSequence" in {op.get_type_name() for op in ir.get_ops()}
    from ai_edge_litert.interpreter import Interpreter

    tfl = Interpreter(str(model_dir / "raspberry-pi-5" / "int8" / "model.tflite"))
    names = {op["op_name"] for op in tfl._get_ops_details()}
    assert "WHILE" not in names and "FULLY_CONNECTED" in names
    # metadata records where each export really started: OpenVINO reads the ONNX export of the onnx-lstm form
    routes = {"tflite": {"start": "saved_model", "form": "unrolled"}, "onnx": {"start": "onnx", "form": "onnx-lstm"},
              "openvino-ir": {"start": "onnx", "form": "onnx-lstm"}}
    for target in TARGETS:
        meta = json.loads((model_dir / target / "int8" / "metadata.json").read_text())
        assert meta["recipe"] == "recurrent" and meta["export_route"] == routes[meta["format"]]


def test_keras_forms_compute_the_same_function():
    from edgekit.converters.common.keras_forms import keras_form

    model = lstm_forecast.load_model()
    x = lstm_forecast.heldout_inputs()["window"][:8]
    ref = np.asarray(model(x)["forecast"])
    for form in ("unrolled", "onnx-lstm"):
        np.testing.assert_allclose(np.asarray(keras_form(model, form)(x)["forecast"]), ref, atol=1e-5)
    assert model.get_layer("lstm").unroll is False  # the original is untouched
    with pytest.raises(UsageError, match="Unknown Keras export form 'fused'"):
        keras_form(model, "fused")


def test_model_beats_seasonal_naive(lstm_build):
    _, summary = lstm_build
    assert summary.reference_metrics["mae_mw"] < summary.baseline["weekly_naive_mae_mw"]
    assert summary.reference_metrics["mae_mw"] < summary.baseline["daily_naive_mae_mw"]
    assert summary.metric.to_json() == {"name": "mae_mw", "unit": "MW", "higher_is_better": False}


@pytest.mark.parametrize("target", TARGETS)
def test_every_precision_stays_within_five_percent_of_fp32(lstm_build, target):
    model_dir, summary = lstm_build
    fp32 = summary.reference_metrics["mae_mw"]
    for precision in ("fp32", "fp16", "int8"):
        r = _report(model_dir, target, precision)
        assert r["metrics"]["n_windows"] == 997
        assert r["metrics"]["mae_mw"] <= fp32 * 1.05, (precision, r["metrics"])
        assert "top1_agreement" not in r["agreement"]  # a forecast has no classes
    rows = [a for a in summary.artifacts if a.target == target]
    assert all(a.delta_points is None and abs(a.delta_percent) < 5 for a in rows)


def test_wrong_window_length_or_feature_count_is_one_clear_error(lstm_build):
    model_dir, _ = lstm_build
    s = open_session(model_dir / "jetson-orin-nano" / "int8" / "model.onnx")
    with pytest.raises(UsageError, match=r"Input 'window' has the wrong shape. Got: shape=\(1, 40, 2\); "
                                         r"the model expects \(1, 48, 2\)"):
        s.run({"window": np.zeros((1, 40, 2), np.float32)})
    with pytest.raises(UsageError, match=r"Got: shape=\(1, 48, 3\)"):
        s.run({"window": np.zeros((1, 48, 3), np.float32)})
