"""ONNX backend: the fp32 ONNX intermediate as is, fp16 with float I/O, int8 as QDQ (what TensorRT consumes).

The intermediate itself is made here too: SavedModel -> ONNX (tf2onnx), or a user's .onnx at batch 1.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgekit._fs import scratch_directory
from edgekit._heartbeat import fed
from edgekit._lazy import quiet_tensorflow, require
from edgekit.converters.backend import ONNX, Backend, ExportSpec, Start, as_model_input
from edgekit.errors import ConversionError, summarize
from edgekit.profiling.op_profile import onnx_ops

log = logging.getLogger(__name__)
OPSET = 17  # what edgekit exports TensorFlow models at
QDQ_OPSET = 13  # per-channel QuantizeLinear / DequantizeLinear (axis) needs at least this


@dataclass(frozen=True)
class OnnxOptions:
    """int8 QDQ as TensorRT consumes it: symmetric int8 activations and per-channel symmetric int8 weights,
    activation ranges from calibration min/max."""

    per_channel: bool = True
    activation_symmetric: bool = True
    calibrate_method: str = "MinMax"  # onnxruntime.quantization.CalibrationMethod member name
    # int16 artifacts: int8 weights by default (as LiteRT's 16x8); 16 where int8 weights alone break the model
    int16_weight_bits: int = 8

    def __post_init__(self):
        if self.int16_weight_bits not in (8, 16):
            raise ValueError(f"OnnxOptions.int16_weight_bits is 8 or 16. Got: {self.int16_weight_bits!r}")


class OnnxBackend(Backend):
    format = "onnx"
    starts = (ONNX,)
    options_type = OnnxOptions

    def describe(self, artifact: Path) -> dict:
        return {"onnx_opset": opset_of(artifact)}

    def export(self, start: Start, dst: Path, spec: ExportSpec) -> None:
        if spec.weights_only:  # the Jetson runs ONNX with TensorRT, not tuned on this host's CPU (no speed_variants)
            raise ValueError("ONNX int8 here is static QDQ; weights_only is not offered.")
        if spec.precision == "fp32":
            shutil.copyfile(start.path, dst)
        elif spec.precision == "fp16":
            onnx_to_fp16(start.path, dst)
        else:
            spec.calibration_samples()  # a clear error before ORT's own when there is no data
            onnx_to_int8(start.path, dst, spec.calibration, spec.float_layers, self.options,
                         activations=spec.precision)

    def tensors(self, artifact: Path, feeds: list[dict[str, np.ndarray]]) -> tuple[dict[str, list], list[str]]:
        return onnx_tensors(artifact, feeds)

    def ops(self, artifact: Path, feed: dict[str, np.ndarray], threads: int):
        return onnx_ops(artifact, feed, threads)


_PLUMBING = ("QuantizeLinear", "DequantizeLinear", "Cast")  # Q/DQ pairs and casts carry no layer's own result


def onnx_tensors(path: Path, feeds: list[dict[str, np.ndarray]]) -> tuple[dict[str, list], list[str]]:
    """Every float node output of an ONNX model, made a graph output and read with ONNX Runtime (graph
    optimisation off, as ORT's own QDQ debugging helpers run it: a QDQ node computes in float between its
    DequantizeLinear inputs and its QuantizeLinear output, which is what the quantized model holds there)."""
    onnx = require("onnx", purpose="Reading ONNX models")
    ort = require("onnxruntime", purpose="Running ONNX models")
    model = onnx.load(str(path))
    inferred = onnx.shape_inference.infer_shapes(model)
    floats = (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16)
    typed = {v.name: v.type.tensor_type.elem_type for v in (*inferred.graph.value_info, *inferred.graph.output)}
    names = [o for n in model.graph.node if n.op_type not in _PLUMBING for o in n.output if typed.get(o) in floats]
    present = {o.name for o in model.graph.output}
    model.graph.output.extend(onnx.helper.make_tensor_value_info(n, typed[n], None) for n in names if n not in present)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    runs = [session.run(names, {k: as_model_input(v) for k, v in feed.items()}) for feed in feeds]
    return {n: [r[i] for r in runs] for i, n in enumerate(names)}, names


def saved_model_to_onnx(saved_model: Path, input_names: list[str], dst: Path) -> Path:
    """Export the canonical SavedModel's serving signature; inputs and outputs keep their names."""
    tf = quiet_tensorflow()
    tf2onnx = require("tf2onnx", purpose="Exporting to ONNX")
    root = tf.saved_model.load(str(saved_model))  # keep the root alive: the signature only borrows its variables
    signature = root.signatures["serving_default"]
    specs = signature.structured_input_signature[1]
    ordered = [tf.TensorSpec(specs[n].shape, specs[n].dtype, name=n) for n in input_names]

    @tf.function(input_signature=ordered)
    def serve(*args):
        return dict(signature(**dict(zip(input_names, args))))

    try:
        model, _ = tf2onnx.convert.from_function(serve, input_signature=ordered, opset=OPSET)
    except Exception as exc:
        raise ConversionError(f"ONNX export failed: {summarize(exc)}", got=str(saved_model),
                              tip="Run with --debug for the tf2onnx log.") from exc
    _drop_captured_inputs(model, input_names)
    _split_extra_conv_biases(model)
    # "converted from b'__inference_serve_8300'": TF's per-process function counter, different on every run
    model.graph.doc_string = ""
    _stable_names(model.graph)
    onnx = require("onnx", purpose="Writing ONNX models")
    onnx.save(model, str(dst))
    return dst


_TF2ONNX_SUFFIX = re.compile(r"__(\d+)(?=(:\d+)?$)")


def _stable_names(graph) -> None:
    """tf2onnx names what it inserts <name>__<N> from a process-wide counter (BiasAdd__7 in one conversion,
    BiasAdd__18 in the next of the same process, and one more on a process's first): each N becomes its order of
    first appearance, in every node, tensor and initializer name alike, so the same model always gives the same
    graph. The graph's inputs and outputs keep their names."""
    kept = {v.name for v in [*graph.input, *graph.output]}
    numbers: dict[str, str] = {}

    def stable(name: str) -> str:
        match = _TF2ONNX_SUFFIX.search(name)
        if not match or name in kept:
            return name
        new = numbers.setdefault(match.group(1), str(len(numbers) + 1))
        return name[:match.start(1)] + new + name[match.end(1):]

    for node in graph.node:
        node.input[:] = [stable(n) for n in node.input]
        node.output[:] = [stable(n) for n in node.output]
        node.name = stable(node.name)
    for tensor in [*graph.initializer, *graph.value_info]:
        tensor.name = stable(tensor.name)


def _drop_captured_inputs(model, input_names: list[str]) -> None:
    """tf2onnx turns constant tensors a signature captures (Keras 3 Normalization's mean and variance) into
    extra graph inputs, which it folds into constants but leaves declared: drop them when nothing reads them."""
    used = {name for node in model.graph.node for name in node.input}
    for inp in list(model.graph.input):
        if inp.name in input_names:
            continue
        if inp.name in used:
            raise ConversionError("The ONNX export has an input the model does not declare.",
                                  got=f"extra input {inp.name!r}; declared {input_names}",
                                  tip="Run with --debug and report it; the model captures a non-constant tensor.")
        model.graph.input.remove(inp)


def _split_extra_conv_biases(model) -> None:
    """tf2onnx folds an Add that follows a biased convolution into the Conv as a *fourth* input when the added
    tensor broadcasts per channel, even if it is computed (diffusion-digits adds its timestep embedding this
    way); ORT rejects such a Conv. Each extra input becomes an explicit per-channel Add after the Conv."""
    onnx = require("onnx", purpose="Editing ONNX models")
    nodes = list(model.graph.node)
    out = []
    for node in nodes:
        out.append(node)
        if node.op_type not in ("Conv", "ConvTranspose") or len(node.input) <= 3:
            continue
        extra = list(node.input[3:])
        del node.input[3:]
        result = node.output[0]
        node.output[0] = current = f"{result}__conv"
        shape = f"{node.name}__bias_shape"
        out.append(onnx.helper.make_node("Constant", [], [shape], name=shape,
                                         value=onnx.numpy_helper.from_array(np.array([1, -1, 1, 1], np.int64))))
        for i, bias in enumerate(extra):
            column = f"{node.name}__bias{i}"
            out.append(onnx.helper.make_node("Reshape", [bias, shape], [column], name=column))
            summed = result if i == len(extra) - 1 else f"{node.name}__sum{i}"
            out.append(onnx.helper.make_node("Add", [current, column], [summed], name=f"{node.name}__add{i}"))
            current = summed
    del model.graph.node[:]
    model.graph.node.extend(out)


def onnx_at_shapes(src: Path, dst: Path, shapes: dict[str, tuple[int, ...]]) -> Path:
    """Copy an ONNX model with its inputs fixed to ``shapes`` (batch 1 and any --input-shape fixes)."""
    onnx = require("onnx", purpose="Reading ONNX models")
    model = onnx.load(str(src))
    for inp in model.graph.input:
        if inp.name in shapes:
            for dim, size in zip(inp.type.tensor_type.shape.dim, shapes[inp.name]):
                dim.ClearField("dim_param")
                dim.dim_value = size
    onnx.save(model, str(dst))
    return dst


def _isolate_outputs(model) -> None:
    """Give every graph output its own Identity node.

    onnxconverter-common's keep_io_types casts a graph output in place; when the same tensor also feeds
    other nodes (face-id's embedding feeds the cosine head) they would receive float32 inside an fp16
    graph and ORT rejects the model. Consumers are rewired to the pre-Identity tensor.
    """
    onnx = require("onnx", purpose="Reading ONNX models")
    for out in model.graph.output:
        consumers = [n for n in model.graph.node if out.name in n.input]
        if not consumers:
            continue
        inner = f"{out.name}__inner"
        for node in model.graph.node:
            for i, name in enumerate(node.output):
                if name == out.name:
                    node.output[i] = inner
        for node in consumers:
            for i, name in enumerate(node.input):
                if name == out.name:
                    node.input[i] = inner
        model.graph.node.append(onnx.helper.make_node("Identity", [inner], [out.name], name=f"{out.name}__output"))


_TYPE_CLASH = re.compile(r"output arg \((.+?)\) of node \((.+?)\) does not match expected type")
FP16_ATTEMPTS = 16


def onnx_to_fp16(src: Path, dst: Path) -> Path:
    """fp16 weights and compute, float32 inputs and outputs (keep_io_types) so callers need not change.

    onnxconverter-common leaves some nodes' outputs typed inconsistently in real graphs (a Cast or comparison
    feeding an fp16 op, Pad values, embedding masks): ONNX Runtime then refuses the model. Each node it names is
    kept in float32 and the conversion repeated, until the model loads."""
    onnx = require("onnx", purpose="Reading ONNX models")
    float16 = require("onnxconverter_common", purpose="fp16 ONNX conversion").float16
    model = onnx.load(str(src))
    _isolate_outputs(model)
    kept: list[str] = []
    for _ in range(FP16_ATTEMPTS):
        candidate = float16.convert_float_to_float16(onnx.ModelProto.FromString(model.SerializeToString()),
                                                     keep_io_types=True, node_block_list=list(kept))
        problem = _ort_load_error(candidate)
        if problem is None:
            if kept:
                log.info("fp16 ONNX: kept %d node(s) in float32 for ONNX Runtime: %s", len(kept), kept)
            onnx.save(candidate, str(dst))
            return dst
        clash = _TYPE_CLASH.search(problem)
        if clash is None or clash.group(2) in kept:
            break
        kept.append(clash.group(2))
    raise ConversionError(f"fp16 ONNX conversion made a model ONNX Runtime rejects: {summarize(problem)}",
                          got=f"{len(kept)} node(s) kept in float32: {kept[:5]}",
                          tip="Use fp32 or int8 for this target; run with --debug and report the model.")


def _ort_load_error(model) -> str | None:
    """ONNX Runtime's complaint about ``model``, or None when it loads."""
    ort = require("onnxruntime", purpose="Checking ONNX models", extra="convert")
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    try:
        ort.InferenceSession(model.SerializeToString(), sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # ORT's Fail / InvalidGraph carry the node in the message
        return str(exc)
    return None


def _nodes_of(model_path: Path, layers: tuple[str, ...]) -> list[str]:
    """Node names of float-layer keys: Keras layers inside tf2onnx's node paths, node names, or a node's output
    name (what per-layer reports name a tensor by). For an output name, the nodes feeding that node stay float too:
    ONNX Runtime quantizes a tensor when its producer is quantized, so the error a report blames on a node's output
    (made by the Q/DQ on its inputs) only goes when they do."""
    from edgekit.converters.common.float_fallback import matching_nodes

    if not layers:
        return []
    onnx = require("onnx", purpose="Reading ONNX models")
    graph = onnx.load(str(model_path)).graph
    wanted = set(layers)
    producer = {o: n for n in graph.node for o in n.output}
    nodes: list[str] = []
    for n in graph.node:
        if not n.name:
            continue
        if wanted & set(n.output):
            nodes += [n.name, *(producer[i].name for i in n.input if i in producer and producer[i].name)]
        elif matching_nodes([n.name], layers):
            nodes.append(n.name)
    if not nodes:
        raise ConversionError("None of the layers to keep in float were found in the ONNX graph.",
                              got=f"layers {list(layers)}", tip="Run with --debug and report it.")
    return list(dict.fromkeys(nodes))


def opset_of(path: Path) -> int | None:
    """The default-domain opset a model file imports."""
    onnx = require("onnx", purpose="Reading ONNX models")
    return default_opset(onnx.load(str(path), load_external_data=False))


def default_opset(model) -> int | None:
    """The default-domain opset an onnx.ModelProto imports."""
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)


def _at_least_opset(src: Path, dst: Path, opset: int) -> Path:
    """``src`` upgraded to ``opset`` when it is older (ONNX's own version converter), else ``src`` itself."""
    version = opset_of(src)
    if version is None or version >= opset:
        return src
    onnx = require("onnx", purpose="Upgrading ONNX models")
    try:
        model = onnx.version_converter.convert_version(onnx.load(str(src)), opset)
        onnx.checker.check_model(model)
    except Exception as exc:
        raise ConversionError(f"int8 QDQ needs ONNX opset {opset}, and upgrading the model from opset {version} "
                              f"failed: {summarize(exc)}", got=f"opset {version}",
                              tip=f"Export the model again at opset {opset} or newer.") from exc
    onnx.save(model, str(dst))
    return dst


class _Reader:
    """ORT CalibrationDataReader over real samples, fed by input name."""

    def __init__(self, calibration: dict[str, np.ndarray]):
        n = len(next(iter(calibration.values())))
        # each input in the dtype calibration data has (the model's: token ids stay int64)
        self._items = iter([{k: as_model_input(v[i : i + 1]) for k, v in calibration.items()} for i in range(n)])

    def get_next(self):
        item = next(self._items, None)
        if item is not None:
            fed()
        return item


def onnx_to_int8(src: Path, dst: Path, calibration: dict[str, np.ndarray], float_layers: tuple[str, ...] = (),
                 options: OnnxOptions = OnnxOptions(), activations: str = "int8") -> Path:
    """Static int8 QDQ, by default per-channel symmetric weights and symmetric activations (TensorRT's int8 form).
    ``activations="int16"``: the same int8 weights with 16-bit activations (ORT makes that opset 21 QDQ, which ONNX
    Runtime runs; TensorRT has no int16).

    Nodes of ``float_layers`` (Keras layer names in tf2onnx's node names) get no Q/DQ and run in float."""
    quant = require("onnxruntime.quantization", purpose="int8 ONNX quantization")
    from onnxruntime.quantization.shape_inference import quant_pre_process

    src, dst = Path(src).resolve(), Path(dst).resolve()
    with scratch_directory("edgekit-ortq-") as tmp:
        src = _at_least_opset(src, Path(tmp) / "opset.onnx", QDQ_OPSET)
        pre = Path(tmp) / "pre.onnx"
        cwd = os.getcwd()
        os.chdir(tmp)  # quant_pre_process leaves temp files in the current directory
        try:
            try:
                quant_pre_process(str(src), str(pre))
            except Exception:
                # Symbolic shape inference fails on attention/GCN graphs; ONNX shape inference suffices.
                quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
            exclude = _nodes_of(pre, float_layers)
            quant.quantize_static(
                str(pre), str(dst), _Reader(calibration),
                quant_format=quant.QuantFormat.QDQ,
                per_channel=options.per_channel,
                activation_type=quant.QuantType.QInt16 if activations == "int16" else quant.QuantType.QInt8,
                weight_type=quant.QuantType.QInt16 if activations == "int16" and options.int16_weight_bits == 16
                else quant.QuantType.QInt8,
                calibrate_method=quant.CalibrationMethod[options.calibrate_method],
                nodes_to_exclude=exclude,
                extra_options={"ActivationSymmetric": options.activation_symmetric, "WeightSymmetric": True},
            )
        except Exception as exc:
            raise ConversionError(f"ONNX {activations} quantization failed: {summarize(exc)}",
                                  got=str(src), tip="Run with --debug for the full log.") from exc
        finally:
            os.chdir(cwd)
    return dst
