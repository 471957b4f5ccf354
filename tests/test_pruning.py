"""Pruning: exact masks through fine-tuning, the structured rebuild's equivalence, every export path, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import run_cli
from edgekit.converters.common import channel_groups, macs, prune_structured
from edgekit.converters.common.prune_magnitude import magnitude_mask, schedule
from edgekit.converters.common.pruning import PruneSpec, parse_prune, prune_keras
from edgekit.errors import UsageError
from edgekit.zoo._training import TrainingSet, sparse_softmax_loss


def test_prune_spec_is_parsed_and_checked():
    assert parse_prune("structured:0.5") == PruneSpec("structured", 0.5)
    assert parse_prune("unstructured:0.8").tag == "unstructured80"
    with pytest.raises(UsageError, match="Unknown pruning method 'structure'. Did you mean 'structured'"):
        parse_prune("structure:0.5")
    with pytest.raises(UsageError, match=r"strictly between 0 and 1. Got: unstructured:1.5"):
        parse_prune("unstructured:1.5")
    with pytest.raises(UsageError, match="must be a number"):
        parse_prune("structured:half")


def test_bad_prune_options_fail_before_any_framework_loads(tmp_path, user_model, user_onnx):
    r = run_cli("convert", "face-id", "--target", "raspberry-pi-5", "--prune", "channels:0.5")
    assert r.returncode == 2 and "Unknown pruning method 'channels'" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("convert", str(user_onnx), "--target", "jetson-orin-nano", "--prune", "unstructured:0.5")
    assert r.returncode == 2 and "Pruning needs the Keras model" in r.stderr
    r = run_cli("convert", "face-id", "--target", "raspberry-pi-5", "--train", str(user_model["calib"]))
    assert r.returncode == 2 and "--train is only used to fine-tune after pruning" in r.stderr
    assert not any(tmp_path.iterdir())


def test_magnitude_mask_zeroes_exactly_the_smallest_weights():
    w = np.random.default_rng(0).normal(size=(3, 3, 8, 16))
    m = magnitude_mask(w, 0.8)
    assert int((m == 0).sum()) == round(0.8 * w.size)
    assert np.abs(w[m == 0]).max() <= np.abs(w[m == 1]).min()
    ramp = [schedule(s, 100, 0.8) for s in range(0, 101, 5)]
    assert ramp[0] == 0.0 and ramp[-1] == 0.8 and all(a <= b for a, b in zip(ramp, ramp[1:]))


def _digits_training(digits):
    (xt, yt), _ = digits
    return TrainingSet({"pixels": xt}, {"scores": yt}, sparse_softmax_loss("scores"), epochs=3, learning_rate=1e-3)


def test_unstructured_masks_hold_exactly_after_fine_tuning(user_model, digits):
    import keras

    model = keras.saving.load_model(user_model["keras"], compile=False)
    pruned, record = prune_keras(model, PruneSpec("unstructured", 0.75), _digits_training(digits))
    first, conv2, head = [layer.name for layer in model.layers if layer.weights]
    assert record["excluded_layers"] == [first, head]
    kernel = np.asarray(pruned.get_layer(conv2).kernel)
    assert int((kernel == 0).sum()) == round(0.75 * kernel.size)  # exactly, after 3 epochs of updates
    assert record["sparsity"]["per_layer"][conv2]["sparsity"] == pytest.approx(0.75, abs=1e-3)
    assert not (np.asarray(pruned.get_layer(head).kernel) == 0).any()
    assert record["fine_tuning"]["steps"] == 3 * int(np.ceil(1400 / 32))
    (_, _), (xh, yh) = digits
    assert float(np.mean(np.asarray(pruned(xh)).argmax(1) == yh)) > user_model["top1"] - 0.05


def test_structured_rebuild_matches_the_masked_resnet_before_fine_tuning():
    from edgekit.zoo.face_id import model as face_id

    model = face_id.load_model()
    graph = channel_groups.analyse(model, exclude=("stem_conv",))
    keep = prune_structured.choose_channels(model, graph, 0.5)
    # residual streams are pruned as one group: both producers of res3's output lose the same channels
    streams = [g for g in graph.prunable() if set(g.producers) == {"res3_conv2", "res3_proj"}]
    assert len(streams) == 1 and len(keep[streams[0].gid]) == 32
    masked = prune_structured.masked_copy(model, graph, keep)
    small = prune_structured.rebuild(model, graph, keep)
    x = face_id.heldout_inputs()[face_id.INPUT][:16]
    a, b = masked(x, training=False), small(x, training=False)
    for key in ("embedding", "logits"):
        np.testing.assert_allclose(np.asarray(b[key]), np.asarray(a[key]), atol=1e-4)
    assert not np.allclose(np.asarray(a["logits"]), np.asarray(model(x, training=False)["logits"]), atol=1e-2)
    before, after = macs.count(model), macs.count(small)
    assert before["macs"] / after["macs"] >= 1.6 and after["params"] < before["params"] / 2
    assert small.get_layer("res3_conv1").kernel.shape == (3, 3, 16, 32)


def test_structured_pruning_refuses_architectures_it_does_not_fit(tmp_path):
    r = run_cli("convert", "lstm-forecast", "--target", "jetson-orin-nano", "--prune", "structured:0.5",
                "--out", str(tmp_path))
    assert r.returncode == 2 and "Structured pruning does not fit this architecture" in r.stderr
    assert "TIP" in r.stderr and "unstructured" in r.stderr and not any(tmp_path.iterdir())
    r = run_cli("convert", "lstm-forecast", "--target", "jetson-orin-nano", "--prune", "unstructured:0.5",
                "--out", str(tmp_path))
    assert r.returncode == 2 and "No layer of this model can be pruned" in r.stderr and "LSTM" in r.stderr
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("method", ["unstructured:0.7", "structured:0.5"])
def test_pruned_users_model_through_every_export_path(tmp_path, user_model, digits, method):
    (xt, yt), _ = digits
    np.savez(tmp_path / "train.npz", pixels=xt, labels=yt)
    r = run_cli("convert", str(user_model["keras"]), "--target", "raspberry-pi-5", "--target", "jetson-orin-nano",
                "--target", "intel-core-ultra-npu", "--precision", "int8", "--prune", method,
                "--train", str(tmp_path / "train.npz"), "--calib", str(user_model["calib"]),
                "--eval", str(user_model["eval"]), "--out", str(tmp_path / "build"), "--json")
    assert r.returncode == 0, r.stderr
    from edgekit.reporting.records import ConvertSummary

    summary = ConvertSummary.from_json(json.loads(r.stdout))  # the --json output is the summary record
    assert summary.model == f"digits-{parse_prune(method).tag}"
    assert summary.pruning["fine_tuning"]["distilled_from_unpruned"]
    assert summary.reference_metrics["top1"] > user_model["top1"] - 0.05
    for row in summary.artifacts:
        assert row.value > user_model["top1"] - 0.08, row
        report = json.loads((tmp_path / "build" / summary.model / row.target / "int8" / "report.json").read_text())
        assert report["metadata"]["pruning"] == {"method": method.split(":")[0], "ratio": float(method.split(":")[1])}
        assert 0 < report["artifact"]["gzip_bytes"] < report["artifact"]["size_bytes"]
    if method.startswith("structured"):
        assert summary.pruning["macs"]["after"] < summary.pruning["macs"]["before"]


def test_prune_sweep_writes_a_table_and_charts(tmp_path, user_model, digits):
    import xml.etree.ElementTree as ET

    (xt, yt), _ = digits
    np.savez(tmp_path / "train.npz", pixels=xt, labels=yt)
    data = ["--calib", str(user_model["calib"]), "--eval", str(user_model["eval"]), "--out", str(tmp_path / "build")]
    # what `edgekit convert` verified before is reused by the sweep (copied, never rebuilt)
    r = run_cli("convert", str(user_model["keras"]), "--target", "raspberry-pi-5", "--precision", "int8", *data)
    assert r.returncode == 0, r.stderr
    earlier = (tmp_path / "build" / "digits" / "raspberry-pi-5" / "int8" / "report.json").read_bytes()
    r = run_cli("prune-sweep", str(user_model["keras"]), "--target", "raspberry-pi-5", "--method", "unstructured",
                "--ratios", "0.5,0.8", "--train", str(tmp_path / "train.npz"), *data, "--json")
    assert r.returncode == 0, r.stderr
    assert "raspberry-pi-5 int8: reusing the verified artifact in" in r.stderr, r.stderr
    sweep_dir = tmp_path / "build" / "digits-sweep-unstructured"
    assert (sweep_dir / "digits" / "raspberry-pi-5" / "int8" / "report.json").read_bytes() == earlier
    assert json.loads(r.stdout)["rows"] == json.loads((sweep_dir / "sweep.json").read_text())["rows"]
    sweep = json.loads((sweep_dir / "sweep.json").read_text())
    assert [row["ratio"] for row in sweep["rows"]] == [0.0, 0.5, 0.8]
    assert [row["model"] for row in sweep["rows"]] == ["digits", "digits-unstructured50", "digits-unstructured80"]
    sparsity = [row["sparsity"] for row in sweep["rows"]]
    assert sparsity[0] < 0.01 < sparsity[1] < sparsity[2]
    gz = [row["gzip_bytes"] for row in sweep["rows"]]
    assert gz[0] > gz[1] > gz[2] and sweep["rows"][2]["gzip_ratio"] == pytest.approx(gz[0] / gz[2], rel=1e-2)
    svg = ET.parse(sweep_dir / "raspberry-pi-5-int8.svg").getroot()
    assert len(svg.findall(".//{http://www.w3.org/2000/svg}circle")) == 3
    md = (sweep_dir / "sweep.md").read_text()
    assert "| raspberry-pi-5 | int8" in md and "![raspberry-pi-5-int8.svg]" in md
    # each pruned row's change vs unpruned carries its interval (same 397 held-out digits)
    for row in sweep["rows"][1:]:
        lo, hi = row["delta_ci95"]
        assert row["n_evaluated"] == 397 and lo <= -100 * row["delta"] <= hi, row
        assert f"{100 * row['delta']:+.2f} pt [{-hi:+.1f}, {-lo:+.1f}]" in md, md
    assert json.loads(r.stdout)["directory"] == str(sweep_dir)
    # the sweep's conversions live in its own directory: build/digits/ (another run's record) is not touched
    assert sorted(p.name for p in (tmp_path / "build").iterdir()) == ["digits", "digits-sweep-unstructured"]
    assert (tmp_path / "build" / "digits" / "raspberry-pi-5" / "int8" / "report.json").read_bytes() == earlier
    assert {p.name for p in sweep_dir.iterdir() if p.is_dir()} == {"digits", "digits-unstructured50",
                                                                    "digits-unstructured80"}


def test_sweep_lists_every_other_metric_of_the_model():
    """face-id's top-1 can hold while its open-set metrics fall: each pruned row names them, unpruned -> pruned,
    with the interval of each proportion's change on its own sample count."""
    from converters.common.prune_sweep import _other_changes
    from edgekit.reporting.sweep import other_metric_lines, render_sweep

    def row(ratio, top1, metrics, drops=None):
        return {"target": "raspberry-pi-5", "precision": "int8", "ratio": ratio, "macs": None, "params": None,
                "sparsity": 0.0, "size_bytes": 2048, "gzip_bytes": 1024, "gzip_ratio": 1.0, "metric": "top1",
                "unit": "proportion", "value": top1, "delta": top1 - 0.9875, "delta_ci95": [-3.1, 3.1],
                "latency_median_ms": 1.0, "speedup": 1.0, "n_evaluated": 160, "metrics": metrics,
                "metrics_change_ci95": drops or {}}

    before = {"top1": 0.9875, "n_heldout": 160, "embedding_top1": 0.925, "false_reject_rate": 0.075,
              "threshold": 0.61, "n_strangers": 40, "stranger_reject_rate": 0.9}
    after = {**before, "embedding_top1": 0.8125, "false_reject_rate": 0.1875, "stranger_reject_rate": 0.9}
    drops = _other_changes("face-id", before, after)
    # changes, + = higher: embedding top-1 fell, false rejects rose; the stranger rate (40 samples) did not move
    assert drops["embedding_top1"][1] < 0 < drops["false_reject_rate"][0], drops
    lo, hi = drops["stranger_reject_rate"]
    assert lo < 0 < hi and hi - lo > 20, drops  # 40 strangers: wide
    assert "threshold" not in drops and "top1" not in drops
    # a count that differs from unpruned's is not the same samples: no interval
    assert "stranger_reject_rate" not in _other_changes("face-id", before, {**after, "n_strangers": 39})
    assert _other_changes("my-model", before, after) == {}

    others = {k: v for k, v in before.items() if k != "top1" and not k.startswith("n_")}
    sweep = {"model": "face-id", "method": "structured", "latency": "host", "rows": [
        row(0.0, 0.9875, others),
        row(0.5, 0.9875, {k: after[k] for k in others}, drops)]}
    ci = drops["embedding_top1"]
    assert other_metric_lines(sweep) == [
        "raspberry-pi-5 int8 0.5: embedding_top1 0.925 -> 0.8125 "
        f"(-11.25 pt [{ci[0]:+.1f}, {ci[1]:+.1f}]), false_reject_rate 0.075 -> 0.1875 (+11.25 pt "
        f"[{drops['false_reject_rate'][0]:+.1f}, {drops['false_reject_rate'][1]:+.1f}]), threshold 0.61 -> 0.61, "
        f"stranger_reject_rate 0.9 -> 0.9 (+0.00 pt [{lo:+.1f}, {hi:+.1f}])"]
    text = render_sweep(sweep, markdown=False)
    assert "+0.00 pt [-3.1, +3.1]" in text and text.endswith(other_metric_lines(sweep)[0]), text