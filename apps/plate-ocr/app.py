"""plate-ocr on the device: read licence plates from camera crops.

    python app/app.py --demo        # read 12 packed plate images, compare with their true text
    python app/app.py --evaluate    # exact match / per-character accuracy on 1,000 packed held-out plates
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from edgekit.agent.app import run_app  # noqa: E402
from edgekit.zoo.plate_ocr import task  # noqa: E402


def demo(ctx):
    data = ctx.data("demo")
    scores = ctx.predict({task.INPUT: data[task.INPUT]})[task.OUTPUT]
    with ctx.stage("decode"):
        read = task.decode(scores)
    truth = task.texts_of(data["labels"])
    for i, (got, want) in enumerate(zip(read, truth)):
        print(f"plate {i:2d}: read {got}  ({'ok' if got == want else 'true ' + want})")
    return {"plates": len(read), "read_exactly": sum(g == w for g, w in zip(read, truth))}


def evaluate(ctx):
    return task.evaluate(ctx.predict, ctx.data("eval"))


if __name__ == "__main__":
    sys.exit(run_app(demo, evaluate))
