"""gnn-grid on the device: estimate the voltage state of the IEEE 118-bus grid from load readings.

    python app/app.py --demo        # 8 packed operating points, estimated vs pandapower's AC solution
    python app/app.py --evaluate    # RMSE / max error (p.u., degrees) over 500 packed held-out samples
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from edgekit.agent.app import run_app  # noqa: E402
from edgekit.zoo.gnn_grid import task  # noqa: E402


def demo(ctx):
    data = ctx.data("demo")
    feeds = {k: data[k] for k in (task.FEATURES_INPUT, task.ADJ_INPUT)}
    out = ctx.predict(feeds)[task.OUTPUT]
    with ctx.stage("decode state"):
        state = task.decode_state(out.astype(np.float64))
    for i, (est, true) in enumerate(zip(state, data["state_true"])):
        low = int(est[:, 0].argmin())
        print(f"sample {i}: lowest voltage at bus {low + 1}: {est[low, 0]:.4f} p.u. (solver {true[low, 0]:.4f}); "
              f"max |dV| {np.abs(est[:, 0] - true[:, 0]).max():.4f} p.u., max |dθ| "
              f"{np.abs(est[:, 1] - true[:, 1]).max():.2f}°")
    return {"samples": len(state)}


def evaluate(ctx):
    return task.evaluate(ctx.predict, ctx.data("eval"))


if __name__ == "__main__":
    sys.exit(run_app(demo, evaluate))
