"""Wheels a device without internet installs from: ``pip download`` for the device's platform, not ours."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from edgekit._fs import scratch_directory
from edgekit.errors import ConversionError

ARCHES = ("aarch64", "x86_64")
OLDEST_GLIBC = 17  # manylinux2014 = manylinux_2_17, the oldest tag the runtimes' wheels use


def platform_tags(arch: str, glibc: str) -> list[str]:
    """Every manylinux tag a device with this glibc installs, newest first: pip takes only the tags it is given, and
    the runtimes' aarch64 wheels span them (ai-edge-litert 2.3: manylinux_2_27; onnxruntime-gpu: 2_34)."""
    major, minor = (int(x) for x in glibc.split("."))
    return [f"manylinux_{major}_{m}_{arch}" for m in range(minor, OLDEST_GLIBC - 1, -1)] + [f"manylinux2014_{arch}"]


def download_wheels(requirements: list[str], arch: str, python: str = "3.11", glibc: str = "2.28") -> dict[str, bytes]:
    if arch not in ARCHES:
        raise ConversionError(f"No wheel platform known for the device architecture '{arch}'.", got=arch,
                              tip=f"Known: {', '.join(ARCHES)}; package without --with-wheels.")
    with scratch_directory("edgekit-wheels-") as tmp:
        argv = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "-q", "--only-binary=:all:",
                "--python-version", python, "--implementation", "cp", "--abi", f"cp{python.replace('.', '')}",
                "-d", tmp]
        for tag in platform_tags(arch, glibc):
            argv += ["--platform", tag]
        proc = subprocess.run([*argv, *requirements], capture_output=True, text=True)
        if proc.returncode != 0:
            last = [ln for ln in proc.stderr.splitlines() if ln.strip()]
            raise ConversionError("Downloading the device's wheels failed.",
                                  got=(last[-1] if last else f"pip exit {proc.returncode}")[:300],
                                  tip="Check the connection to the package index, or package without --with-wheels.")
        return {p.name: p.read_bytes() for p in sorted(Path(tmp).glob("*.whl"))}
