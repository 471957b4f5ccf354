"""A bundle and a release on a device: what `flash` refuses before anything changes, how a flash killed at any
point ends, and who signed a bundle (issue 20's bundle and device corpus; the device flows are test_device_apps)."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.sshd import SSHD
from tests.sshd import inventory_file as _inventory

pytestmark = pytest.mark.skipif(SSHD is None, reason="openssh-server is not installed (.ci/run installs it)")


def _hostile(path: Path, good: Path, mutate) -> Path:
    with tarfile.open(good) as src:
        members = [(m, src.extractfile(m).read() if m.isfile() else None) for m in src.getmembers()]
    with tarfile.open(path, "w:gz") as dst:
        for m, data in members:
            m, data = mutate(m, data)
            dst.addfile(m, io.BytesIO(data) if data is not None else None)
        extra = mutate(None, None)
        if extra:
            dst.addfile(extra[0], io.BytesIO(extra[1]) if extra[1] is not None else None)
    return path


def _tampered(m, data):
    if m is not None and m.name == "model/model.tflite":
        data = data[:-1] + bytes([data[-1] ^ 1])
    return (m, data) if m is not None else None


def _entry(name, kind=tarfile.REGTYPE, link=""):
    def mutate(m, data):
        if m is not None:
            return m, data
        info = tarfile.TarInfo(name)
        info.type, info.linkname, info.size = kind, link, 0 if kind != tarfile.REGTYPE else 4
        return info, b"evil" if kind == tarfile.REGTYPE else None
    return mutate


def _consistent(change):
    """A self-consistent bundle (every sha256 matches its manifest) that ``change(files, manifest)`` altered:
    a damaged download cannot be told from it by checksums alone."""
    def make(path: Path, good: Path) -> Path:
        from edgekit.bundle._tar import write_deterministic
        from edgekit.bundle.manifest import sha256_bytes

        with tarfile.open(good) as src:
            files = {m.name: src.extractfile(m).read() for m in src.getmembers() if m.isfile()}
        manifest = json.loads(files.pop("manifest.json"))
        manifest = change(files, manifest)
        if isinstance(manifest, dict) and "files" in manifest:
            manifest["files"] = {k: sha256_bytes(v) for k, v in sorted(files.items())}
        write_deterministic(path, {**files, "manifest.json": json.dumps(manifest).encode()})
        return path
    return make


def _without(*keys):
    return lambda files, manifest: {k: v for k, v in manifest.items() if k not in keys}


def _drop_file(name):
    def change(files, manifest):
        del files[name]
        return manifest
    return change


def _duplicate(path: Path, good: Path) -> Path:
    """The same member name twice: tarfile (and GNU tar) keep the last one silently."""
    return _hostile(path, good, lambda m, data: (m, data) if m is not None else (tarfile.TarInfo("app/app.py"), b""))


def _file_and_directory(path: Path, good: Path) -> Path:
    return _hostile(path, good, lambda m, data: (m, data) if m is not None else (tarfile.TarInfo("app/app.py/x"), b""))


HOSTILE = [
    (lambda p, g: _hostile(p, g, _tampered), "do not match its manifest"),
    (lambda p, g: _hostile(p, g, _entry("../escaped.txt")), "climbs out of the destination"),
    (lambda p, g: _hostile(p, g, _entry("/tmp/absolute.txt")), "is an absolute path"),
    (lambda p, g: _hostile(p, g, _entry("app/link", tarfile.SYMTYPE, "/etc/passwd")), "is a link"),
    (lambda p, g: _hostile(p, g, _entry("unlisted.bin")), "unlisted: unlisted.bin"),
    (_consistent(_without("app")), "lacks what a device needs, so it is refused. Got: "),
    (_consistent(_without("requirements", "entry_point")), "entry_point (missing), requirements (missing)"),
    (_consistent(_drop_file("app/app.py")), "names files it does not list, so it is refused. Got: "),
    (_consistent(lambda files, manifest: [manifest]), "Not an edgekit bundle manifest. Got: a JSON list"),
    (_consistent(lambda files, manifest: {**manifest, "requirements": "numpy"}), "requirements (str, not list)"),
    (_duplicate, "entry 'app/app.py' appears twice"),
    (_file_and_directory, "entry 'app/app.py' is a file and also the directory of 'app/app.py/x'"),
]


@pytest.mark.parametrize("make, message", HOSTILE, ids=[str(i) for i in range(len(HOSTILE))])
def test_hostile_bundles_are_refused_before_anything_changes(tmp_path, inventory, bundles, make, message):
    bad = make(tmp_path / "bad.tar.gz", bundles["int8"])
    card = inventory["card"]
    before = os.readlink(card / "current") if (card / "current").is_symlink() else None
    r = run_cli("flash", str(bad), f"local:{tmp_path / 'dev'}")
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "dev").exists() and not (tmp_path / "escaped.txt").exists()
    assert (os.readlink(card / "current") if (card / "current").is_symlink() else None) == before


def _with_big_member(path: Path, good: Path, size: int, listed: bool) -> Path:
    """``good`` plus model/big.bin of ``size`` zero bytes (listed in the manifest with its sha256, or not),
    written by streaming: a small .tar.gz that unpacks to a large file."""
    import hashlib

    class Zeros(io.RawIOBase):
        def __init__(self, n):
            self.left = n

        def readable(self):
            return True

        def readinto(self, b):
            n = min(len(b), self.left)
            b[:n] = bytes(n)
            self.left -= n
            return n

    with tarfile.open(good) as src:
        files = {m.name: src.extractfile(m).read() for m in src.getmembers() if m.isfile()}
    manifest = json.loads(files.pop("manifest.json"))
    if listed:
        digest = hashlib.sha256()
        for _ in range(size // (1 << 20)):
            digest.update(bytes(1 << 20))
        manifest["files"]["model/big.bin"] = digest.hexdigest()
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for name, data in [*files.items(), ("manifest.json", json.dumps(manifest).encode())]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("model/big.bin")
        info.size = size
        tar.addfile(info, io.BufferedReader(Zeros(size)))
    return path


def test_a_bundle_is_checked_and_flashed_without_holding_it_in_memory(tmp_path, bundles):
    """A 16 MB archive once reached 2.13 GB of memory before a refusal: members are refused by name and size from
    their headers, and files stream through sha256 to disk. Limits are configurable."""
    size = 256 << 20
    unlisted = _with_big_member(tmp_path / "unlisted.tar.gz", bundles["int8"], size, listed=False)
    r = run_cli("flash", str(unlisted), f"local:{tmp_path / 'a'}")
    assert r.returncode == 2 and "unlisted: model/big.bin" in r.stderr and not (tmp_path / "a").exists(), r.stderr
    listed = _with_big_member(tmp_path / "listed.tar.gz", bundles["int8"], size, listed=True)
    r = run_cli("flash", str(listed), f"local:{tmp_path / 'b'}", env={"EDGEKIT_BUNDLE_MAX_BYTES": str(size)})
    assert r.returncode == 2 and f"The bundle unpacks to more than {size:,} bytes" in r.stderr, r.stderr
    assert "EDGEKIT_BUNDLE_MAX_BYTES" in r.stderr and not (tmp_path / "b").exists()
    # within the limit it is flashed, in bounded memory (the child's peak RSS, measured by a parent of its own)
    probe = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
             "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", probe, sys.executable, "-m", "edgekit", "flash", str(listed),
                          f"local:{tmp_path / 'c'}"], capture_output=True, text=True, check=True).stdout.split()
    code, peak_kib = int(out[-2]), int(out[-1])
    assert code == 0 and (tmp_path / "c" / "current" / "model" / "big.bin").stat().st_size == size
    assert peak_kib < 128 * 1024, f"peak RSS {peak_kib / 1024:.0f} MiB for a {size >> 20} MiB member"
    r = run_cli("flash", str(listed), f"local:{tmp_path / 'd'}", env={"EDGEKIT_BUNDLE_MAX_BYTES": "lots"})
    assert r.returncode == 2 and "EDGEKIT_BUNDLE_MAX_BYTES must be a positive whole number. Got: 'lots'" in r.stderr


def test_activation_refuses_an_incomplete_release_and_keeps_the_running_one(tmp_path, bundles):
    """The device checks the whole release before the switch (a bundle the workstation did not check, or one
    changed in staging): without `app` or its entry point, `current` still names the release that ran."""
    device = tmp_path / "dev"
    assert run_cli("flash", str(bundles["int8"]), f"local:{device}").returncode == 0
    running = os.readlink(device / "current")
    agent = [sys.executable, "-m", "edgekit.agent", "activate", str(device)]
    for name, breaks in (("noapp", lambda m: m.pop("app")), ("noentry", lambda m: m["files"].pop("app/app.py"))):
        staged = device / "staging" / name
        shutil.copytree(device / "current", staged)
        manifest = json.loads((staged / "manifest.json").read_text())
        breaks(manifest)
        if name == "noentry":
            (staged / "app" / "app.py").unlink()
        (staged / "manifest.json").chmod(0o644)
        (staged / "manifest.json").write_text(json.dumps(manifest))
        r = subprocess.run([*agent, name], capture_output=True, text=True)
        assert r.returncode == 2 and "so it is refused" in r.stderr and "Traceback" not in r.stderr, r.stderr
        assert os.readlink(device / "current") == running and not (device / "releases" / name).exists()
    # `current` that is not edgekit's link: refused before anything moves, no half-made link left behind
    os.unlink(device / "current")
    (device / "current").mkdir()
    r = subprocess.run([*agent, running.rsplit("/", 1)[-1]], capture_output=True, text=True)
    assert r.returncode == 2 and "is not the link edgekit switches between releases" in r.stderr, r.stderr
    assert (device / "current").is_dir() and not list(device.glob(".current.*"))


def test_a_flash_killed_at_any_point_keeps_a_whole_release_and_a_reflash_completes(sshd, bundles, tmp_path):
    """SIGKILL to the flash (and its ssh/rsync children) during the upload, the verification and the activation:
    after each, `current` names a whole release (the previous one or the new one, verified file by file) and
    flashing again completes, leaving no half-made link or upload behind."""
    from edgekit.remote.flash import check_bundle, release_id

    box = tmp_path / "box"
    inv = ["--inventory", str(_inventory(sshd, tmp_path / "inv.toml", "box", box))]
    old, new = (f"releases/{release_id(check_bundle(bundles[p]))}" for p in ("fp32", "int8"))
    points = [("uploading release", 0.0), ("verifying and switching", 0.05), ("verifying and switching", 0.4)]
    for marker, delay in points:
        assert run_cli("flash", str(bundles["fp32"]), "box", *inv).returncode == 0
        assert os.readlink(box / "current") == old
        proc = subprocess.Popen([sys.executable, "-m", "edgekit", "flash", str(bundles["int8"]), "box", *inv],
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        for line in proc.stderr:
            if marker in line:
                time.sleep(delay)
                os.killpg(proc.pid, signal.SIGKILL)
                break
        proc.wait()
        time.sleep(0.5)  # the device's side of a killed session finishes or dies
        current = os.readlink(box / "current")
        assert current in (old, new), (marker, delay, current)
        verify = subprocess.run([sys.executable, "-m", "edgekit.agent", "verify", str(box / "current")],
                                capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(box / "current" / "lib")})
        assert verify.returncode == 0 and '"verified": true' in verify.stdout, (marker, delay, verify.stderr)
        r = run_cli("flash", str(bundles["int8"]), "box", *inv)
        assert r.returncode == 0 and os.readlink(box / "current") == new, (marker, delay, r.stderr)
        assert not list(box.glob(".current.*")) and not list((box / "staging").iterdir()), (marker, delay)
    r = run_cli("run", *inv, "box", "--demo")
    assert r.returncode == 0 and "probe 11 (stranger): rejected" in r.stdout, r.stderr


def test_a_device_that_trusts_some_keys_takes_only_bundles_they_signed(tmp_path, bundles):
    """A bundle verified itself with its own code and nothing said who built it: signed with the user's SSH key
    (ssh-keygen -Y sign) and checked by the device's ssh-keygen before any of the bundle's code runs there."""
    from edgekit.bundle.signing import sign_bundle

    keys = {}
    for who in ("me", "stranger"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", who, "-f", str(tmp_path / who)], check=True)
        keys[who] = tmp_path / who
    trusted = tmp_path / "allowed_signers"
    trusted.write_text(f"me@edgekit {(tmp_path / 'me.pub').read_text()}")
    signed = {}
    for name, precision, key in (("mine", "int8", "me"), ("theirs", "fp32", "stranger")):
        signed[name] = tmp_path / f"{name}.tar.gz"
        shutil.copy(bundles[precision], signed[name])
        sign_bundle(signed[name], keys[key])
    device = f"local:{tmp_path / 'dev'}"
    r = run_cli("flash", str(signed["mine"]), device, "--allowed-signers", str(trusted))
    assert r.returncode == 0, r.stderr
    running = os.readlink(tmp_path / "dev" / "current")
    for bundle, why in ((bundles["fp32"], "the bundle is not signed"), (signed["theirs"], "no key in")):
        r = run_cli("flash", str(bundle), device)
        assert r.returncode == 5 and "takes only signed bundles, and this one is not signed by a key it trusts" in r.stderr
        assert why in r.stderr and "Traceback" not in r.stderr, r.stderr
        assert os.readlink(tmp_path / "dev" / "current") == running
    r = run_cli("package", "face-id", "--target", "raspberry-pi-5", "--sign", str(tmp_path / "nokey"))
    assert r.returncode == 2 and "The signing key does not exist. Got: --sign " in r.stderr, r.stderr


def test_the_agent_already_on_the_device_activates_a_new_release(tmp_path, bundles):
    """A bundle's agent verified the bundle itself. Now the release running on the device verifies and activates
    the next one: a bundle whose (self-consistent) agent would skip the checks never runs that agent to activate;
    on a device with nothing installed yet, the bundle's own agent is all there is. (This test runs from the repo
    root, which holds an `edgekit` directory: `python -m` would have imported that one instead of the release's.)"""
    marker = tmp_path / "bundle-agent-ran"

    def own_agent(files, manifest):
        name = "lib/edgekit/agent/releases.py"
        files[name] = files[name].replace(b"    root = Path(root)\n    if \"/\" in release",
                                          f"    Path({str(marker)!r}).touch()\n    root = Path(root)\n"
                                          f"    if \"/\" in release".encode(), 1)
        assert str(marker).encode() in files[name]
        return manifest  # its files' sha256 change, so it is another release

    own = _consistent(own_agent)(tmp_path / "own.tar.gz", bundles["int8"])
    device = f"local:{tmp_path / 'dev'}"
    r = run_cli("flash", str(bundles["int8"]), device)
    assert r.returncode == 0, r.stderr
    running = os.readlink(tmp_path / "dev" / "current")
    r = run_cli("flash", str(own), device)
    assert r.returncode == 0, r.stderr
    assert f"with the agent of {running.split('/')[-1]}, the release running now" in r.stderr, r.stderr
    assert not marker.exists() and os.readlink(tmp_path / "dev" / "current") != running
    r = run_cli("flash", str(own), f"local:{tmp_path / 'fresh'}")
    assert r.returncode == 0 and marker.exists(), r.stderr
