"""LiteRT backend: canonical SavedModel -> .tflite (fp32, fp16 weights, full-integer int8)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from edgekit._fs import atomic_write_bytes
from edgekit._lazy import quiet_tensorflow
from edgekit.converters.backend import SAVED_MODEL, Backend, ExportSpec, Start, as_model_input
from edgekit.errors import ConversionError, UsageError, summarize


class TFLiteBackend(Backend):
    format = "tflite"
    starts = (SAVED_MODEL,)

    def export(self, start: Start, dst: Path, spec: ExportSpec) -> None:
        atomic_write_bytes(dst, saved_model_to_tflite(start.path, spec.precision, spec.calibration, spec.float_layers))


def saved_model_to_tflite(saved_model: Path, precision: str, calibration: dict[str, np.ndarray] | None,
                          float_layers: tuple[str, ...] = ()) -> bytes:
    """Convert with builtin ops only: LiteRT has no Flex delegate, so SELECT_TF_OPS files would not run.

    int8 is full-integer, per-channel weights, with int8 input and output (the runtime layer
    (de)quantizes them from the scales stored in the file). ``float_layers`` (Keras layer names) stay float:
    TFLite's quantization debugger denylists their ops and inserts (de)quantize around them.
    """
    tf = quiet_tensorflow()
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if precision == "fp16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif precision == "int8":
        if not calibration:
            raise UsageError("int8 conversion needs calibration data.", tip="Pass --calib data.npz.")
        names = sorted(calibration)
        n = len(calibration[names[0]])

        def representative():
            for i in range(n):
                yield {k: as_model_input(calibration[k][i : i + 1]) for k in names}

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
        if float_layers:
            return _selective_int8(tf, converter, representative, float_layers, saved_model)
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
        deny = [out for out, tensors in _op_tensor_names(full) if matching_nodes(tensors, float_layers)]
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


def _op_tensor_names(model: bytes) -> list[tuple[str, list[str]]]:
    """(output name, names of the op's outputs and constant inputs) per op. The debugger denylists ops by output
    name, but a model's last op is named after the signature output, so layers are matched on their weights too
    (never on activations an op reads: those are named after the layer that produced them)."""
    from edgekit._lazy import require

    interpreter = require("ai_edge_litert.interpreter", purpose="Reading TFLite graphs").Interpreter(
        model_content=model)
    tensors = interpreter.get_tensor_details()
    details = interpreter._get_ops_details()
    produced = {i for op in details for i in op["outputs"]}
    graph_inputs = {d["index"] for d in interpreter.get_input_details()}
    ops = []
    for op in details:
        constants = [i for i in op["inputs"] if i >= 0 and i not in produced and i not in graph_inputs]
        ops.append((tensors[op["outputs"][0]]["name"], [tensors[i]["name"] for i in (*op["outputs"], *constants)]))
    return ops
