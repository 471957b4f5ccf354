"""The Python API: ``edgekit.convert(model, targets=..., precision=..., calib=..., eval=..., out=...)``.

The same conversion as ``edgekit convert``, for a model in hand: a path or zoo name as on the command line, an
in-memory Keras model, a PyTorch ``nn.Module`` with example inputs, or a ``torch.export`` program. Data are .npz
paths, dicts of numpy arrays by input name (integer labels under 'labels'), or one array for a one-input model.
Returns the typed summary of the model's build directory (``edgekit.reporting.records.ConvertSummary``).
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from edgekit.errors import ConversionError, UsageError


def convert(model, targets: str | Sequence[str] = "all", precision: str | None = None, calib=None, eval=None,
            out: str | Path = "build", *, example_inputs=None, name: str | None = None,
            input_shapes: Mapping[str, Sequence[int]] | None = None, custom_objects: str | Path | None = None,
            threads: int | None = None, verbose: bool = False, raise_on_failure: bool = True,
            allow_degraded: bool = False, fidelity: Mapping[str, float] | None = None,
            max_accuracy_drop: float | None = None, mixed_precision: bool = False, speed_guard: bool = True):
    """Convert ``model`` for ``targets`` (names, target .toml paths, or 'all') and verify every artifact with the
    device's runtime; artifacts and reports go to ``out/<name>/``.

    ``precision``: 'fp32', 'fp16', 'int8', 'all', or None for each target's default ('all' targets: every one).
    ``example_inputs``: for an nn.Module, a tensor, a tuple of tensors or a dict by forward() parameter name, at
    the shapes the device will see. ``name``: the model's build directory (default: a file's stem, the Keras
    model's name, the module's class name). ``verbose`` lets framework output through (it is captured otherwise).
    A failed cell raises ConversionError (its ``summary`` attribute holds the rest) unless ``raise_on_failure``
    is False, when it is listed in ``summary.failed``. An artifact degraded vs fp32 on held-out data (thresholds:
    the recipe's ``edgekit.reporting.fidelity.Fidelity``, fields overridden by ``fidelity``, e.g.
    {"min_snr_db": 15}) raises DegradedArtifacts (``summary`` attached) unless ``allow_degraded``; it is written
    and marked either way. ``max_accuracy_drop`` (points of top-1 on labelled data) or ``mixed_precision`` (the
    fidelity thresholds) makes every int8 build keep the layers that break the budget float, chosen on validation
    samples set aside from the data (``report["float_fallback"]`` records every trial). ``speed_guard`` False keeps
    every int8 build as built instead of timing it against fp32 on this machine (``report["int8_speed"]`` is then
    None): the artifact does not depend on the workstation's CPU.
    """
    from edgekit.converters.common.pipeline import check_supported, convert as run_convert, plan_jobs
    from edgekit.targets import resolve_targets

    if name is not None and (not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name) or ".." in name):
        raise UsageError("name is the model's build directory: letters, digits, '.', '_' and '-' only.",
                         got=f"name={name!r}", tip="Pass e.g. name='my-model'.")
    specs = [targets] if isinstance(targets, str) else list(targets)
    if not specs:
        raise UsageError("No target given.", got="targets=[]", tip="Pass targets='all' or a target name.")
    jobs = plan_jobs(resolve_targets(specs), precision, every="all" in specs)
    shapes = {k: tuple(int(d) for d in v) for k, v in (input_shapes or {}).items()}
    with contextlib.nullcontext() if verbose else _quiet():
        source = _source(model, example_inputs, name, custom_objects, shapes)
        check_supported(source, jobs)
        summary = run_convert(source, jobs, Path(out), calib_path=calib, eval_path=eval, threads=threads,
                              custom_objects=custom_objects, input_shapes=shapes, fidelity=fidelity,
                              mixed_precision=mixed_precision, max_accuracy_drop=max_accuracy_drop,
                              speed_guard=speed_guard)
    if summary.failed and raise_on_failure:
        from edgekit.reporting.records import failures_line

        error = ConversionError(
            failures_line(summary.failed),
            got=", ".join(f"{f.target} {f.precision}" for f in summary.failed),
            tip="The other artifacts are verified and written; pass raise_on_failure=False to get the summary.")
        error.summary = summary
        raise error
    from edgekit.reporting.fidelity import enforce

    enforce(summary, allow_degraded)
    return summary


def _quiet():
    from edgekit._quiet import framework_output_captured

    return framework_output_captured()


def _source(model, example_inputs, name: str | None, custom_objects, shapes):
    """A path or zoo name stays a spec (loaded by the pipeline) unless it is renamed; an in-memory model becomes a
    SourceModel."""
    from edgekit.converters.common import source

    if isinstance(model, (str, Path)):
        if example_inputs is not None:
            raise UsageError("example_inputs are for an nn.Module; a model file carries its own input shapes.",
                             got=str(model), tip="Drop example_inputs; input_shapes fixes dynamic sizes.")
        if name is None:
            return str(model)
        loaded = source.load_source(str(model), custom_objects, shapes)
        loaded.name = name
        return loaded

    kind = _framework_of(model)
    if kind == "keras":
        from edgekit.converters.common.keras_source import keras_model_source

        return keras_model_source(model, name)
    if kind == "torch-program":
        from edgekit.converters.common.torch_source import program_source

        return program_source(model, name or "model")
    if kind == "torch-module":
        from edgekit.converters.common.torch_source import module_source

        return module_source(model, example_inputs, name or type(model).__name__)
    raise UsageError("edgekit.convert takes a model path, a Keras model, a torch.nn.Module or a torch.export "
                     "program.", got=type(model).__module__ + "." + type(model).__qualname__,
                     tip="Save other models to .keras, .onnx or .pt2 and pass the path.")


def _framework_of(model) -> str | None:
    """Which framework an object comes from, without importing one the caller has not imported."""
    keras, torch = sys.modules.get("keras"), sys.modules.get("torch")
    if keras is not None and isinstance(model, keras.Model):
        return "keras"
    if torch is not None:
        if isinstance(model, torch.export.ExportedProgram):
            return "torch-program"
        if isinstance(model, torch.nn.Module):
            return "torch-module"
    return None
