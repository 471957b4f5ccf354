"""face-id on the device: enrol a gallery of faces, identify probe faces, reject strangers.

    python app/app.py --demo        # enrol the packed gallery, identify 12 probes (4 are strangers)
    python app/app.py --evaluate    # top-1 and open-set metrics on the packed held-out ORL images
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from edgekit.agent.app import run_app  # noqa: E402
from edgekit.zoo.face_id import task  # noqa: E402


def demo(ctx):
    data, evaluation = ctx.data("demo"), ctx.data("eval")
    threshold = task.choose_threshold(ctx.predict, evaluation)
    gallery, labels = task.gallery(ctx.predict({task.INPUT: data["gallery_images"]})[task.EMBEDDING],
                                   data["gallery_person"])
    who, accepted = task.match(ctx.predict({task.INPUT: data[task.INPUT]})[task.EMBEDDING], gallery, labels,
                               threshold)
    right = 0
    for i, (truth, person, ok) in enumerate(zip(data["probe_person"], who, accepted)):
        said = f"s{person}" if ok else "rejected"
        correct = (ok and person == truth) or (not ok and truth < 0)
        right += correct
        print(f"probe {i:2d} ({'stranger' if truth < 0 else f's{truth}'}): {said}  {'ok' if correct else 'WRONG'}")
    return {"probes": len(who), "correct": int(right), "threshold": threshold}


def evaluate(ctx):
    return task.evaluate(ctx.predict, ctx.data("eval"))


if __name__ == "__main__":
    sys.exit(run_app(demo, evaluate))
