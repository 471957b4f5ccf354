"""LiteRT backend: .tflite (fp32, fp16 weights, int16 activations with int8 weights, int8) from the canonical
SavedModel (TensorFlow's converter) or from the canonical PyTorch program (litert-torch, then AI Edge Quantizer for
fp16 / int16 / int8)."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgekit._fs import atomic_write_bytes, scratch_directory
from edgekit._heartbeat import fed
from edgekit._lazy import quiet_tensorflow, require
from edgekit.converters.backend import SAVED_MODEL, TORCH_PROGRAM, Backend, ExportSpec, Start, as_model_input
from edgekit.errors import ConversionError, UsageError, summarize
from edgekit.formats import CALIBRATED
from edgekit.profiling.op_profile import _constant_tensors, tflite_ops

INT8_SCHEMES = ("full-integer", "dynamic-range")


@dataclass(frozen=True)
class TFLiteOptions:
    """How an int8 .tflite is made. full-integer: int8 activations calibrated on real data, int8 I/O. dynamic-range:
    int8 weights, activations quantized per inference from their actual range (XNNPACK runs fully connected and
    convolution layers in int8 that way), float I/O, no calibration. Whichever a recipe names, an int8 build slower
    than fp32 on this host is also tried as dynamic-range (``speed_variants``, timed by converters/common/
    speed_guard): measured (host p50, zoo held-out), gnn-grid full-integer 4.23 ms vs dynamic-range 0.34 ms (fp32
    0.41), voltage RMSE +156 % vs +0 % of fp32; tiny-transformer 1.50 vs 0.36 ms (fp32 0.27)."""

    int8_scheme: str = "full-integer"

    def __post_init__(self):
        if self.int8_scheme not in INT8_SCHEMES:
            raise ValueError(f"TFLiteOptions.int8_scheme is one of {INT8_SCHEMES}. Got: {self.int8_scheme!r}")


class TFLiteBackend(Backend):
    format = "tflite"
    starts = (SAVED_MODEL, TORCH_PROGRAM)
    options_type = TFLiteOptions

    def describe(self, artifact: Path) -> dict:
        """An int8 file's scheme: full-integer (int8 input) or dynamic-range (float input, int8 weights)."""
        interpreter = require("ai_edge_litert.interpreter", purpose="Reading TFLite graphs").Interpreter(
            model_path=str(artifact))
        dtypes = {np.dtype(t["dtype"]).name for t in interpreter.get_tensor_details()}
        if "int8" not in dtypes or "int16" in dtypes:
            return {}
        inputs = {np.dtype(d["dtype"]).name for d in interpreter.get_input_details()}
        return {"int8_scheme": "dynamic-range" if "float32" in inputs else "full-integer"}

    def export(self, start: Start, dst: Path, spec: ExportSpec) -> None:
        dynamic = spec.precision == "int8" and (spec.weights_only or (
            self.options.int8_scheme == "dynamic-range" and not spec.float_layers))
        precision = "int8-dynamic-range" if dynamic else spec.precision
        if start.kind == TORCH_PROGRAM:
            samples = spec.calibration_samples() if precision in CALIBRATED else None
            atomic_write_bytes(dst, torch_program_to_tflite(start.path, precision, samples, spec.float_layers))
        elif dynamic and spec.float_layers:  # TensorFlow's dynamic-range converter keeps no layer float
            fp32 = saved_model_to_tflite(start.path, "fp32", None)
            atomic_write_bytes(dst, quantize_tflite(fp32, precision, None, spec.float_layers))
        else:
            atomic_write_bytes(dst, saved_model_to_tflite(start.path, precision, spec.calibration, spec.float_layers))

    def speed_variants(self, start_kind: str, spec: ExportSpec, profile) -> tuple[tuple[str, ExportSpec], ...]:
        """Dynamic-range int8: where XNNPACK lacks a full-integer kernel (an LSTM unrolled into hundreds of int8
        ops, attention's float ops between quantize/dequantize pairs) its float kernels with int8 weights run;
        with the layers a mixed-precision search kept float still float too (dqn-cartpole: all-dynamic returned
        98 of 500, with its hidden2 layer float 500, at fp32's speed where full-integer ran 1.9x slower)."""
        if spec.precision != "int8" or spec.weights_only:
            return ()
        variants = [("dynamic-range", dataclasses.replace(spec, weights_only=True, float_layers=()))]
        if spec.float_layers:
            variants.append(("dynamic-range with the float layers kept",
                             dataclasses.replace(spec, weights_only=True)))
        return tuple(variants)

    def tensors(self, artifact: Path, feeds: list[dict[str, np.ndarray]]) -> tuple[dict[str, list], list[str]]:
        return tflite_tensors(artifact, feeds)

    def ops(self, artifact: Path, feed: dict[str, np.ndarray], threads: int):
        return tflite_ops(artifact)


def tflite_tensors(path: Path, feeds: list[dict[str, np.ndarray]]) -> tuple[dict[str, list], list[str]]:
    """Every op output of a .tflite (QUANTIZE / DEQUANTIZE plumbing aside), read with LiteRT after each run with
    all tensors preserved, dequantized with each tensor's own scale. Fused ops are named after all the ops they
    fused (';'-joined): matched across files by the op's own, first, name."""
    from edgekit.runtime._litert import LiteRTSession

    session = LiteRTSession(path, threads=1, preserve_all_tensors=True)
    interp = session._interp
    details = interp.get_tensor_details()
    index: dict[str, int] = {}  # the first op writing each name (the ops list repeats the signature's subgraph)
    for op in interp._get_ops_details():
        if op["op_name"] in ("QUANTIZE", "DEQUANTIZE"):
            continue
        for o in op["outputs"]:
            if o >= 0 and np.issubdtype(details[o]["dtype"], np.number):
                index.setdefault(details[o]["name"].split(";")[0], o)
    values: dict[str, list] = {name: [] for name in index}
    for k, feed in enumerate(feeds):
        session.run(feed)
        if k == 0:  # an op output no later op reads may hold no data (measured: one of a SPLIT's in an LSTM cell)
            index = {name: i for name, i in index.items() if _readable(interp, i)}
            values = {name: [] for name in index}
        for name, i in index.items():
            x = interp.get_tensor(i)
            scale, zero_point = details[i]["quantization"]
            quantized = scale and np.issubdtype(x.dtype, np.integer)
            values[name].append((x.astype(np.float32) - zero_point) * scale if quantized else x.astype(np.float32))
    return values, list(index)


def _readable(interpreter, index: int) -> bool:
    try:
        interpreter.get_tensor(index)
    except ValueError:  # "Tensor data is null"
        return False
    return True


def torch_program_to_tflite(program: Path, precision: str, calibration: list[dict[str, np.ndarray]] | None = None,
                            float_layers: tuple[str, ...] = ()) -> bytes:
    """litert-torch (Google's PyTorch -> LiteRT converter) writes fp32; AI Edge Quantizer (the LiteRT quantizer
    litert-torch itself uses) makes fp16 weights or static int8 of it (int8 input and output, as the TensorFlow route
    writes; the runtime layer (de)quantizes them from the scales in the file)."""

    torch = require("torch", purpose="Converting PyTorch models")
    litert_torch = require("litert_torch", purpose="Converting PyTorch models to LiteRT")
    from edgekit.converters.common.torch_source import program_inputs, zero_inputs

    loaded = torch.export.load(str(program))
    try:
        edge_model = litert_torch.convert(loaded.module(), sample_kwargs=zero_inputs(program_inputs(loaded)))
        with scratch_directory("edgekit-litert-") as tmp:
            edge_model.export(f"{tmp}/model.tflite")
            fp32 = Path(f"{tmp}/model.tflite").read_bytes()
    except Exception as exc:
        raise ConversionError(f"litert-torch could not convert the PyTorch program ({type(exc).__name__}: "
                              f"{summarize(exc)}).", got=str(program),
                              tip="Run with --debug for the converter log; an op LiteRT lacks is named there. "
                              "ONNX and OpenVINO targets take this model through ONNX.") from exc
    return fp32 if precision == "fp32" else quantize_tflite(fp32, precision, calibration, float_layers)


# Ops AI Edge Quantizer can store as fp16 weights (its FLOAT_CASTING algorithm): the ones that carry weights.
_FP16_OPS = ("FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D", "CONV_2D_TRANSPOSE", "EMBEDDING_LOOKUP")


def _as_signature_dtypes(model: bytes, samples: list[dict[str, np.ndarray]]) -> list[dict[str, np.ndarray]]:
    """The samples in the dtypes the .tflite takes: litert-torch turns int64 inputs (token ids) into int32."""
    interpreter = require("ai_edge_litert.interpreter", purpose="Reading TFLite graphs").Interpreter(
        model_content=model)
    details = interpreter.get_signature_runner("serving_default").get_input_details()
    return [{k: v.astype(details[k]["dtype"], copy=False) for k, v in s.items()} for s in samples]


def quantize_tflite(model: bytes, precision: str, calibration: list[dict[str, np.ndarray]] | None,
                    float_layers: tuple[str, ...] = ()) -> bytes:
    """fp16 weights (float compute) or static int8 / int16 (int8 weights per channel, int8 or int16 activations
    calibrated on ``calibration``) of an fp32 .tflite, with AI Edge Quantizer. ``float_layers``: ops (by their
    first output's name, as per-layer reports name them) left unquantized."""
    aeq = require("ai_edge_quantizer", purpose="Quantizing LiteRT models")
    from ai_edge_quantizer import qtyping, quantizer, recipe

    qt = quantizer.Quantizer(model)
    try:
        if precision == "fp16":
            for op in _FP16_OPS:
                qt.update_quantization_recipe(
                    regex=".*", operation_name=getattr(qtyping.TFLOperationName, op),
                    algorithm_key=quantizer.AlgorithmName.FLOAT_CASTING,
                    op_config=qtyping.OpQuantizationConfig(
                        weight_tensor_config=qtyping.TensorQuantizationConfig(
                            num_bits=16, dtype=qtyping.TensorDataType.FLOAT),
                        compute_precision=qtyping.ComputePrecision.FLOAT, explicit_dequantize=True))
            return bytes(qt.quantize(enable_progress_bar=False, enable_progress_report=False).quantized_model)
        if precision == "int8-dynamic-range":  # int8 weights, activations quantized per inference
            from edgekit.converters.common.float_fallback import layer_pattern

            qt.load_quantization_recipe(recipe.dynamic_wi8_afp32())
            for name in float_layers:  # an op by its output name (per-layer reports) or a Keras layer in its path
                qt.update_quantization_recipe(regex=f"(^|;){re.escape(name)};|{layer_pattern([name])}",
                                              operation_name=qtyping.TFLOperationName.ALL_SUPPORTED,
                                              algorithm_key=quantizer.AlgorithmName.NO_QUANTIZE)
            return bytes(qt.quantize(enable_progress_bar=False, enable_progress_report=False).quantized_model)
        if not calibration:
            raise UsageError(f"{precision} conversion needs calibration data.", tip="Pass --calib data.npz.")
        qt.load_quantization_recipe(recipe.static_wi8_ai16() if precision == "int16" else recipe.static_wi8_ai8())
        for name in float_layers:  # an op's scope is its output names, each followed by ';'
            qt.update_quantization_recipe(regex=f"(^|;){re.escape(name)};", operation_name=qtyping.TFLOperationName.ALL_SUPPORTED,
                                          algorithm_key=quantizer.AlgorithmName.NO_QUANTIZE)
        result = qt.calibrate({"serving_default": _as_signature_dtypes(model, calibration)}, num_threads=1)
        return bytes(qt.quantize(result, enable_progress_bar=False, enable_progress_report=False).quantized_model)
    except UsageError:
        raise
    except Exception as exc:
        raise ConversionError(f"AI Edge Quantizer ({aeq.__name__}) could not make {precision} "
                              f"({type(exc).__name__}: {summarize(exc)}).", got=f"precision {precision}",
                              tip="Run with --debug for the quantizer log; fp32 of this model may still work.") from exc


def saved_model_to_tflite(saved_model: Path, precision: str, calibration: dict[str, np.ndarray] | None,
                          float_layers: tuple[str, ...] = ()) -> bytes:
    """Convert with builtin ops only: LiteRT has no Flex delegate, so SELECT_TF_OPS files would not run.

    int8 is full-integer, per-channel weights, with int8 input and output (the runtime layer
    (de)quantizes them from the scales stored in the file). int16 is TensorFlow's 16x8 mode: int8 weights, int16
    activations, float input and output. ``float_layers`` (Keras layer names) stay float in int8:
    TFLite's quantization debugger denylists their ops and inserts (de)quantize around them.
    """
    tf = quiet_tensorflow()
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if precision == "fp16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif precision == "int8-dynamic-range":  # int8 weights; activations quantized at run time, no calibration
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        return _convert(converter, "int8")
    elif precision in CALIBRATED:
        if not calibration:
            raise UsageError(f"{precision} conversion needs calibration data.", tip="Pass --calib data.npz.")
        names = sorted(calibration)
        n = len(calibration[names[0]])

        def representative():
            for i in range(n):
                fed()
                yield {k: as_model_input(calibration[k][i : i + 1]) for k in names}

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        if precision == "int16":
            # ops without a 16x8 kernel (e.g. NEG in tiny-transformer's attention) stay float rather than failing
            converter.target_spec.supported_ops = [
                tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8,
                tf.lite.OpsSet.TFLITE_BUILTINS]
            return _convert(converter, precision)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
        if float_layers:
            return _selective_int8(tf, converter, representative, float_layers, saved_model)
    return _convert(converter, precision)


def _convert(converter, precision: str) -> bytes:
    try:
        return converter.convert()
    except Exception as exc:  # ConverterError and friends
        raise _conversion_error(exc, precision) from exc


_MISSING_OP = re.compile(r"'tf\.(\w+)' op is neither a custom op nor a flex op")
_OP_LOCATION = re.compile(r'fused\["(\w+):", "([^"]+)"')


def _conversion_error(exc: Exception, precision: str) -> ConversionError:
    """The converter's MLIR dump reduced to what the user can act on: which op has no builtin kernel, in which
    layer (MLIR names the op's location as <model>/<layer>/...)."""
    text = str(exc)
    missing = sorted(set(_MISSING_OP.findall(text)))
    if missing:
        layers = sorted({loc.split("/")[1] for op, loc in _OP_LOCATION.findall(text) if op in missing
                         and loc.count("/") >= 2})
        where = f" (layer {', '.join(repr(x) for x in layers)})" if layers else ""
        return ConversionError(
            f"TFLite conversion to {precision} failed: LiteRT has no builtin kernel for the TensorFlow op(s) "
            f"{', '.join(missing)}{where}, and no Flex delegate to run TensorFlow ops.",
            got=f"ops {missing}",
            tip="Replace that layer with one LiteRT supports (e.g. bilinear instead of bicubic resizing), or pick an "
            "ONNX / OpenVINO target for this model.")
    return ConversionError(f"TFLite conversion to {precision} failed: {summarize(exc)}", got=type(exc).__name__,
                           tip="Run with --debug for the converter log.")


def _selective_int8(tf, converter, representative, float_layers: tuple[str, ...], saved_model: Path) -> bytes:
    from edgekit.converters.common.float_fallback import matching_nodes

    # Float ops between int8 ones need the float builtin kernels too.
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.TFLITE_BUILTINS]
    try:
        full = converter.convert()
        ops = _op_tensor_names(full)
        # an op named exactly (a per-layer report's tensor) runs float with the ops feeding it: an int8 producer
        # would hand it an int8 tensor, the error the report blamed on it
        exact = {out for out, _, _ in ops if out.split(";")[0] in float_layers}
        deny = [out for out, tensors, _ in ops if matching_nodes(tensors, float_layers)]
        deny += [src for out, _, feeding in ops if out in exact for src in feeding]
        deny = list(dict.fromkeys(deny))
        if not deny:
            raise ConversionError("None of the layers to keep in float were found in the TFLite graph.",
                                  got=f"layers {list(float_layers)}", tip="Run with --debug and report it.")
        options = tf.lite.experimental.QuantizationDebugOptions(denylisted_nodes=deny, fully_quantize=True)
        debugger = tf.lite.experimental.QuantizationDebugger(
            converter=converter, debug_dataset=representative, debug_options=options)
        return debugger.get_nondebug_quantized_model()
    except ConversionError:
        raise
    except Exception as exc:
        raise ConversionError(f"TFLite mixed int8/float conversion failed: {summarize(exc)}", got=str(saved_model),
                              tip="Run with --debug for the converter log.") from exc


def _op_tensor_names(model: bytes) -> list[tuple[str, list[str], list[str]]]:
    """(output name, names of the op's outputs and constant inputs, output names of the ops feeding it) per op.
    The debugger denylists ops by output name, but a model's last op is named after the signature output, so
    layers are matched on their weights too (never on activations an op reads: those are named after the layer that
    produced them)."""
    from edgekit._lazy import require

    interpreter = require("ai_edge_litert.interpreter", purpose="Reading TFLite graphs").Interpreter(
        model_content=model)
    tensors = interpreter.get_tensor_details()
    details = interpreter._get_ops_details()
    constants = _constant_tensors(interpreter, details)
    first_output = {i: tensors[op["outputs"][0]]["name"] for op in details for i in op["outputs"]}
    ops = []
    for op in details:
        weights = [i for i in op["inputs"] if i in constants]
        feeding = [first_output[i] for i in op["inputs"] if i in first_output]
        ops.append((tensors[op["outputs"][0]]["name"], [tensors[i]["name"] for i in (*op["outputs"], *weights)],
                    feeding))
    return ops
