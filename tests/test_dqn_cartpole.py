"""dqn-cartpole: the exact deployment rewrite, the closed-loop evaluation, and int8 control on every runtime."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgekit.converters.common.pipeline import convert, plan_jobs
from edgekit.targets import resolve_targets
from edgekit.zoo.dqn_cartpole import model as dq

TARGETS = ["raspberry-pi-5", "jetson-orin-nano", "intel-core-ultra-npu"]


@pytest.fixture(scope="module")
def dqn_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    summary = convert("dqn-cartpole", plan_jobs(resolve_targets(TARGETS), "int8", every=False), out)
    return out / "dqn-cartpole", summary


def test_deployed_network_picks_the_same_actions_as_the_q_network():
    from edgekit.zoo._weights import load_weights

    q_model = load_weights(dq.build_model(), dq.WEIGHTS)
    raw = dq.calibration_inputs(200)[dq.INPUT] * dq.STATE_SCALE  # visited states, un-normalised
    q = np.asarray(q_model(raw)[dq.Q_OUTPUT])
    adv = np.asarray(dq.load_model()(dq.normalise(raw))[dq.OUTPUT])
    np.testing.assert_allclose(adv, np.clip(q - q.mean(1, keepdims=True), -1, 1), atol=1e-4)
    assert np.array_equal(adv.argmax(1), q.argmax(1))


def test_closed_loop_evaluation_is_seeded_and_scores_policies():
    rule = dq.baseline()
    assert rule["random_policy_mean_return"] < 50  # a random policy drops the pole within a few dozen steps
    assert rule["angle_rule_mean_return"] > 400
    flip = lambda feeds: {dq.OUTPUT: -np.stack([feeds[dq.INPUT][:, 2], -feeds[dq.INPUT][:, 2]], 1)}  # noqa: E731
    first = dq.evaluate(flip)
    assert first == dq.evaluate(flip)  # same seeds, same episodes
    assert first["n_episodes"] == 100 and first["mean_return"] < 50  # pushing away from the fall fails


def test_fp32_policy_balances_every_heldout_episode(dqn_build):
    _, summary = dqn_build
    assert summary.reference_metrics["mean_return"] >= 475
    assert summary.reference_metrics["n_episodes"] == 100


@pytest.mark.parametrize("target", TARGETS)
def test_int8_policy_keeps_95_percent_of_the_return_in_the_loop(dqn_build, target):
    model_dir, summary = dqn_build
    r = json.loads((model_dir / target / "int8" / "report.json").read_text())
    assert r["metrics"]["mean_return"] >= 0.95 * summary.reference_metrics["mean_return"], r["float_fallback"]
    fallback = r["float_fallback"]
    assert fallback["tolerance"] == pytest.approx(0.05 * fallback["reference"])
    all_int8 = fallback["trials"][0]
    # The decision is consistent with its own measurements: float layers only when all-int8 failed.
    assert (fallback["float_layers"] == []) == all_int8["within_tolerance"]
    assert r["latency"]["p99_ms"] >= r["latency"]["median_ms"] > 0


def test_litert_int8_that_holds_the_return_is_not_slower_than_fp32(dqn_build):
    """The search keeps hidden2 float; as full-integer int8 around it LiteRT ran 1.9x fp32's time (measured 0.028 vs
    0.014 ms: quantize/dequantize pairs on a 15 us model). All-dynamic-range returned 97 of 500 on validation;
    dynamic-range with hidden2 still float returns 500 at fp32's speed: the speed guard keeps that one."""
    model_dir, _ = dqn_build
    r = json.loads((model_dir / "raspberry-pi-5" / "int8" / "report.json").read_text())
    speed = r["int8_speed"]
    trials = {t["variant"]: t for t in speed["trials"]}
    assert speed["slower"] and speed["chosen"] == "dynamic-range with the float layers kept", speed
    assert not trials["dynamic-range"]["within_budget"] and trials[speed["chosen"]]["within_budget"], speed
    assert trials[speed["chosen"]]["p50_ms"] < trials["as built"]["p50_ms"], speed
    assert r["metrics"]["mean_return"] >= 475 and r["float_fallback"]["float_layers"] == ["hidden2"]


def test_int16_on_onnx_runtime_balances_every_episode_smaller_than_fp32(tmp_path):
    """The issue's bar for int16: every held-out episode >= 475 with an artifact smaller than fp32. The recipe's
    16-bit weights (int8 weights gave return 15) make ONNX Runtime's int16 hold; LiteRT's 16x8 takes int8
    weights only, and its int16 is caught as degraded."""
    jobs = (plan_jobs(resolve_targets(["jetson-orin-nano", "raspberry-pi-5"]), "int16", every=False)
            + plan_jobs(resolve_targets(["jetson-orin-nano"]), "fp32", every=False))
    summary = convert("dqn-cartpole", jobs, tmp_path)
    rows = {r.name: r for r in summary.artifacts}
    onnx = json.loads((tmp_path / "dqn-cartpole" / "jetson-orin-nano" / "int16" / "report.json").read_text())
    assert onnx["metrics"]["min_return"] >= 475 and not rows["jetson-orin-nano int16"].degraded, onnx["metrics"]
    assert rows["jetson-orin-nano int16"].size_bytes < 0.6 * rows["jetson-orin-nano fp32"].size_bytes
    assert rows["raspberry-pi-5 int16"].degraded[0].startswith("mean_return "), rows["raspberry-pi-5 int16"]
