"""`edgekit flash`: put a bundle on a device so that an interrupted flash never breaks the running app.

1. The bundle is read and checked on the workstation (no link, no absolute or '..' path, every sha256 as in
   its manifest): a bad bundle is refused before the device is contacted.
2. It is unpacked into a local temporary directory and rsynced to ``<root>/staging/<release>`` on the device
   (release = a hash of what the device runs: release_id); the live ``current`` is untouched, and an
   interrupted copy resumes.
3. The device verifies the uploaded files against the manifest — with the agent of the release running there
   when there is one, so a bundle's own code never vouches for itself (a first flash uses the bundle's) — moves
   them to ``<root>/releases/<release>`` and switches ``current`` by one rename.
Flashing the release that is already current does nothing. ``--install`` then makes ``<root>/venv`` with the
runtime requirements (from the bundle's wheels when it has them).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from edgekit._fs import scratch_directory
from edgekit._heartbeat import heartbeat
from edgekit.bundle._tar import unpack_checked
from edgekit.bundle.manifest import MEASUREMENTS, sha256_bytes
from edgekit.errors import InputFileError
from edgekit.remote.address import Device
from edgekit.remote.transport import DeviceError, Transport, device_agent


@dataclass(frozen=True)
class FlashResult:
    device: str
    release: str
    changed: bool
    installed: bool
    app: str


def release_id(manifest: dict) -> str:
    """What the device runs, hashed: the manifest with every file's sha256 except the workstation's measurement
    records (report.json holds timings): reconverting to an identical artifact is the same release, not a
    re-flash."""
    runs = {**manifest, "files": {k: v for k, v in manifest["files"].items() if k not in MEASUREMENTS}}
    return sha256_bytes(json.dumps(runs, sort_keys=True).encode("utf-8"))[:16]


def check_bundle(bundle: Path) -> dict:
    """The bundle's manifest, after checking all of it (edgekit.bundle._tar.unpack_checked) without writing."""
    bundle = Path(bundle)
    if not bundle.is_file():
        raise InputFileError("The bundle does not exist.", got=str(bundle),
                             tip="Make one with `edgekit package <app> --target <target>`.")
    return unpack_checked(bundle)


def flash(bundle: Path, device: Device, *, install: bool = False, bwlimit_kbps: int | None = None,
          allowed_signers: Path | None = None, progress=lambda msg: None) -> FlashResult:
    """``allowed_signers``: from now on the device takes only bundles signed by these keys (edgekit.bundle.signing)."""
    manifest = check_bundle(bundle)
    release = release_id(manifest)
    t = Transport(device)
    t.check_tools()
    root = device.path
    t.run(["mkdir", "-p", f"{root}/staging", f"{root}/releases"], what="creating the app directory")
    check_python(t, device, manifest.get("python") or "")
    if allowed_signers is not None:
        with scratch_directory("edgekit-trust-") as tmp:
            shutil.copyfile(allowed_signers, tmp / "allowed_signers")
            progress(f"{device.name}: trusting only bundles signed by the keys in {allowed_signers}")
            t.sync(tmp, f"{root}/trust")
    current = t.run(["readlink", f"{root}/current"], check=False).stdout.strip()
    changed = current.rsplit("/", 1)[-1] != release
    if changed:
        with scratch_directory("edgekit-flash-") as tmp:
            unpack_checked(bundle, Path(tmp) / release)
            progress(f"{device.name}: uploading release {release} ({len(manifest['files']) + 1} files)")
            t.sync(Path(tmp) / release, f"{root}/staging/{release}", bwlimit_kbps)
        from edgekit.bundle.signing import device_check_argv

        proc = t.run(device_check_argv(f"{root}/staging/{release}", root), check=False)
        if proc.returncode != 0:
            raise DeviceError(f"Device '{device.name}' takes only signed bundles, and this one is not signed by a key "
                              "it trusts, so nothing was changed.", got=f"{bundle}: {proc.stderr.strip()[-200:]}",
                              tip="Package with --sign YOUR_KEY (a key in the device's trust/allowed_signers), or "
                              "flash again with --allowed-signers FILE to change which keys it trusts.")
        agent = _installed_agent(t, root, current)
        progress(f"{device.name}: verifying and switching to {release}"
                 + (f" (with the agent of {current.rsplit('/', 1)[-1]}, the release running now)" if agent else ""))
        t.run([*device_agent(device, lib=agent or f"{root}/staging/{release}/lib"), "activate", root, release],
              what="activating the release")
    else:
        progress(f"{device.name}: release {release} is already current; nothing to do")
    if install:
        install_runtime(t, device, manifest, progress)
    return FlashResult(device.name, release, changed, install, manifest["app"])


def _installed_agent(t: Transport, root: str, current: str) -> str | None:
    """The lib of the release running now, when it holds an agent: that agent verifies and activates the new
    release, so a bundle's own code never vouches for itself. A first flash has nothing installed yet and uses the
    bundle's agent (after the signature check, when the device takes only signed bundles)."""
    parts = current.split("/")
    if len(parts) != 2 or parts[0] != "releases" or parts[1] in ("", ".", ".."):
        return None
    lib = f"{root}/{current}/lib"  # the release's own directory, not current/: the switch must not move it
    found = t.run(["test", "-f", f"{lib}/edgekit/agent/releases.py"], check=False)
    return lib if found.returncode == 0 else None


def check_python(t: Transport, device: Device, wanted: str) -> None:
    """The device's Python is one the bundle is for (its wheels' Python, or edgekit's requires-python), before
    anything on the device changes."""
    if not wanted:
        return
    got = t.run([device.python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
                what="reading the device's Python version").stdout.strip()
    if not python_matches(got, wanted):
        raise DeviceError(f"The bundle is for Python {wanted}; device '{device.name}' runs Python {got}.",
                          got=f"{device.python} is Python {got}",
                          tip="Package for this device's Python (`python = \"X.Y\"` in a target file), or name "
                          "an interpreter that matches as the device's python in the inventory.")


def python_matches(version: str, specifier: str) -> bool:
    """``version`` (3.11.2) against a requires-python specifier (>=3.11,<3.12 or ==3.10.*): the forms edgekit writes."""
    have = tuple(int(x) for x in version.split(".")[:3])
    for clause in (c.strip() for c in specifier.split(",") if c.strip()):
        op = next(o for o in ("==", "!=", ">=", "<=", ">", "<", "~=") if clause.startswith(o))
        text = clause[len(op):].strip()
        if text.endswith(".*"):
            want = tuple(int(x) for x in text[:-2].split("."))
            same = have[:len(want)] == want
            if (op == "==") != same:
                return False
            continue
        want = tuple(int(x) for x in text.split("."))
        mine = have[:len(want)] if op in ("==", "!=") else have
        if not {"==": mine == want, "!=": mine != want, ">=": mine >= want, "<=": mine <= want, ">": mine > want,
                "<": mine < want, "~=": have >= want and have[:len(want) - 1] == want[:-1]}[op]:
            return False
    return True


def install_runtime(t: Transport, device: Device, manifest: dict, progress) -> None:
    root = device.path
    progress(f"{device.name}: installing {', '.join(manifest['requirements'])} into {root}/venv")
    # an existing venv is kept: pip then installs only what changed (making one runs ensurepip, which took 51 s on
    # the emulated Pi); a release's requirements never need a fresh venv
    if t.run(["test", "-x", f"{root}/venv/bin/python"], check=False).returncode != 0:
        with heartbeat(progress, f"{device.name}: creating {root}/venv"):
            # PIP_NO_COMPILE reaches the pip that ensurepip runs: compiling pip's own files to .pyc took 8 of the
            # 44 s on the emulated Pi; Python compiles what is imported, once, on first use
            t.run(["env", "PIP_NO_COMPILE=1", device.python, "-m", "venv", f"{root}/venv"], what="creating the venv")
    # --no-compile: numpy and the runtime installed in 17 s instead of 44 s on the emulated Pi (fewer writes to an
    # SD card too); the first import then compiles the modules it loads (+1.3 s there)
    pip = [f"{root}/venv/bin/python", "-m", "pip", "install", "--disable-pip-version-check", "-q", "--no-compile"]
    if manifest.get("wheels"):
        pip += ["--no-index", "--find-links", f"{root}/current/wheels"]
    with heartbeat(progress, f"{device.name}: installing the runtime"):
        t.run([*pip, *manifest["requirements"]], what="installing the runtime", timeout=1800)
