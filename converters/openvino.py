"""OpenVINO backend: SavedModel or ONNX -> IR at a static batch of 1 (the NPU compiles static shapes only);
fp32, fp16 weights, or int8 by NNCF post-training quantization."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgekit._heartbeat import Counted
from edgekit._lazy import require
from edgekit.converters.backend import ONNX, SAVED_MODEL, Backend, ExportSpec, Start
from edgekit.errors import ConversionError, UsageError, summarize
from edgekit.profiling.op_profile import openvino_ops


@dataclass(frozen=True)
class OpenVINOOptions:
    """NNCF post-training quantization settings a recipe may change (the defaults are NNCF's)."""

    fast_bias_correction: bool = True
    # global min/max activation ranges instead of NNCF's mean of per-sample min/max
    minmax_ranges: bool = False
    # NNCF model type: "default", "transformer" (its attention-aware scheme) or "auto": transformer when the graph
    # has attention (a Softmax and a MatMul of two activations). Measured on all-MiniLM-L6-v2 (PyTorch -> ONNX ->
    # IR, 24 held-out sentences): default crashes in NNCF 3.4 (KeyError at the embedding Gathers), default with the
    # Gathers ignored gives cosine 0.10 vs fp32, transformer 0.996 (min 0.991). On the zoo's tiny-transformer the
    # transformer scheme's SmoothQuant hurt accuracy, so zoo recipes keep "default".
    model_type: str = "default"


class OpenVINOBackend(Backend):
    format = "openvino-ir"
    starts = (SAVED_MODEL, ONNX)  # ov.convert_model reads both
    options_type = OpenVINOOptions

    def export(self, start: Start, dst: Path, spec: ExportSpec) -> None:
        if spec.weights_only:  # nncf.compress_weights exists, but ran slower than fp32 on every zoo model tried
            raise ValueError("OpenVINO int8 here is NNCF's static quantization; weights_only is not offered.")
        to_openvino_ir(start.path, dst, spec, self.options)

    def speed_variants(self, start_kind: str, spec: ExportSpec, profile) -> tuple[tuple[str, ExportSpec], ...]:
        """The ops the CPU plugin ran in float inside the int8 IR kept float: NNCF then puts no FakeQuantize
        around them (measured: gnn-grid's graph convolutions, int8 weights decompressed per inference between
        float Concat/Tile ops, 1.30x fp32 as NNCF quantizes them, 0.88x with those ops kept float)."""
        names = tuple(dict.fromkeys(o.name for o in profile.float_ops if o.name not in spec.float_layers))
        if spec.precision != "int8" or not names:
            return ()
        return ((f"{len(names)} float op(s) kept float", dataclasses.replace(
            spec, float_layers=spec.float_layers + names)),)

    def tensors(self, artifact: Path, feeds: list[dict[str, np.ndarray]]) -> tuple[dict[str, list], list[str]]:
        return openvino_tensors(artifact, feeds)

    def ops(self, artifact: Path, feed: dict[str, np.ndarray], threads: int):
        return openvino_ops(artifact, feed, threads)


_NOT_LAYERS = ("Parameter", "Constant", "Result", "FakeQuantize", "Convert")  # plumbing, not a layer's result


def layer_ops(model) -> tuple[list, list[str]]:
    """The real-valued single-output ops of an OpenVINO model that are a layer's result, in graph order, and the
    name each goes by here (in per-layer reports and as a float-layer key): its friendly name, or "<type> #<k>"
    when most names are generated (an IR converted from a SavedModel: Transpose_1571 differs between the fp32 and
    the int8 conversion, while type and position match); IRs from ONNX keep node names."""
    ops = [op for op in model.get_ordered_ops() if op.get_type_name() not in _NOT_LAYERS
           and op.get_output_size() == 1 and op.get_output_element_type(0).is_real()
           and "/fq_" not in op.get_friendly_name()]  # NNCF's weight-scale multiplies: not in the fp32 IR
    generated = sum(op.get_friendly_name().split("_")[0] == op.get_type_name() or
                    op.get_friendly_name().startswith("Transpose_") for op in ops) > len(ops) / 2
    seen: dict[str, int] = {}
    names = []
    for op in ops:
        kind = op.get_type_name()
        seen[kind] = seen.get(kind, 0) + 1
        names.append(f"{kind} #{seen[kind]}" if generated else op.get_friendly_name())
    return ops, names


def openvino_tensors(path: Path, feeds: list[dict[str, np.ndarray]]) -> tuple[dict[str, list], list[str]]:
    """Every layer op of an IR (``layer_ops``) made a model output, run by OpenVINO's CPU plugin in f32
    (FakeQuantize ops then round as the quantized model does)."""
    ov = require("openvino", purpose="Running OpenVINO models", extra="convert")
    core = ov.Core()
    model = core.read_model(str(path))
    ops, names = layer_ops(model)
    first = len(model.outputs)
    model.add_outputs([op.output(0) for op in ops])
    compiled = core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    ports = compiled.outputs[first:]
    runs = [compiled(feed) for feed in feeds]
    return {n: [r[p] for r in runs] for n, p in zip(names, ports)}, names


def to_openvino_ir(src: Path, dst_xml: Path, spec: ExportSpec, options: OpenVINOOptions = OpenVINOOptions()) -> Path:
    """``src`` (a SavedModel directory or an .onnx file) as an IR of ``spec.precision`` at ``spec.input_shapes``."""
    ov = require("openvino", purpose="Converting to OpenVINO IR", extra="convert")
    try:
        model = ov.convert_model(str(src))
        model.reshape({name: list(shape) for name, shape in spec.input_shapes.items()})
        # ovc records the path it read, here a random temp directory: identical inputs must give identical IRs
        # (and the workstation's TMPDIR has no business in a bundle)
        if model.has_rt_info(["conversion_parameters", "input_model"]):
            model.set_rt_info(Path(src).name, ["conversion_parameters", "input_model"])
        kept = _source_names(src)
        _stable_names(model, kept)
    except Exception as exc:
        raise ConversionError(f"OpenVINO conversion failed: {summarize(exc)}", got=str(src),
                              tip="Run with --debug for the full log.") from exc
    if spec.precision == "int8":
        model = _nncf_int8(model, spec, options)
    elif spec.precision not in ("fp32", "fp16"):  # targets are checked against FORMATS; this guards the API
        raise UsageError("OpenVINO IR is written at fp32, fp16 or int8 (NNCF quantizes activations to 8 bits).",
                         got=f"precision {spec.precision}", tip="Pick int8 or fp16 for OpenVINO targets.")
    _stable_names(model, kept)  # NNCF's new nodes are named from the same counter
    # save_model compresses weights to fp16 unless told otherwise: only the fp16 artifact should be.
    ov.save_model(model, str(dst_xml), compress_to_fp16=(spec.precision == "fp16"))
    return dst_xml


_AUTO_NAME = re.compile(r"([A-Z][A-Za-z0-9]*)_(\d+)(?=$|/)")


def _stable_names(model, kept: frozenset[str] = frozenset()) -> None:
    """OpenVINO names a node it creates <Type>_<N> from a process-wide counter (Constant_31 in one conversion,
    Constant_65980 in the next of the same process), and nodes derived from it carry that name (Transpose_391 on
    the Add it was fused into, Convolution_35/fq_weights_1): each such leading <Type>_<N> becomes <Type>_<k>, k
    counted in graph order, so the same model always gives the same IR. Names in ``kept`` (an ONNX source's own
    node names) and inputs/outputs are left as they are."""
    renamed: dict[str, str] = {}
    taken = set(kept)
    for op in model.get_ordered_ops():
        name = op.get_friendly_name()
        match = _AUTO_NAME.match(name)
        if op.get_type_name() in ("Parameter", "Result") or not match or match.group(0) in kept or name in kept:
            continue
        token = match.group(0)
        if token not in renamed:
            k = len(renamed)
            while f"{match.group(1)}_{k}" in taken:
                k += 1
            renamed[token] = f"{match.group(1)}_{k}"
            taken.add(renamed[token])
        op.set_friendly_name(renamed[token] + name[len(token):])


def _source_names(src: Path) -> frozenset[str]:
    """An ONNX source's node names (a user's graph may name nodes Relu_1 itself)."""
    if Path(src).suffix != ".onnx":
        return frozenset()
    import onnx

    return frozenset(n.name for n in onnx.load(str(src), load_external_data=False).graph.node)


def _nncf_int8(model, spec: ExportSpec, options: OpenVINOOptions):
    if options.model_type not in ("default", "transformer", "auto"):
        raise ValueError(f"OpenVINOOptions.model_type is default, transformer or auto. Got: {options.model_type!r}")
    items = spec.calibration_samples()
    nncf = require("nncf", purpose="int8 OpenVINO quantization")
    advanced = None
    if options.minmax_ranges:
        # NNCF's default activation range is the mean of per-sample min/max: on lstm-forecast it clipped the
        # input window to +-1.59 of its +-2.7 range and raised int8 MAE by 37%; global min/max: +0.2%.
        from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters
        from nncf.quantization.range_estimator import RangeEstimatorParametersSet

        advanced = AdvancedQuantizationParameters(activations_range_estimator_params=RangeEstimatorParametersSet.MINMAX)
    ignored = _ignored_scope(nncf, model, spec.float_layers) if spec.float_layers else None
    transformer = options.model_type == "transformer" or (options.model_type == "auto" and has_attention(model))
    return nncf.quantize(model, nncf.Dataset(Counted(items)), subset_size=len(items), ignored_scope=ignored,
                         fast_bias_correction=options.fast_bias_correction, advanced_parameters=advanced,
                         model_type=nncf.ModelType.TRANSFORMER if transformer else None)


def _ignored_scope(nncf, model, float_layers: tuple[str, ...]):
    """NNCF's ignored scope for float-layer keys: Keras layer names inside op names (an IR from ONNX or a
    SavedModel whose ops kept their TensorFlow names), or ops as ``layer_ops`` names them (per-layer reports)."""
    from edgekit.converters.common.float_fallback import matching_nodes

    ops, keys = layer_ops(model)
    exact = [op.get_friendly_name() for op, key in zip(ops, keys) if key in float_layers]
    by_pattern = matching_nodes([op.get_friendly_name() for op in model.get_ordered_ops()], float_layers)
    if not exact and not by_pattern:
        raise ConversionError("None of the layers to keep in float were found in the OpenVINO model.",
                              got=f"layers {list(float_layers)}", tip="Run with --debug and report it.")
    return nncf.IgnoredScope(names=sorted(set(exact + by_pattern)), validate=False)


def has_attention(model) -> bool:
    """Whether an OpenVINO model has attention: a Softmax, and a MatMul whose two inputs are both computed."""
    ops = model.get_ordered_ops()
    if not any(op.get_type_name() == "Softmax" for op in ops):
        return False
    return any(op.get_type_name() == "MatMul" and all(
        v.get_node().get_type_name() not in ("Constant", "Convert") for v in op.input_values()) for op in ops)
