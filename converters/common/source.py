"""The model being converted: a zoo name, a .keras file, a SavedModel directory, an .onnx file or a PyTorch
program (.pt2, or an nn.Module with example inputs through the Python API).

Keras and SavedModel sources are normalised into one canonical SavedModel whose ``serving_default``
signature takes every input by name with a static batch of 1 and returns a dict of named outputs; every
TensorFlow-based exporter starts from it, so names survive into each format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgekit._fs import file_sha256, scratch_directory
from edgekit._lazy import quiet_tensorflow, require
from edgekit.converters.backend import ONNX, SAVED_MODEL, TORCH_PROGRAM
from edgekit.errors import InputFileError, UsageError, did_you_mean, summarize
from edgekit.runtime import TensorInfo, run_in_batches, static_batch

Predict = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]
# source kind -> the intermediates it can be made into: TensorFlow sources become a SavedModel (and ONNX through
# it); an .onnx file only ONNX; a PyTorch program its canonical static program (and ONNX through it)
INTERMEDIATES_OF = {"zoo": (SAVED_MODEL, ONNX), "keras": (SAVED_MODEL, ONNX), "saved_model": (SAVED_MODEL, ONNX),
                    "onnx": (ONNX,), "torch": (TORCH_PROGRAM, ONNX)}
# intermediates a third-party translator makes (an .onnx file's SavedModel, by onnx2tf), used only for a format that
# cannot start from the source's own ones: a translation is one more place for the model to change
BRIDGED_OF = {"onnx": (SAVED_MODEL,)}
KINDS = tuple(INTERMEDIATES_OF)


def kind_of_spec(spec: str) -> str:
    """The source kind a model argument names, without loading anything (an unknown spec is left to
    load_source, which explains it)."""
    path = Path(spec)
    if path.suffix == ".onnx":
        return "onnx"
    if path.suffix == ".keras":
        return "keras"
    if path.suffix == ".pt2":
        return "torch"
    return "saved_model" if path.is_dir() else "zoo"


def name_of_spec(spec: str) -> str:
    """The model name a model argument gets (its build directory), without loading anything."""
    kind = kind_of_spec(spec)
    return spec if kind == "zoo" else build_name(Path(spec).name if kind == "saved_model" else Path(spec).stem, kind)


def build_name(base: str, kind: str) -> str:
    """A user's model is named after its file, except when that is a zoo model's name: face-id.keras builds into
    build/face-id-keras/, never over the zoo's build/face-id/ (whose app would then ship the user's model)."""
    from edgekit.zoo import ZOO

    return f"{base}-{kind.replace('_', '-')}" if kind != "zoo" and base in ZOO else base


@dataclass
class SourceModel:
    name: str
    kind: str  # one of KINDS
    sha256: str
    inputs: list[TensorInfo]
    outputs: list[str]
    path: Path | None = None
    zoo: object | None = None  # edgekit.zoo.ZooModel for zoo sources
    _model: object = field(default=None, repr=False)  # keras.Model | tf signature | onnx path | ExportedProgram
    _root: object = field(default=None, repr=False)  # a loaded SavedModel: keeps the signature's variables alive
    details: dict = field(default_factory=dict)  # facts of the source its artifacts' metadata records (ONNX opset)

    def __post_init__(self) -> None:
        self.name = build_name(self.name, self.kind)

    @property
    def intermediates(self) -> tuple[str, ...]:
        """What exports can start from with this source (see converters.backend.INTERMEDIATES)."""
        return INTERMEDIATES_OF[self.kind]

    @property
    def architecture(self) -> str:
        """Recipe name: the zoo entry's, else chosen by inspecting a user's Keras model."""
        if self.zoo:
            return self.zoo.architecture
        if self.kind == "keras":
            from edgekit.converters.common.keras_forms import has_recurrent_layers

            if has_recurrent_layers(self._model):
                return "recurrent"
        return "generic"

    def layer_names(self, classes: tuple[str, ...] | None = None) -> list[str]:
        """Names of the Keras model's layers (of the given classes), in model order ([] for other sources)."""
        if self.kind not in ("zoo", "keras"):
            return []
        return [layer.name for layer in self._model.layers if classes is None or type(layer).__name__ in classes]

    def static_inputs(self) -> list[TensorInfo]:
        """Input specs with the batch fixed to 1 (what every target here compiles)."""
        return [TensorInfo(t.name, (1, *t.shape[1:]), t.dtype) for t in self.inputs]

    def reference(self) -> Predict:
        """The fp32 model as a batched predict function: the yardstick for every artifact."""
        if self.kind in ("zoo", "keras"):
            return _keras_predict(self._model, self.inputs)
        if self.kind == "saved_model":
            return _signature_predict(self._model, self.inputs)
        if self.kind == "torch":
            from edgekit.converters.common import torch_source

            return torch_source.predict(self._model, self.inputs)
        from edgekit.runtime import open_session

        return open_session(self._model).predict

    def export_onnx(self, dst: Path, saved_model: Callable[[], Path], torch_program: Callable[[], Path]) -> Path:
        """The fp32 ONNX intermediate at the static input shapes: an .onnx source's own file with its shapes
        fixed, torch.onnx's export of ``torch_program()`` (the canonical PyTorch program), or tf2onnx's export of
        ``saved_model()`` (the canonical SavedModel of the recipe's ONNX form)."""
        from edgekit.converters import onnx as onnx_conv

        if self.kind == "onnx":
            return onnx_conv.onnx_at_shapes(self.path, dst, {t.name: t.shape for t in self.static_inputs()})
        if self.kind == "torch":
            from edgekit.converters.common.torch_source import program_to_onnx

            return program_to_onnx(torch_program(), self.static_inputs(), dst)
        return onnx_conv.saved_model_to_onnx(saved_model(), [t.name for t in self.inputs], dst)

    def export_torch_program(self, dst: Path) -> Path:
        """The canonical PyTorch program (.pt2): inputs by keyword, at the static input shapes."""
        if self.kind != "torch":
            raise UsageError("Only PyTorch sources have a PyTorch program.", got=self.kind)
        from edgekit.converters.common import torch_source

        return torch_source.save_program(torch_source.static_program(self._model, self.static_inputs()), dst)

    def export_saved_model(self, directory: Path, form: str = "native") -> Path:
        """Write the canonical static-batch SavedModel of a Keras ``form`` (see converters/common/keras_forms; a
        SavedModel or .onnx source has only its native form; an .onnx file's comes from onnx2tf)."""
        if self.kind == "onnx":

            from edgekit.converters import onnx as onnx_conv
            from edgekit.converters.common.onnx_to_tf import onnx_to_saved_model

            with scratch_directory("edgekit-onnx-") as tmp:
                static = onnx_conv.onnx_at_shapes(self.path, Path(tmp) / "static.onnx",
                                                  {t.name: t.shape for t in self.static_inputs()})
                return onnx_to_saved_model(static, directory, self.static_inputs(), self.outputs, self.path)
        tf = quiet_tensorflow()
        specs = [tf.TensorSpec(t.shape, tf.as_dtype(t.dtype), name=t.name) for t in self.static_inputs()]
        names = [t.name for t in self.inputs]
        if self.kind in ("zoo", "keras"):
            import keras

            from edgekit.converters.common.keras_forms import keras_form

            model = keras_form(self._model, form)
            archive = keras.export.ExportArchive()
            archive.track(model)
            archive.add_endpoint(
                "serving_default", lambda *args: _keras_outputs(model, _keras_call(model, names, args)),
                input_signature=specs,
            )
            archive.write_out(str(directory), verbose=False)
        elif self.kind == "saved_model":
            module = tf.Module()
            module.loaded = self._root
            signature = self._model

            @tf.function(input_signature=specs)
            def serve(*args):
                return dict(signature(**dict(zip(names, args))))

            tf.saved_model.save(module, str(directory), signatures={"serving_default": serve})
        else:
            raise UsageError("Only Keras, SavedModel and ONNX sources have a SavedModel form.", got=self.kind)
        return directory


def _keras_call(model, names, args):
    if len(names) == 1:
        return model(args[0], training=False)
    if isinstance(getattr(model, "_inputs_struct", None), dict):  # a functional model built with dict inputs
        return model(dict(zip(names, args)), training=False)
    return model(list(args), training=False)


def _keras_outputs(model, out) -> dict:
    if isinstance(out, dict):
        return dict(out)
    from edgekit.converters.common.keras_source import output_tensors

    return dict(zip(output_tensors(model), out if isinstance(out, (list, tuple)) else [out]))


def _keras_predict(model, inputs: list[TensorInfo]) -> Predict:
    names = [t.name for t in inputs]

    def run(feeds):
        args = [np.asarray(feeds[t.name], t.dtype) for t in inputs]
        return {k: np.asarray(v) for k, v in _keras_outputs(model, _keras_call(model, names, args)).items()}

    return lambda feeds: run_in_batches(run, feeds, 64)


def _signature_predict(signature, inputs) -> Predict:
    tf = quiet_tensorflow()

    def run(feeds):
        out = signature(**{t.name: tf.constant(feeds[t.name], tf.as_dtype(t.dtype)) for t in inputs})
        return {k: v.numpy() for k, v in out.items()}

    return lambda feeds: run_in_batches(run, feeds, static_batch(inputs) or 64)


def with_input_shapes(inputs: list[TensorInfo], shapes: dict[str, tuple[int, ...]] | None,
                      where: str) -> list[TensorInfo]:
    """The inputs with the user's --input-shape fixes applied; every dimension but the batch must then be static
    (edge targets compile static shapes)."""
    _check_batch_first(inputs, where)
    shapes = dict(shapes or {})
    names = [t.name for t in inputs]
    unknown = sorted(set(shapes) - set(names))
    if unknown:
        raise UsageError(f"--input-shape names no input of {where}: '{unknown[0]}'.{did_you_mean(unknown[0], names)}",
                         got=f"--input-shape {unknown[0]}=...", tip=f"The model's inputs: {', '.join(names)}.")
    out = []
    for t in inputs:
        if t.name in shapes:
            shape = shapes[t.name]
            clash = [i for i, (m, g) in enumerate(zip(t.shape, shape)) if i > 0 and m is not None and m != g]
            if len(shape) != len(t.shape) or shape[0] != 1 or clash:
                raise UsageError(
                    f"--input-shape for '{t.name}' does not fit the model's input.",
                    got=f"{t.name}={'x'.join(map(str, shape))}; the model declares {_shown(t.shape)}",
                    tip="Give every dimension, batch first and 1 (artifacts are compiled at batch 1), keeping the "
                    "sizes the model fixes itself.")
            t = TensorInfo(t.name, (t.shape[0], *shape[1:]), t.dtype)
        if any(d is None for d in t.shape[1:]):
            example = "x".join(["1", *(str(d) if d is not None else "<size>" for d in t.shape[1:])])
            raise UsageError(
                f"Input '{t.name}' of {where} has a dynamic dimension besides the batch.",
                got=f"shape={_shown(t.shape)}",
                tip=f"Edge targets compile static shapes: fix it with --input-shape {t.name}={example} (the size the "
                "device will see), or re-export the model with fixed input sizes.")
        out.append(t)
    return out


def _check_batch_first(inputs: list[TensorInfo], where: str) -> None:
    """Every input's first dimension is the batch: data files stack samples along it, and every runtime, calibrator
    and converter here slices it. An input without one — a scalar, or a first dimension fixed at more than 1 while
    another input's batch is open or 1 (a PyTorch RNN state is (layers, batch, hidden)) — would otherwise fail
    later with a data-shape message that asks for the wrong thing."""
    open_or_one = [t for t in inputs if t.shape and t.shape[0] in (None, 1)]
    odd = [t for t in inputs if not t.shape or (open_or_one and t.shape[0] not in (None, 1))]
    if odd:
        raise UsageError(
            f"{where} has {'inputs' if len(odd) > 1 else 'an input'} whose first dimension is not the batch, which "
            f"edgekit cannot convert yet: {', '.join(f'{t.name!r} {_shown(t.shape)}' for t in odd)}.",
            got="inputs " + ", ".join(f"{t.name} {_shown(t.shape)}" for t in inputs),
            tip="edgekit stacks samples along every input's first dimension. Export the model with batch-first "
            "inputs (a recurrent state as (batch, layers, hidden), transposed inside the model; a scalar as a "
            "(batch, 1) input or a constant).")


def _shown(shape) -> str:
    return "(" + ", ".join("?" if d is None else str(d) for d in shape) + ")"


def _load_keras(path: Path) -> SourceModel:
    from edgekit.converters.common.keras_source import load_keras_file

    from edgekit.converters.common.keras_source import output_tensors

    model = load_keras_file(path)
    inputs = [TensorInfo(t.name, tuple(t.shape), str(t.dtype)) for t in model.inputs]
    return SourceModel(path.stem, "keras", file_sha256(path), inputs,
                       list(output_tensors(model)), path=path, _model=model)


def _load_saved_model(path: Path) -> SourceModel:
    tf = quiet_tensorflow()
    try:
        root = tf.saved_model.load(str(path))
    except Exception as exc:
        raise InputFileError(
            f"Cannot load the SavedModel ({type(exc).__name__}: {summarize(exc)}).",
            got=str(path),
            tip="Give the directory that holds saved_model.pb and variables/.",
        ) from exc
    if "serving_default" not in root.signatures:
        raise InputFileError(
            "The SavedModel has no 'serving_default' signature.",
            got=f"signatures {sorted(root.signatures)}",
            tip="Export it with a serving_default signature (model.export(path) in Keras 3 does).",
        )
    sig = root.signatures["serving_default"]
    specs = sig.structured_input_signature[1]
    inputs = [TensorInfo(n, tuple(s.shape.as_list()), s.dtype.name) for n, s in sorted(specs.items())]
    return SourceModel(path.name, "saved_model", file_sha256(path), inputs,
                       sorted(sig.structured_outputs), path=path, _model=sig, _root=root)


def _load_onnx(path: Path) -> SourceModel:
    onnx = require("onnx", purpose="Reading ONNX models")
    try:
        model = onnx.load(str(path))
        onnx.checker.check_model(model)
    except Exception as exc:  # DecodeError, ValidationError
        raise InputFileError(
            f"Cannot load the ONNX model: it is corrupt, truncated or invalid "
            f"({type(exc).__name__}: {summarize(exc)}).",
            got=str(path),
            tip="Export it again; check it with onnx.checker.check_model.",
        ) from exc
    init = {i.name for i in model.graph.initializer}
    inputs = []
    for i in model.graph.input:
        if i.name in init:
            continue
        # a dimension is static only when it has a positive value: -1, 0 and symbolic names are dynamic
        dims = tuple(d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None
                     for d in i.type.tensor_type.shape.dim)
        dtype = onnx.helper.tensor_dtype_to_np_dtype(i.type.tensor_type.elem_type).name
        inputs.append(TensorInfo(i.name, dims, dtype))
    outputs = [o.name for o in model.graph.output]
    from edgekit.converters.onnx import default_opset

    opset = default_opset(model)
    return SourceModel(path.stem, "onnx", file_sha256(path), inputs, outputs, path=path, _model=path,
                       details={"onnx_opset": opset})


def _load_torch(path: Path) -> SourceModel:
    from edgekit.converters.common.torch_source import load_program, program_source

    src = program_source(load_program(path), path.stem, file_sha256(path))
    src.path = path
    return src


def load_source(spec: str, custom_objects: str | Path | None = None,
                input_shapes: dict[str, tuple[int, ...]] | None = None) -> SourceModel:
    """A zoo model by name, or a model file / SavedModel directory; ``custom_objects`` is a Python file that
    registers the custom Keras classes a .keras file needs; ``input_shapes`` fix dynamic input dimensions."""
    src = _load(spec, custom_objects)
    src.inputs = with_input_shapes(src.inputs, input_shapes, Path(spec).name)
    return src


def _load(spec: str, custom_objects: str | Path | None) -> SourceModel:
    from edgekit import zoo

    if custom_objects:
        from edgekit.converters.common.keras_source import load_custom_objects

        load_custom_objects(custom_objects)

    if spec in zoo.ZOO:
        entry = zoo.ZOO[spec]
        model = entry.load_keras()
        inputs = [TensorInfo(t.name, tuple(t.shape), str(t.dtype)) for t in model.inputs]
        from edgekit.converters.common.keras_source import output_tensors

        return SourceModel(spec, "zoo", entry.weights_sha256(), inputs, list(output_tensors(model)),
                           zoo=entry, _model=model)
    path = Path(spec)
    if path.is_file():
        try:
            open(path, "rb").close()
        except OSError as exc:
            raise InputFileError(f"Cannot read the model file ({exc.strerror}).", got=spec,
                                 tip="Check its permissions (edgekit only reads it).") from exc
    if path.is_dir() and (path / "saved_model.pb").is_file():
        return _load_saved_model(path)
    if path.suffix == ".keras" and path.is_file():
        return _load_keras(path)
    if path.suffix == ".onnx" and path.is_file():
        return _load_onnx(path)
    if path.suffix == ".pt2" and path.is_file():
        return _load_torch(path)
    if not path.exists():
        raise InputFileError(
            f"No zoo model and no file named '{spec}'.{zoo.did_you_mean_model(spec)}",
            got=spec,
            tip=f"Give a zoo model ({', '.join(zoo.ZOO)}), a .keras file, a SavedModel directory, an .onnx file or "
            "a PyTorch program (.pt2).",
        )
    raise InputFileError(
        "Unsupported model format.",
        got=f"{spec} ({'directory without saved_model.pb' if path.is_dir() else 'suffix ' + repr(path.suffix)})",
        tip="Give a .keras file, a SavedModel directory (with saved_model.pb), an .onnx file or a PyTorch program "
        "(.pt2, from torch.export.save).",
    )
