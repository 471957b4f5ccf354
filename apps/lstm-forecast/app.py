"""lstm-forecast on the device: forecast electricity demand 6 hours ahead over a stream of readings.

    python app/app.py --demo        # a week of held-out readings, one forecast every 6 hours
    python app/app.py --evaluate    # MAE / RMSE in MW over every packed held-out window
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from edgekit.agent.app import run_app  # noqa: E402
from edgekit.zoo.lstm_forecast import task  # noqa: E402


def demo(ctx):
    data = ctx.data("demo")
    errors = []
    for window, truth, start in zip(data[task.INPUT], data["targets_mw"], data["start"]):
        out = ctx.predict({task.INPUT: window[None]})[task.OUTPUT]
        with ctx.stage("denormalise"):
            forecast = task.to_megawatts(out[0], data["norm"])
            errors.append(np.abs(forecast - truth).mean())
        print(f"half-hour {int(start):5d}: next 6 h {forecast[0]:7.0f} .. {forecast[-1]:7.0f} MW  "
              f"(actual {truth[0]:7.0f} .. {truth[-1]:7.0f}, MAE {errors[-1]:5.0f})")
    return {"forecasts": len(errors), "mae_mw": float(np.mean(errors))}


def evaluate(ctx):
    return task.evaluate(ctx.predict, ctx.data("eval"))


if __name__ == "__main__":
    sys.exit(run_app(demo, evaluate))
