"""Wheels a device without internet installs from: ``pip download`` for the device's platform, not ours."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from edgekit.errors import ConversionError

# manylinux tags pip accepts for a device of each architecture (glibc of Raspberry Pi OS 12 / JetPack 6: 2.35+)
PLATFORMS = {
    "aarch64": ("manylinux_2_28_aarch64", "manylinux_2_17_aarch64", "manylinux2014_aarch64"),
    "x86_64": ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"),
}


def download_wheels(requirements: list[str], arch: str, python: str = "3.11") -> dict[str, bytes]:
    if arch not in PLATFORMS:
        raise ConversionError(f"No wheel platform known for the device architecture '{arch}'.", got=arch,
                              tip=f"Known: {', '.join(PLATFORMS)}; package without --with-wheels.")
    with tempfile.TemporaryDirectory(prefix="edgekit-wheels-") as tmp:
        argv = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "-q", "--only-binary=:all:",
                "--python-version", python, "--implementation", "cp", "--abi", f"cp{python.replace('.', '')}",
                "-d", tmp]
        for tag in PLATFORMS[arch]:
            argv += ["--platform", tag]
        proc = subprocess.run([*argv, *requirements], capture_output=True, text=True)
        if proc.returncode != 0:
            last = [ln for ln in proc.stderr.splitlines() if ln.strip()]
            raise ConversionError("Downloading the device's wheels failed.",
                                  got=(last[-1] if last else f"pip exit {proc.returncode}")[:300],
                                  tip="Check the connection to the package index, or package without --with-wheels.")
        return {p.name: p.read_bytes() for p in sorted(Path(tmp).glob("*.whl"))}
