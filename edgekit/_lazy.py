"""The one place heavy frameworks are imported, so a missing one becomes a clear pip hint."""

from __future__ import annotations

import importlib
from types import ModuleType

from edgekit.errors import MissingDependencyError
from edgekit.formats import RUNTIMES

# module -> (pip distribution, edgekit extra that brings it); a runtime comes with its device extra
_EXTRAS = {
    **{r.import_name: (r.distribution, r.extra) for r in RUNTIMES.values()},
    "tensorflow": ("tensorflow", "convert"),
    "keras": ("tensorflow", "convert"),
    "tf2onnx": ("tf2onnx", "convert"),
    "onnx": ("onnx", "convert"),
    "onnxconverter_common": ("onnxconverter-common", "convert"),
    "onnxruntime.quantization": ("onnxruntime", "convert"),
    "nncf": ("nncf", "convert"),
    "torch": ("torch", "torch"),
    "onnxscript": ("onnxscript", "torch"),
    "ai_edge_quantizer": ("ai-edge-quantizer", "torch"),
}
# Converters installed with --no-deps (edgekit/_nodeps.py says why; the Makefile installs them):
# distribution -> (pinned version, the edgekit extra that brings what it imports); module -> distribution
CONVERTER_TOOLS = {"litert-torch": ("0.10.0", "torch"), "litert-converter": ("0.5.0", "torch"),
                   "onnx2tf": ("1.29.24", "convert")}
_NO_DEPS = {"litert_torch": "litert-torch", "onnx2tf": "onnx2tf"}


def install_hint(distribution: str) -> str:
    extra = CONVERTER_TOOLS[distribution][1]
    tools = " ".join(f"{name}=={v}" for name, (v, e) in CONVERTER_TOOLS.items() if e == extra)
    return f"pip install 'edgekit[{extra}]' && pip install --no-deps {tools}"


def require(module: str, *, purpose: str, extra: str | None = None) -> ModuleType:
    """Import ``module`` or raise MissingDependencyError naming the pip extra to install.

    ``extra`` overrides the default extra, e.g. 'convert' when a runtime is needed for conversion.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        if top in _NO_DEPS:
            dist, tip = _NO_DEPS[top], install_hint(_NO_DEPS[top])
        else:
            dist, default_extra = _EXTRAS.get(module, (top, "convert"))
            tip = f"pip install 'edgekit[{extra or default_extra}]'"
        raise MissingDependencyError(
            f"{purpose} needs the Python package '{dist}', which is not installed.",
            got=f"import {module} failed ({exc})",
            tip=tip,
        ) from exc


def require_program(name: str, *, purpose: str, package: str) -> str:
    """The path of the system program ``name`` or MissingDependencyError naming the Debian package to install."""
    import shutil

    path = shutil.which(name)
    if path is None:
        raise MissingDependencyError(f"{purpose} needs the program '{name}', which is not installed.",
                                     got=f"{name} not on PATH", tip=f"Install it: sudo apt-get install {package}.")
    return path


def quiet_tensorflow() -> ModuleType:
    """Import TensorFlow with its C++ start-up chatter turned down."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return require("tensorflow", purpose="Converting Keras/SavedModel models")
