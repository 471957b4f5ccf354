"""A user's Keras 3 model however it was written — Functional, Sequential (the form of every tutorial) or
subclassed — seen as one functional model with named inputs and named outputs, which is what every exporter here
starts from.

Keras 3.15's Sequential has no ``output_names`` and a subclassed model has neither ``inputs`` nor ``outputs``;
both are wrapped in a functional model over the same layers (same weights, same outputs), so nothing downstream
needs to know how the model was written.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import TYPE_CHECKING

from edgekit._lazy import quiet_tensorflow
from edgekit.errors import InputFileError, UsageError, summarize

if TYPE_CHECKING:  # the record these loaders return (source.py imports this module lazily)
    from edgekit.converters.common.source import SourceModel

_UNREGISTERED = re.compile(r"Could not locate (?:class|function) '([^']+)'")


def load_custom_objects(path: str | Path) -> None:
    """Run the user's file that defines (and registers) custom layers, so Keras can deserialize them."""
    import runpy

    path = Path(path)
    if not path.is_file():
        raise InputFileError("The --custom-objects file does not exist.", got=str(path), tip="Check the path.")
    quiet_tensorflow()
    try:
        runpy.run_path(str(path), run_name="edgekit_custom_objects")
    except Exception as exc:
        raise InputFileError(f"Running the --custom-objects file failed ({type(exc).__name__}: {summarize(exc)}).",
                             got=str(path), tip="It must import cleanly with the Keras that edgekit uses.") from exc


def load_keras_file(path: Path):
    """A .keras file as a functional model; damaged files and unregistered custom classes get their own error."""
    quiet_tensorflow()
    import keras

    try:
        model = keras.saving.load_model(str(path), compile=False)
    except Exception as exc:  # Keras raises TypeError, ValueError, OSError, BadZipFile... for damaged files
        missing = _UNREGISTERED.search(str(exc))
        if missing:
            raise InputFileError(
                f"The Keras model uses the custom class '{missing.group(1)}', which is not registered here.",
                got=str(path),
                tip=f"Pass --custom-objects my_layers.py: a file that defines {missing.group(1)} decorated with "
                "@keras.saving.register_keras_serializable() (the code the model was trained with).",
            ) from exc
        raise InputFileError(
            f"Cannot load the Keras model: the file is corrupt, truncated or not a .keras archive "
            f"({type(exc).__name__}: {summarize(exc)}).",
            got=str(path),
            tip="Save it again with model.save('model.keras').",
        ) from exc
    return functional_view(model, str(path))


def output_tensors(model) -> dict:
    """A functional model's outputs by the names its call returns them under. Keras' ``output_names`` are the
    names of the layers that make them (sorted): for dict outputs those need not be the dict's keys."""
    struct = getattr(model, "_outputs_struct", None)
    if isinstance(struct, dict):
        return dict(struct)
    return dict(zip(model.output_names, model.outputs))


def functional_view(model, where: str = "the model"):
    """``model`` itself when it is functional, else a functional model over the same layers."""
    import keras

    try:
        inputs, outputs = model.inputs, model.outputs
    except (AttributeError, ValueError):
        inputs = outputs = None
    if inputs and outputs:
        if hasattr(model, "output_names"):
            return model  # Functional
        return keras.Model(inputs, outputs, name=model.name)  # Sequential: outputs named after their layers
    if isinstance(model, keras.Sequential):
        raise UsageError(
            "The Sequential model has no input shape, so its inputs cannot be exported.",
            got=f"{where}: Sequential '{model.name}' with no keras.Input",
            tip="Start it with keras.Input(shape=...) (or call model.build((None, ...)) before saving).",
        )
    return _subclassed_view(model, where)


def _subclassed_view(model, where: str):
    import keras

    shape = (model.get_build_config() or {}).get("input_shape")
    if not shape or not all(isinstance(d, (int, type(None))) for d in shape):
        raise UsageError(
            "The subclassed Keras model does not record one input shape, so its inputs cannot be exported.",
            got=f"{where}: {type(model).__name__} built with input_shape={shape!r}",
            tip="Call the model once on a batch of the input shape before saving, or rebuild it as a functional "
            "model (keras.Input -> layers -> keras.Model) for several inputs.",
        )
    params = [p for p in inspect.signature(model.call).parameters.values() if p.name not in ("self", "training",
                                                                                              "mask")]
    name = params[0].name if params else "input"
    inp = keras.Input(shape=tuple(shape[1:]), name=name)
    out = model(inp)
    # Keras names a functional model's outputs after the layers that make them: an Identity layer per output
    # gives each the name the user knows (its dict key) or a plain one.
    if isinstance(out, dict):
        named = {k: keras.layers.Identity(name=k)(v) for k, v in out.items()}
    elif isinstance(out, (list, tuple)):
        named = [keras.layers.Identity(name=f"output_{i}")(v) for i, v in enumerate(out)]
    else:
        named = keras.layers.Identity(name="output")(out)
    return keras.Model(inp, named, name=model.name)


def keras_model_source(model, name: str | None = None) -> SourceModel:
    """An in-memory Keras model (Python API): Sequential, functional or subclassed, as a .keras file would load.
    Its sha256 is that of its architecture and weights."""
    import hashlib

    import numpy as np

    from edgekit.converters.common.source import SourceModel
    from edgekit.runtime import TensorInfo

    view = functional_view(model, f"the Keras model '{model.name}'")
    digest = hashlib.sha256(type(model).__qualname__.encode())
    for w in model.weights:
        digest.update(w.path.encode() if hasattr(w, "path") else b"")
        digest.update(np.ascontiguousarray(np.asarray(w)).tobytes())
    inputs = [TensorInfo(t.name, tuple(t.shape), str(t.dtype)) for t in view.inputs]
    return SourceModel(name or model.name, "keras", digest.hexdigest(), inputs, list(output_tensors(view)),
                       _model=view)
