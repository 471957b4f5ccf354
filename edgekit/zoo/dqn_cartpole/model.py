"""dqn-cartpole, workstation side: the trained Q-network, its exact deployed rewrite, calibration and baselines.

Why a rewrite: with gamma 0.99 both actions' Q-values sit near 100 and differ by ~0.5, so an int8 output (step
~0.35 over their range) loses the difference and the quantized policy acts at random (measured: return 77 vs 500,
argmax agreement 0.50). Subtracting the mean is folded into the last layer's weights (an exact rewrite: same
argmax), leaving an output range of a few units that int8 resolves. Likewise the input: a per-tensor int8 scale
over raw states (velocities up to ~2) leaves the pole angle (|angle| < 0.21 rad) a handful of levels, so the
deployed network takes ``normalise(state)`` = state / STATE_SCALE and the scale is folded into the first layer
(again exact). Seeds: evaluation 10_000-10_099; calibration states come from the fp32 policy's own episodes on
seeds 20_000+ (states the trained policy visits); training used other seeds (scripts/train_dqn_cartpole.py).
"""

from __future__ import annotations

import numpy as np

from edgekit.zoo._weights import load_weights
from edgekit.zoo.dqn_cartpole import task
from edgekit.zoo.dqn_cartpole.task import (  # noqa: F401 (re-exported for the training script and tests)
    ENV_ID, INPUT, MAX_RETURN, OUTPUT, SEEDS, STATE_SCALE, normalise, rollouts)

Q_OUTPUT = "q_values"  # the trained network's output
HIDDEN = 256
WEIGHTS = "dqn_cartpole.weights.h5"


ADVANTAGE_CLIP = 1.0


def build_model(output: str = Q_OUTPUT):
    from edgekit._lazy import quiet_tensorflow

    quiet_tensorflow()
    import keras
    from keras import layers

    inp = keras.Input(shape=(4,), name=INPUT)
    x = layers.Dense(HIDDEN, activation="relu", name="hidden1")(inp)
    x = layers.Dense(HIDDEN, activation="relu", name="hidden2")(x)
    if output == Q_OUTPUT:
        return keras.Model(inp, {Q_OUTPUT: layers.Dense(2, name=Q_OUTPUT)(x)}, name="dqn_cartpole")
    # Deployed head: centred Q-values clipped to +-ADVANTAGE_CLIP. 99% of visited states have |advantage| < 0.09
    # but a few reach 47; clipping keeps the sign (the greedy action) and gives int8 a +-1 range to resolve.
    linear = layers.Dense(2, name=f"{output}_linear")(x)
    out = layers.Activation(lambda v: keras.ops.clip(v, -ADVANTAGE_CLIP, ADVANTAGE_CLIP), name=output)(linear)
    return keras.Model(inp, {output: out}, name="dqn_cartpole")


def load_model():
    """The deployed network: the trained Q-network with its mean over actions folded out of the last layer."""
    return deployed_model(load_weights(build_model(), WEIGHTS))


def deployed_model(q_model):
    """Exact rewrite of a trained Q-network for int8: normalised input, Q minus its mean over actions as output."""
    model = build_model(OUTPUT)
    model.set_weights(q_model.get_weights())
    first = model.get_layer("hidden1")
    kernel, bias = first.get_weights()
    first.set_weights([kernel * STATE_SCALE[:, None], bias])  # W x = (W diag(s)) (x / s)
    head = model.get_layer(f"{OUTPUT}_linear")
    kernel, bias = head.get_weights()
    head.set_weights([kernel - kernel.mean(axis=1, keepdims=True), bias - bias.mean()])
    return model


def keras_policy(model) -> task.Predict:
    """A deployed Keras network (see deployed_model) as a predict function."""
    return lambda feeds: {OUTPUT: np.asarray(next(iter(model(feeds[INPUT], training=False).values())))}


def eval_arrays(split: str = "heldout") -> dict[str, np.ndarray]:
    """A split's episode seeds (held-out: a device runs the same 100 episodes with gymnasium)."""
    return {"seeds": np.array(list(SEEDS[split]), np.int64)}


def demo_arrays() -> dict[str, np.ndarray]:
    """States the fp32 policy visits on held-out episodes (sample inputs), and 3 episode seeds to play."""
    return {**heldout_inputs(), "seeds": np.array(list(SEEDS["heldout"])[:3], np.int64)}


def evaluate(predict: task.Predict, split: str = "heldout") -> dict[str, float]:
    """Mean / min return of the split's seeded episodes with ``predict`` choosing every action."""
    return task.evaluate(predict, eval_arrays(split))


def calibration_inputs(n: int = 200) -> dict[str, np.ndarray]:
    """States the trained fp32 policy visits (its own episodes on calibration seeds), spread evenly."""
    _, states = rollouts(keras_policy(load_model()), SEEDS["calibration"], record_states=True)
    return {INPUT: states[np.linspace(0, len(states) - 1, min(n, len(states))).round().astype(int)]}


def heldout_inputs() -> dict[str, np.ndarray]:
    """States for agreement/latency checks: the fp32 policy's states on the first held-out episode seeds."""
    _, states = rollouts(keras_policy(load_model()), list(SEEDS["heldout"])[:4], record_states=True)
    return {INPUT: states}


def baseline() -> dict[str, float]:
    """A random policy, and a hand-written rule (push toward the side the pole falls: angle + 0.5 x angular
    velocity), which already balances CartPole-v1: the DQN is the workload, not the best controller."""
    def policy(feeds):
        s = feeds[INPUT] * STATE_SCALE
        push_right = (s[:, 2] + 0.5 * s[:, 3]) > 0
        return {OUTPUT: np.stack([~push_right, push_right], axis=1).astype(np.float32)}

    def random_policy(feeds, rng=np.random.default_rng(0)):
        return {OUTPUT: rng.random((len(feeds[INPUT]), 2)).astype(np.float32)}

    rule, _ = rollouts(policy, SEEDS["heldout"])
    chance, _ = rollouts(random_policy, SEEDS["heldout"])
    return {"angle_rule_mean_return": float(rule.mean()), "random_policy_mean_return": float(chance.mean())}
