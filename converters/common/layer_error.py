"""Where a quantized artifact departs from its float twin, layer by layer, on the same held-out inputs.

One algorithm for the three runtimes (each backend only says how to read every intermediate tensor of an
artifact with its own runtime: ``Backend.tensors``): run the fp32 artifact and the quantized one of the same
format on the same samples, and for every tensor both have (matched by name; exporters keep them) measure

- ``snr_db``: the quantized artifact's value vs the fp32 artifact's at that point — the error accumulated along
  the graph up to there;
- ``added_db``: the SNR of the error this tensor adds to what arrived: noise-to-signal power here minus at the
  previous matched tensor in graph order, in dB (120: nothing added, e.g. after a ReLU or pooling).

Tensors are mapped back to the source model's layers (Keras layer names in the exporters' node paths, else the
node name itself). Read what runs on the device, not a simulation: a LiteRT kernel, an ONNX Runtime QDQ node and
an OpenVINO FakeQuantize each show their own error.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from edgekit.converters.common.verify import SNR_CAP_DB, snr_db

WORST = 5  # layers a report lists
FEEDS = 16  # samples a per-layer comparison runs on


@dataclass(frozen=True)
class LayerError:
    layer: str  # the source model's layer (or the artifact's node) this tensor belongs to
    tensor: str  # the artifact's tensor name
    snr_db: float  # quantized vs fp32 at this tensor: accumulated error
    added_db: float  # SNR of the error added since the previous matched tensor in graph order


@dataclass(frozen=True)
class LayerReport:
    """``layers.json`` next to a quantized artifact, and its summary in report.json / report.md."""

    compared: int  # tensors found in both artifacts
    threshold_db: float
    first_below: LayerError | None  # first layer in graph order whose accumulated SNR is below the threshold
    worst: tuple[LayerError, ...]  # the layers that add the most error
    layers: tuple[LayerError, ...]  # every matched tensor, graph order
    seconds: float  # how long it took (both artifacts with every tensor as an output)

    def summary(self) -> dict:
        return {"compared": self.compared, "threshold_db": self.threshold_db, "seconds": self.seconds,
                "first_below": asdict(self.first_below) if self.first_below else None,
                "worst": [asdict(e) for e in self.worst]}

    def to_json(self) -> dict:
        return {**self.summary(), "layers": [asdict(e) for e in self.layers]}


def source_layer(tensor: str, layers: Sequence[str]) -> str:
    """The Keras layer a tensor belongs to (exporters nest names as .../<layer>[_N]/...; LiteRT joins fused ops'
    names with ';', the first is the op's own), else the tensor's own first name."""
    first = tensor.split(";")[0]
    # outermost first, the op's own name last: "functional_1/batch_normalization_1_2/batchnorm/add_1" is the
    # batch_normalization_1 layer even when the model also has a layer named add_1
    for part in first.split("/"):
        base = re.sub(r"_\d+$", "", part)
        if part in layers or base in layers:
            return part if part in layers else base
    return first


def compare(fp32: dict[str, np.ndarray], quant: dict[str, np.ndarray], order: Sequence[str],
            layers: Sequence[str], threshold_db: float, started: float) -> LayerReport:
    """``fp32``/``quant``: tensor name -> values over the samples; ``order``: the quantized artifact's tensors in
    graph order."""
    records, noise = [], 0.0  # noise-to-signal power ratio of the previous matched tensor
    for name in order:
        if name not in fp32 or name not in quant or fp32[name].shape != quant[name].shape:
            continue
        if not (np.isfinite(quant[name]).all() and np.isfinite(fp32[name]).all()):
            value = -SNR_CAP_DB
        else:
            value = float(snr_db(fp32[name], quant[name]))
        here = 10 ** (-value / 10)
        added = SNR_CAP_DB if here <= noise else min(SNR_CAP_DB, -10 * np.log10(here - noise))
        records.append(LayerError(source_layer(name, layers), name, value, round(float(added), 2)))
        noise = here
    first = next((r for r in records if r.snr_db < threshold_db), None)
    worst = tuple(sorted(records, key=lambda r: r.added_db)[:WORST])
    return LayerReport(len(records), threshold_db, first, worst, tuple(records),
                       round(time.perf_counter() - started, 2))


def _stacked(values: dict[str, list]) -> dict[str, np.ndarray]:
    """Each tensor's per-feed values as one float32 array (scalars too: a shape node's output has no axis)."""
    return {k: np.concatenate([np.atleast_1d(np.asarray(v, np.float32)) for v in runs]) for k, runs in values.items()}


def layer_report(tensors: Callable[[object, list[dict]], tuple[dict, list[str]]], fp32_artifact, quant_artifact,
                 feeds: list[dict], layers: Sequence[str], threshold_db: float) -> LayerReport:
    """``tensors(artifact, feeds)`` -> ({name: its value on each feed}, names in graph order): a backend's."""
    started = time.perf_counter()
    fp32, _ = tensors(fp32_artifact, feeds)
    quant, order = tensors(quant_artifact, feeds)
    return compare(_stacked(fp32), _stacked(quant), order, layers, threshold_db, started)


def feeds_of(inputs: dict[str, np.ndarray], k: int = FEEDS) -> list[dict[str, np.ndarray]]:
    """``k`` one-sample feeds spread evenly over ``inputs`` (data often comes in order: one class after another)."""
    from edgekit.converters.common.data import spread

    n = len(next(iter(inputs.values())))
    return [{name: v[i : i + 1] for name, v in inputs.items()} for i in spread(n, k)]
