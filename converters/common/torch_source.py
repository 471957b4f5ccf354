"""PyTorch sources: a ``torch.export`` program saved as ``.pt2``, or an ``nn.Module`` with example inputs (Python
API). Both become one ExportedProgram; its inputs are named after ``forward``'s parameters and its outputs
``output_0``, ``output_1``, … in the order ``forward`` returns them (flattened), which is what litert-torch names
a signature's outputs, so every artifact answers to the same names."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from edgekit._fs import scratch_directory
from edgekit._lazy import require
from edgekit.errors import ConversionError, InputFileError, UsageError, summarize
from edgekit.runtime import TensorInfo, run_in_batches

if TYPE_CHECKING:  # the record these loaders return (source.py imports this module lazily)
    from edgekit.converters.common.source import SourceModel

PURPOSE = "Converting PyTorch models"


def _torch():
    return require("torch", purpose=PURPOSE)


def load_program(path: Path):
    """The ExportedProgram of a .pt2 file (``torch.export.save``), or a clear error."""
    torch = _torch()
    try:
        return torch.export.load(str(path))
    except Exception as exc:  # zipfile.BadZipFile, RuntimeError, KeyError from a foreign archive
        raise InputFileError(
            f"Cannot load the PyTorch program ({type(exc).__name__}: {summarize(exc)}).", got=str(path),
            tip="Save it with torch.export.save(torch.export.export(model.eval(), example_args), 'model.pt2'); "
            "a state dict or a torch.save'd module is not a program (pass the module to edgekit.convert instead).",
        ) from exc


def export_module(module, example_inputs):
    """``torch.export`` of an nn.Module in eval mode at its example inputs (a tensor, a tuple of them, or a dict
    by ``forward`` parameter name)."""
    torch = _torch()
    if not isinstance(module, torch.nn.Module):
        raise UsageError("A PyTorch model must be a torch.nn.Module.", got=type(module).__name__)
    if example_inputs is None:
        raise UsageError("A PyTorch module needs example inputs to be exported.", got="example_inputs=None",
                         tip="Pass example_inputs=torch.zeros(1, 3, 224, 224) (or a tuple / dict of tensors) with "
                         "the shapes the device will see.")
    args, kwargs = ((), dict(example_inputs)) if isinstance(example_inputs, dict) else (
        (tuple(example_inputs) if isinstance(example_inputs, (tuple, list)) else (example_inputs,)), {})
    args = tuple(torch.as_tensor(a) for a in args)
    kwargs = {k: torch.as_tensor(v) for k, v in kwargs.items()}
    try:
        return torch.export.export(module.eval(), args, kwargs)
    except Exception as exc:
        raise ConversionError(f"torch.export could not capture the module ({type(exc).__name__}: "
                              f"{summarize(exc)}).", got=type(module).__name__,
                              tip="edgekit needs a graph torch.export can trace: data-dependent Python control "
                              "flow must become torch.cond, or be removed. Run with --debug for the trace.") from exc


def program_inputs(program) -> list[TensorInfo]:
    """The user inputs of a program: forward's parameter names, their shapes (symbolic sizes as None), dtypes."""
    torch = _torch()
    names = list(program.graph_signature.user_inputs)
    placeholders = {n.name: n for n in program.graph.nodes if n.op == "placeholder"}
    inputs = []
    for name in names:
        val = placeholders[name].meta.get("val")
        if not isinstance(val, torch.Tensor):
            raise UsageError(f"The PyTorch program's input '{name}' is not a tensor.", got=type(val).__name__,
                             tip="Export a forward() that takes tensors only.")
        shape = tuple(d if isinstance(d, int) else None for d in val.shape)
        inputs.append(TensorInfo(name, shape, str(val.dtype).removeprefix("torch.")))
    return inputs


def program_outputs(program) -> list[str]:
    return [f"output_{i}" for i in range(len(program.graph_signature.user_outputs))]


def zero_inputs(inputs: list[TensorInfo]) -> dict:
    """Zero tensors at each input's static shape and dtype: the example feeds every export traces with."""
    torch = _torch()
    return {t.name: torch.zeros(t.shape, dtype=getattr(torch, t.dtype)) for t in inputs}


def _tensors(inputs: list[TensorInfo], feeds: dict[str, np.ndarray]):
    torch = _torch()
    return {t.name: torch.from_numpy(np.ascontiguousarray(np.asarray(feeds[t.name], t.dtype))) for t in inputs}


def _keyword_inputs(program) -> bool:
    """Whether the program was exported with its inputs as keywords (else positionally)."""
    spec = program.call_spec.in_spec
    return bool(spec is not None and spec.num_children == 2 and spec.children_specs[1].context)


def _caller(program, inputs: list[TensorInfo]):
    module, by_name = program.module(), _keyword_inputs(program)
    return lambda tensors: module(**tensors) if by_name else module(*[tensors[t.name] for t in inputs])


def predict(program, inputs: list[TensorInfo]):
    """The program as a batched numpy predict function (one sample at a time when its batch is fixed)."""
    torch = _torch()
    call = _caller(program, inputs)

    def run(feeds):
        with torch.no_grad():
            out = call(_tensors(inputs, feeds))
        return {f"output_{i}": y.detach().numpy() for i, y in enumerate(torch.utils._pytree.tree_leaves(out))}

    fixed = all(t.shape[0] == 1 for t in inputs)
    return lambda feeds: run_in_batches(run, feeds, 1 if fixed else 64)


def static_program(program, inputs: list[TensorInfo]):
    """The canonical program every export starts from: inputs taken by keyword (so litert-torch names the
    signature's inputs after them) at the static shapes every target compiles."""
    torch = _torch()
    call = _caller(program, inputs)

    class ByName(torch.nn.Module):
        def forward(self, **tensors):
            return call(tensors)

    try:
        return torch.export.export(ByName(), (), zero_inputs(inputs))
    except Exception as exc:
        raise ConversionError(f"The PyTorch program does not re-export at the static shapes "
                              f"({type(exc).__name__}: {summarize(exc)}).",
                              got=", ".join(f"{t.name}={'x'.join(map(str, t.shape))}" for t in inputs),
                              tip="Export it with torch.export at the shapes the device will see.") from exc


def save_program(program, dst: Path) -> Path:
    _torch().export.save(program, str(dst))
    return dst


def program_sha256(program) -> str:
    """sha256 of the program as torch.export.save writes it (graph and weights)."""

    from edgekit._fs import file_sha256

    with scratch_directory("edgekit-torch-") as tmp:
        return file_sha256(save_program(program, Path(tmp) / "model.pt2"))


def program_to_onnx(pt2: Path, inputs: list[TensorInfo], dst: Path) -> Path:
    """torch.onnx's dynamo exporter (the one PyTorch maintains; TorchScript export is deprecated) at its default
    opset (20 with torch 2.13, e.g. the Gelu op; metadata's format_details records it)."""
    torch = _torch()
    require("onnxscript", purpose="Exporting PyTorch models to ONNX")
    program = torch.export.load(str(pt2))
    try:
        onnx_program = torch.onnx.export(program, (), kwargs=zero_inputs(inputs), input_names=[t.name for t in inputs],
                                         output_names=program_outputs(program), dynamo=True, verbose=False)
        onnx_program.save(str(dst))
    except Exception as exc:
        raise ConversionError(f"torch.onnx.export failed ({type(exc).__name__}: {summarize(exc)}).", got=str(pt2),
                              tip="Run with --debug for the exporter's report.") from exc
    return dst


def program_source(program, name: str, sha256: str | None = None) -> SourceModel:
    """A torch.export program; its sha256 is that of the saved program (graph and weights) unless given."""
    from edgekit.converters.common.source import SourceModel

    return SourceModel(name, "torch", sha256 or program_sha256(program), program_inputs(program),
                       program_outputs(program), _model=program)


def module_source(module, example_inputs, name: str) -> SourceModel:
    """A PyTorch nn.Module (Python API), exported with torch.export at ``example_inputs``."""
    return program_source(export_module(module, example_inputs), name)
