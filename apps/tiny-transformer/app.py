"""tiny-transformer on the device: spot spoken keywords in 1 s log-mel windows.

    python app/app.py --demo        # one packed held-out clip of each of the 12 classes
    python app/app.py --evaluate    # top-1 on 2,000 packed clips by voices never heard in training
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from edgekit.agent.app import run_app  # noqa: E402
from edgekit.zoo.tiny_transformer import task  # noqa: E402


def demo(ctx):
    data = ctx.data("demo")
    logits = ctx.predict({task.INPUT: data[task.INPUT]})[task.OUTPUT]
    with ctx.stage("softmax"):
        prob = task.softmax(logits)
    for said, p, truth in zip(prob.argmax(-1), prob.max(-1), data["labels"]):
        print(f"heard {task.CLASSES[said]:>10s} ({p:.2f})  said {task.CLASSES[truth]}")
    return {"clips": len(prob), "correct": int(np.sum(prob.argmax(-1) == data["labels"]))}


def evaluate(ctx):
    return task.evaluate(ctx.predict, ctx.data("eval"))


if __name__ == "__main__":
    sys.exit(run_app(demo, evaluate))
