"""The generic app's task code (numpy only), for any model a user packages: the packed samples through the
artifact on the device, and the device's outputs compared with the workstation's outputs of the same artifact on
the same samples (packed with them), plus top-1 accuracy when the samples came with labels.

The packed arrays: ``data/demo.npz`` holds a few inputs by input name; ``data/eval.npz`` the evaluation inputs,
the workstation's outputs under ``expected__<output>``, ``primary_output`` (the output top-1 reads) and
optionally ``labels``.
"""

from __future__ import annotations

import numpy as np

from edgekit.profiling.compare import snr_db

EXPECTED = "expected__"  # eval.npz key prefix of the workstation's outputs
PRIMARY = "primary_output"
LABELS = "labels"


def _inputs(ctx, data: dict) -> dict[str, np.ndarray]:
    return {t.name: data[t.name] for t in ctx.session.inputs}


def describe(name: str, value: np.ndarray) -> str:
    """One output of one sample in a line: the top 3 of a score vector, else its shape and range."""
    v = np.asarray(value)
    if v.ndim == 1 and 1 < v.size <= 100_000 and np.issubdtype(v.dtype, np.floating):
        top = np.argsort(v)[::-1][:3]
        return f"{name}: top-3 " + ", ".join(f"#{int(j)} {float(v[j]):.3g}" for j in top)
    return f"{name}: shape {tuple(v.shape)}, min {float(v.min()):.3g}, max {float(v.max()):.3g}, mean {float(v.mean()):.3g}"


def demo(ctx) -> dict:
    data = ctx.data("demo")
    inputs = _inputs(ctx, data)
    n = len(next(iter(inputs.values())))
    for i in range(n):
        out = ctx.predict({k: v[i : i + 1] for k, v in inputs.items()})
        print(f"sample {i}: " + "; ".join(describe(k, v[0]) for k, v in out.items()))
    return {"samples": n}


def expected_outputs(data: dict) -> dict[str, np.ndarray]:
    """The workstation's outputs packed in eval.npz, by output name."""
    return {k[len(EXPECTED):]: v for k, v in data.items() if k.startswith(EXPECTED)}


def compare(outputs: dict[str, np.ndarray], data: dict) -> dict:
    """The device's (or the workstation's own) outputs vs the packed workstation outputs, and top-1 with labels."""
    expected = expected_outputs(data)
    primary = str(np.asarray(data[PRIMARY]).reshape(-1)[0])  # stored as a 1-element array
    out: dict = {"n_heldout": int(len(expected[primary]))}
    if LABELS in data:
        out["top1"] = float(np.mean(np.asarray(outputs[primary]).argmax(-1) == data[LABELS]))
    snrs = {k: snr_db(v, outputs[k]) for k, v in sorted(expected.items())}
    out["snr_db_min_vs_workstation"] = min(snrs.values())
    ref = expected[primary]
    if ref.ndim >= 2 and ref.shape[-1] > 1:
        out["top1_agreement_vs_workstation"] = float(np.mean(ref.argmax(-1) == np.asarray(outputs[primary]).argmax(-1)))
    return out


def evaluate(ctx) -> dict:
    data = ctx.data("eval")
    return compare(ctx.predict(_inputs(ctx, data)), data)
