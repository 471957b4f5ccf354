"""ONNX -> canonical SavedModel with onnx2tf (PINTO0309's converter, the route Ultralytics exports TFLite by), for
the one format that cannot start from ONNX: LiteRT. The TensorFlow converter then makes fp32 / fp16 / int8 from
it as for any SavedModel.

onnx2tf is installed without its dependencies (it pins TensorFlow 2.19, onnx 1.19, numpy 1.26: edgekit/_nodeps.py).
Two things it needs here, measured with TensorFlow 2.21: node names TensorFlow rejects as scope names (PaddleOCR's
``Softmax@0``) are renamed first, and 3-5-D inputs keep their NCHW layout (``keep_ncw_or_nchw_or_ncdhw_input_
names``) so the user's data and names still fit. onnx2tf names signature outputs ``output_<i>`` when an ONNX name
is not a valid TensorFlow name; the canonical SavedModel maps them back to the ONNX output names by position.
"""

from __future__ import annotations

import re
from pathlib import Path

from edgekit._fs import scratch_directory
from edgekit._lazy import quiet_tensorflow, require
from edgekit.errors import ConversionError, summarize

_SCOPE_NAME = re.compile(r"[A-Za-z0-9_.\\/>-]*")


def _tf_safe_names(src: Path, dst: Path) -> Path:
    onnx = require("onnx", purpose="Reading ONNX models")
    model = onnx.load(str(src))
    for node in model.graph.node:
        if not _SCOPE_NAME.fullmatch(node.name):
            node.name = re.sub(r"[^A-Za-z0-9_.\\/>-]", "_", node.name)
    onnx.save(model, str(dst))
    return dst


def onnx_to_saved_model(src: Path, directory: Path, inputs, outputs: list[str], origin: Path | None = None) -> Path:
    """The canonical SavedModel (``serving_default`` takes ``inputs`` by name at their static shapes and returns a
    dict by ONNX output name) of the static-shape ONNX model ``src`` (made from the user's ``origin``)."""
    onnx2tf = require("onnx2tf", purpose="Converting ONNX models to LiteRT")
    tf = quiet_tensorflow()
    with scratch_directory("edgekit-onnx2tf-") as tmp:
        safe = _tf_safe_names(src, Path(tmp) / "model.onnx")
        try:
            onnx2tf.convert(input_onnx_file_path=str(safe), output_folder_path=f"{tmp}/out", non_verbose=True,
                            keep_ncw_or_nchw_or_ncdhw_input_names=[t.name for t in inputs if 3 <= len(t.shape) <= 5],
                            output_signaturedefs=True)
            root = tf.saved_model.load(f"{tmp}/out")
        except (Exception, SystemExit) as exc:  # onnx2tf calls sys.exit on some failures
            raise ConversionError(
                f"onnx2tf could not translate the ONNX model to TensorFlow ({type(exc).__name__}: {_reason(exc)}).",
                got=str(origin or src), tip="LiteRT is reached from ONNX only through onnx2tf; convert from the original "
                "PyTorch / Keras model instead (edgekit converts .pt2 and .keras to LiteRT directly), or pick an ONNX "
                "or OpenVINO target. Run with --debug for onnx2tf's log.") from exc
        signature = root.signatures["serving_default"]
        names = _output_map(sorted(signature.structured_outputs), outputs)
        specs = [tf.TensorSpec(t.shape, tf.as_dtype(t.dtype), name=t.name) for t in inputs]
        module = tf.Module()
        module.loaded = root

        @tf.function(input_signature=specs)
        def serve(*args):
            out = signature(**{t.name: a for t, a in zip(inputs, args)})
            return {onnx_name: out[tf_name] for tf_name, onnx_name in names.items()}

        tf.saved_model.save(module, str(directory), signatures={"serving_default": serve})
    return directory


def _reason(exc: BaseException) -> str:
    """The line of a Keras layer error that says what went wrong, and the ONNX node it came from (onnx2tf names
    each TensorFlow op after its ONNX node)."""
    lines = [line.strip() for line in str(exc).splitlines()]
    node = next((line.split("name=", 1)[1].strip("'\"") for line in lines if line.startswith("• name=")), None)
    text = [line for line in lines if line and not line.startswith(("File ", "•", "raise ", "Call arguments"))]
    reason = max(text, key=len)[:300] if text else summarize(exc)
    # a Keras layer onnx2tf made without a name prints "name=None": no node to point at
    return f"{reason} at ONNX node {node}" if node not in (None, "", "None") else reason


def _output_map(tf_names: list[str], onnx_names: list[str]) -> dict[str, str]:
    """TensorFlow output name -> ONNX output name: the same name, or output_<i> for the i-th ONNX output."""
    out = {}
    for name in tf_names:
        index = re.fullmatch(r"output_(\d+)", name)
        if name in onnx_names:
            out[name] = name
        elif index and int(index.group(1)) < len(onnx_names):
            out[name] = onnx_names[int(index.group(1))]
    if sorted(out.values()) != sorted(onnx_names):
        raise ConversionError("onnx2tf renamed the model's outputs in a way edgekit cannot map back.",
                              got=f"TensorFlow outputs {tf_names}; ONNX outputs {onnx_names}",
                              tip="Rename the ONNX outputs to plain identifiers (letters, digits, _), or convert "
                              "from the original model.")
    return out
