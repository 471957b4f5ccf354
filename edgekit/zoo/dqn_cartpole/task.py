"""dqn-cartpole's task, device side (numpy + gymnasium; shipped in bundles): the closed control loop and its
return, the same code on the workstation and on a device.

Input ``state`` (1, 4): cart position, cart velocity, pole angle, pole angular velocity, divided by STATE_SCALE.
Output ``advantage`` (1, 2): push left / push right, Q-values minus their mean; the policy is the argmax. The
metric is the return of seeded episodes (500 is the maximum) with the policy run by the artifact's runtime in
the loop.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

INPUT, OUTPUT = "state", "advantage"  # the deployed network's
ENV_ID = "CartPole-v1"
MAX_RETURN = 500
SEEDS = {"heldout": range(10_000, 10_100), "validation": range(30_000, 30_030), "calibration": range(20_000, 20_010)}
# Termination bounds for cart position and pole angle; 2.0 for both velocities (the trained policy stays within).
STATE_SCALE = np.array([2.4, 2.0, 0.2095, 2.0], np.float32)

Predict = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]


def normalise(states: np.ndarray) -> np.ndarray:
    """What the deployed network takes: raw CartPole observations divided by STATE_SCALE."""
    return (np.asarray(states, np.float32) / STATE_SCALE).astype(np.float32)


def _gym():
    from edgekit._lazy import require

    return require("gymnasium", purpose="Running CartPole episodes", extra="zoo")


def rollouts(predict: Predict, seeds, record_states: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Run one greedy episode per seed, all in lockstep (one batched predict per step).

    ``predict`` takes normalised states. Returns (returns (len(seeds),), visited normalised states (M, 4)
    or an empty array)."""
    gym = _gym()
    envs = [gym.make(ENV_ID) for _ in seeds]
    states = np.stack([env.reset(seed=int(s))[0] for env, s in zip(envs, seeds)]).astype(np.float32)
    returns = np.zeros(len(envs))
    alive = np.ones(len(envs), bool)
    visited = []
    while alive.any():
        idx = np.flatnonzero(alive)
        feed = normalise(states[idx])
        if record_states:
            visited.append(feed)
        actions = predict({INPUT: feed})[OUTPUT].argmax(-1)
        for i, action in zip(idx, actions):
            obs, reward, terminated, truncated, _ = envs[i].step(int(action))
            states[i] = obs
            returns[i] += reward
            alive[i] = not (terminated or truncated)
    for env in envs:
        env.close()
    return returns, (np.concatenate(visited) if visited else np.zeros((0, 4), np.float32))


def evaluate(predict: Predict, data: dict) -> dict[str, float]:
    """Mean / min return of the seeded episodes in ``data`` with ``predict`` choosing every action."""
    returns, _ = rollouts(predict, [int(s) for s in data["seeds"]])
    return {"mean_return": float(returns.mean()), "min_return": float(returns.min()),
            "episodes_at_max": int(np.sum(returns >= MAX_RETURN)), "n_episodes": int(len(returns))}
