"""Per-architecture conversion policy, declarative and looked up by name.

A recipe says where each format's export starts, which typed options each backend gets (the backend's own
frozen dataclass, e.g. OpenVINOOptions) and which layers may stay float. It is policy only: the mechanics live
in converters/common and the per-format backends.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgekit.converters.backend import INTERMEDIATES, ONNX, SAVED_MODEL
from edgekit.converters.onnx import OnnxOptions
from edgekit.converters.openvino import OpenVINOOptions
from edgekit.errors import UsageError, did_you_mean
from edgekit.formats import FORMATS
from edgekit.reporting.fidelity import Fidelity


@dataclass(frozen=True)
class Route:
    """Where a format's export starts: the canonical SavedModel of a Keras form (converters/common/keras_forms),
    or the fp32 ONNX export (which is itself made from the ONNX route's form)."""

    start: str = SAVED_MODEL  # one of converters.backend.INTERMEDIATES
    form: str = "native"

    def __post_init__(self):
        if self.start not in INTERMEDIATES:
            raise ValueError(f"a route starts from one of {INTERMEDIATES}. Got: start={self.start!r}")


@dataclass(frozen=True)
class Recipe:
    name: str
    description: str
    routes: tuple[tuple[str, Route], ...]  # format name -> Route
    options: tuple[object, ...] = ()  # typed backend options (at most one per backend); others get defaults
    calibration_samples: int = 200
    # int8 mixed precision by measurement (zoo models, which have a validation split): Keras layer classes
    # that may stay float, and the allowed drop of the task metric on validation: in points of a proportion,
    # else relative to fp32 (0.05 = 5 %).
    float_fallback_types: tuple[str, ...] = ()
    float_fallback_tolerance: float = 0.005
    # Pruning: layer-name patterns never pruned (on top of the first layer and the output heads), and why
    # structured (channel) pruning does not fit the architecture, when it does not.
    prune_exclude: tuple[str, ...] = ()
    structured_pruning_unsupported: str | None = None
    # How close to fp32 every artifact must stay on held-out data before it counts as degraded (the run then
    # exits nonzero unless --allow-degraded); the defaults were measured on the zoo and the BYO corpus.
    fidelity: Fidelity = Fidelity()

    def __post_init__(self):
        unknown = [f for f, _ in self.routes if f not in FORMATS]
        kinds = [type(o) for o in self.options]
        if unknown or len(set(kinds)) != len(kinds):
            raise ValueError(f"recipe {self.name!r}: routes name known formats, options one per backend. "
                             f"Got: unknown formats {unknown}, options {[k.__name__ for k in kinds]}")

    def route(self, fmt: str) -> Route:
        routes = dict(self.routes)
        if fmt not in routes:
            raise UsageError(f"Recipe '{self.name}' has no route to the format '{fmt}'.", got=f"routes to {list(routes)}",
                             tip="Pick a target of another format, or add a route for it in converters/recipes.")
        return routes[fmt]

    def options_for(self, options_type: type):
        """The recipe's options of a backend's type, or that backend's defaults."""
        return next((o for o in self.options if isinstance(o, options_type)), options_type())


_TF = (("tflite", Route()), ("onnx", Route()), ("openvino-ir", Route()))
# Measured on lstm-forecast: ONNX and OpenVINO quantize the native LSTM op far better than an unrolled graph,
# which is the only form LiteRT converts. OpenVINO starts from the ONNX export to get that op.
_RECURRENT = (("tflite", Route(form="unrolled")), ("onnx", Route(form="onnx-lstm")),
              ("openvino-ir", Route(start=ONNX)))

RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (
        # Measured on face-id (held-out images, OpenVINO CPU): NNCF's fast bias correction lowered the int8
        # embedding SNR from 22.8 to 13.9 dB and logits from 15.8 to 11.8 dB, so it is off for this family.
        Recipe("cnn-resnet", "Convolutional network with residual blocks: every layer quantizes to int8.", _TF,
               options=(OpenVINOOptions(fast_bias_correction=False),)),
        Recipe("cnn", "Plain convolutional network: every layer quantizes to int8.", _TF),
        # Measured on gnn-grid: all-int8 voltage-magnitude RMSE is 2.2-4.8x fp32, and floating every dense layer
        # still left 1.6-2.7x (the int8 adjacency products and residual adds remain): no float fallback here.
        # int16: 16-bit activations alone left RMSE +21.8 % (LiteRT) / +31.9 % (ONNX Runtime) over fp32; with 16-bit
        # weights too, ONNX Runtime's is +0.0 % (LiteRT's 16x8 kernels take int8 weights only).
        # LiteRT: full-integer int8 ran 10x slower than fp32 (BATCH_MATMUL and MEAN without fast int8 kernels) and
        # missed the RMSE bar; dynamic-range int8 (int8 weights, activations quantized per inference) is faster
        # than fp32 and within it: every int8 build slower than fp32 tries it (converters/common/speed_guard).
        Recipe("gnn", "Graph convolution on a dense normalised adjacency: two inputs fed by name; every layer int8.",
               _TF, options=(OnnxOptions(int16_weight_bits=16),)),
        Recipe("generator", "Image generator (dense + transposed convolutions): every layer int8, judged by "
               "fidelity to fp32 (PSNR) and a classifier's view of its samples.", _TF),
        Recipe("diffusion-unet", "Noise-predicting U-Net of a diffusion model (image and timestep embedding fed by "
               "name; the sampler runs outside in numpy): every layer int8, calibrated on the sampler's own "
               "inputs, judged by the images it samples.", _TF),
        Recipe("mlp", "Fully connected network: every layer quantizes to int8.", _TF),
        # Measured on dqn-cartpole: Q-value margins between actions (median 0.03) sit below the int8 resolution
        # of the hidden features, so all-int8 policies act at random; dense layers may stay float, chosen by
        # closed-loop return on validation episodes.
        # Judged by the closed-loop return alone: measured, OpenVINO int8 returned 500/500 with the advantage
        # output at SNR 2.0 dB and 0.80 action agreement with fp32 (near-tie states flip without consequence).
        Recipe("policy-mlp", "Q-network controller: int8 where the closed-loop return holds, float dense layers "
               "where it does not.", _TF, float_fallback_types=("Dense",), float_fallback_tolerance=0.05,
               # int16 with int8 weights returned 15 on both runtimes (held-out advantages of the wrong sign: fp32
               # -0.089, int16 +0.222); with 16-bit weights (ONNX Runtime) 500 in all 100 held-out episodes.
               options=(OnnxOptions(int16_weight_bits=16),),
               fidelity=Fidelity(min_snr_db=None, min_cosine=None, min_top1_agreement=None, max_drop_percent=5.0)),
        Recipe("recurrent", "LSTM sequence model: unrolled for LiteRT, the native LSTM op for ONNX and OpenVINO.",
               _RECURRENT, options=(OpenVINOOptions(minmax_ranges=True),),
               structured_pruning_unsupported="removing LSTM units (four coupled gates each, recurrent weights) "
               "is not implemented; unstructured pruning works on the dense layers."),
        Recipe("transformer", "Transformer encoder: int8 where it holds; attention, LayerNorm or dense layers that "
               "break the metric on validation stay float, per backend.", _TF,
               float_fallback_types=("MultiHeadAttention", "LayerNormalization", "Dense"),
               # LiteRT full-integer int8 ran 5.6x slower than fp32 (int8 LayerNorm / attention on reference
               # kernels, float NEG ops between QUANTIZE/DEQUANTIZE pairs); dynamic-range 1.3x: the speed guard
               # (converters/common/speed_guard) tries it
               structured_pruning_unsupported="the residual stream's width is shared by every block through "
               "LayerNorm, and removing attention heads is not implemented; unstructured pruning works on the "
               "dense layers."),
        Recipe("generic", "A user's model: default export per format, every layer int8 (NNCF's transformer scheme "
               "where the graph has attention), verified by measurement.", _TF,
               options=(OpenVINOOptions(model_type="auto"),)),
    )
}


def get_recipe(name: str) -> Recipe:
    if name not in RECIPES:
        raise UsageError(f"Unknown recipe '{name}'.{did_you_mean(name, RECIPES)}", got=name,
                         tip=f"Known recipes: {', '.join(RECIPES)}.")
    return RECIPES[name]
