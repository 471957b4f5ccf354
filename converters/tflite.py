"""LiteRT backend: canonical SavedModel -> .tflite (fp32, fp16 weights, full-integer int8)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgekit._lazy import quiet_tensorflow
from edgekit.errors import ConversionError, UsageError, summarize


def saved_model_to_tflite(saved_model: Path, precision: str, calibration: dict[str, np.ndarray] | None) -> bytes:
    """Convert with builtin ops only: LiteRT has no Flex delegate, so SELECT_TF_OPS files would not run.

    int8 is full-integer, per-channel weights, with int8 input and output (the runtime layer
    (de)quantizes them from the scales stored in the file).
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
                yield {k: calibration[k][i : i + 1].astype(np.float32) for k in names}

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    try:
        return converter.convert()
    except Exception as exc:  # ConverterError and friends
        raise ConversionError(
            f"TFLite conversion to {precision} failed: {summarize(exc)}",
            got=str(saved_model),
            tip="The model may use ops LiteRT has no builtin kernel for; run with --debug for the converter log.",
        ) from exc
