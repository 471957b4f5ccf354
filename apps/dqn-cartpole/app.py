"""dqn-cartpole on the device: balance CartPole-v1 in a closed loop (needs gymnasium on the device).

    python app/app.py --demo        # 3 seeded episodes, control-step latency
    python app/app.py --evaluate    # mean / min return over the 100 held-out episode seeds
"""

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from edgekit.agent.app import run_app  # noqa: E402
from edgekit.zoo.dqn_cartpole import task  # noqa: E402


def demo(ctx):
    steps = []

    def timed(feeds):
        t0 = time.perf_counter()
        out = ctx.predict(feeds)
        steps.append((time.perf_counter() - t0) * 1e3)
        return out

    seeds = [int(s) for s in ctx.data("demo")["seeds"]]
    for seed in seeds:
        returns, _ = task.rollouts(timed, [seed])
        print(f"episode seed {seed}: return {returns[0]:.0f} / {task.MAX_RETURN:.0f}")
    return {"episodes": len(seeds), "control_steps": len(steps), "step_p50_ms": float(np.median(steps)),
            "step_p99_ms": float(np.percentile(steps, 99))}


def evaluate(ctx):
    return task.evaluate(ctx.predict, ctx.data("eval"))


if __name__ == "__main__":
    sys.exit(run_app(demo, evaluate))
