"""Train the dqn-cartpole zoo model (Double DQN, experience replay, target network) and write its weights.

    python scripts/train_dqn_cartpole.py [--steps 60000] [--seed 0]

Training episodes use seeds from 0 up; the checkpoint is chosen on 30 validation episodes (seeds 30_000+);
the 100 held-out episodes (seeds 10_000+) are scored only at the end, for the record.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from edgekit.zoo.dqn_cartpole import model as dq

OUT = Path(__file__).resolve().parents[1] / "edgekit" / "zoo" / "weights"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=80000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import gymnasium as gym
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    online, target = dq.build_model(), dq.build_model()
    target.set_weights(online.get_weights())
    # Hyperparameters of RL Baselines3 Zoo's tuned DQN for CartPole-v1: bursts of 128 gradient steps every
    # 256 environment steps, target network synchronised after each burst, exploration 1 -> 0.04 over 16%.
    opt = keras.optimizers.Adam(2.3e-3)
    gamma, batch, capacity = 0.99, 64, 100_000
    buf_s = np.zeros((capacity, 4), np.float32)
    buf_a = np.zeros(capacity, np.int64)
    buf_r = np.zeros(capacity, np.float32)
    buf_s2 = np.zeros((capacity, 4), np.float32)
    buf_done = np.zeros(capacity, np.float32)

    @tf.function
    def q(x):
        return online(x, training=False)[dq.Q_OUTPUT]

    @tf.function
    def train_step(s, a, r, s2, done):
        # Double DQN: the online network picks the next action, the target network scores it.
        next_a = tf.argmax(online(s2, training=False)[dq.Q_OUTPUT], axis=1)
        next_q = tf.gather(target(s2, training=False)[dq.Q_OUTPUT], next_a, batch_dims=1)
        y = r + gamma * (1.0 - done) * next_q
        with tf.GradientTape() as tape:
            pred = tf.gather(online(s, training=True)[dq.Q_OUTPUT], a, batch_dims=1)
            loss = tf.reduce_mean(keras.losses.huber(y[:, None], pred[:, None]))
        grads = tape.gradient(loss, online.trainable_variables)
        opt.apply_gradients(zip(grads, online.trainable_variables))
        return loss

    env = gym.make(dq.ENV_ID)
    episode = 0
    state, _ = env.reset(seed=episode)
    started = time.time()
    best, best_step, best_weights = -1.0, -1, None
    for step in range(args.steps):
        eps = max(0.04, 1.0 - step / (0.16 * args.steps))
        action = int(rng.integers(2)) if rng.random() < eps else int(np.argmax(q(state[None].astype(np.float32))))
        nxt, reward, terminated, truncated, _ = env.step(action)
        i = step % capacity
        buf_s[i], buf_a[i], buf_r[i], buf_s2[i], buf_done[i] = state, action, reward, nxt, float(terminated)
        state = nxt
        if terminated or truncated:
            episode += 1
            state, _ = env.reset(seed=episode)
        if step >= 1000 and step % 256 == 0:
            for _ in range(128):
                j = rng.integers(0, min(step + 1, capacity), batch)
                train_step(buf_s[j], buf_a[j], buf_r[j], buf_s2[j], buf_done[j])
            target.set_weights(online.get_weights())
        if step >= 10_000 and step % 2500 == 0:
            val = dq.evaluate(dq.keras_policy(dq.deployed_model(online)), "validation")["mean_return"]
            if val > best or (val == best and val == dq.MAX_RETURN):
                best, best_step, best_weights = val, step, online.get_weights()
            print(f"step {step:6d}  episodes {episode:4d}  validation mean return {val:6.1f}  "
                  f"(best {best:.1f} @ {best_step}, {time.time() - started:.0f} s)", flush=True)
    online.set_weights(best_weights)
    online.save_weights(str(OUT / dq.WEIGHTS))
    record = {"training": {"steps": args.steps, "episodes": episode, "best_step": best_step, "seed": args.seed,
                           "seconds": round(time.time() - started, 1), "validation_mean_return": best},
              "heldout": dq.evaluate(dq.keras_policy(dq.deployed_model(online)))}
    (OUT / "dqn_cartpole.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
