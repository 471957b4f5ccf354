"""Start and stop an emulated board: the root file system's own sshd, chrooted, in a private mount namespace.

The namespace holds the guest's /proc (with the board's cpuinfo bound over /proc/cpuinfo), /sys (without it
LiteRT's cpuinfo prints "failed to parse both lists of possible and present processors") and /dev: when its last
process ends, the kernel drops those mounts, so a crash leaves nothing mounted on the host. The client key and
known_hosts live in a state directory of the caller's; the rootfs keeps only the authorized public key.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, replace
from pathlib import Path

from edgekit.emulate import Emulation
from edgekit.emulate.rootfs import CPUINFO, enable_binfmt, guest_home
from edgekit.remote.transport import DeviceError

START_TIMEOUT_S = 120  # sshd under qemu starts in ~1 s on an idle host; a loaded 2-core CI machine is slower


@dataclass(frozen=True)
class EmulatedDevice:
    name: str
    emulation: Emulation
    rootfs: Path
    port: int
    state: Path  # client key, known_hosts, inventory, sshd log
    pid: int  # the namespace's first process (unshare, then sshd); its process group is the guest's sshd
    namespace: str  # its mount namespace: every process of this guest, and only those, are in it

    @property
    def path(self) -> str:
        return f"{guest_home(self.emulation)}/edgekit"

    @property
    def url(self) -> str:
        return f"ssh://{self.emulation.user}@127.0.0.1:{self.port}{self.path}"

    @property
    def ssh_options(self) -> tuple[str, ...]:
        return ("-i", str(self.state / "client_key"), "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=yes",
                "-o", f"UserKnownHostsFile={self.state / 'known_hosts'}", "-o", "LogLevel=ERROR")

    @property
    def inventory(self) -> Path:
        return self.state / "devices.toml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(emulation: Emulation, rootfs: Path, state: Path, *, port: int | None = None,
          name: str | None = None) -> EmulatedDevice:
    """Start the guest's sshd on 127.0.0.1:port (a free one by default) and write an inventory naming it."""
    state = Path(state)
    state.mkdir(parents=True, exist_ok=True)
    enable_binfmt()
    port = port or free_port()
    _authorize(rootfs, emulation, state, port)
    # sshd gives sessions a fresh environment: SetEnv carries QEMU_CPU to every process a session starts
    sshd = ["/usr/sbin/sshd", "-D", "-e", "-p", str(port), "-o", "ListenAddress=127.0.0.1", "-o", "UsePAM=no",
            "-o", "PasswordAuthentication=no", "-o", "KbdInteractiveAuthentication=no", "-o", "PermitRootLogin=no",
            "-o", f"SetEnv=QEMU_CPU={emulation.qemu_cpu}", "-o", "LogLevel=ERROR"]
    r = shlex.quote(str(rootfs))
    script = (f"set -e; mount -t proc proc {r}/proc; mount --bind {r}{CPUINFO} {r}/proc/cpuinfo; "
              f"mount -t sysfs sysfs {r}/sys; mount --rbind /dev {r}/dev; mkdir -p {r}/run/sshd; "
              f"exec chroot {r} {shlex.join(sshd)}")
    log = open(state / "sshd.log", "wb")
    proc = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "QEMU_CPU": emulation.qemu_cpu})
    log.close()
    device = EmulatedDevice(name or f"{emulation.target}-emulated", emulation, Path(rootfs), port, state, proc.pid,
                            namespace="")
    _wait_listening(device, proc)
    device = replace(device, namespace=os.readlink(f"/proc/{proc.pid}/ns/mnt"))
    device.inventory.write_text(
        f"# {emulation.model}; written by `edgekit emulate`, valid while it runs\n"
        f"[devices.{json.dumps(device.name)}]\nurl = {json.dumps(device.url)}\npython = \"python3\"\n"
        f"ssh_options = [{', '.join(json.dumps(o) for o in device.ssh_options)}]\n")
    return device


def stop(device: EmulatedDevice) -> None:
    """End sshd and every process still in the guest's namespace (sessions sshd left behind); the kernel then
    drops its mounts."""
    try:
        os.killpg(device.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + 10
    while device.namespace and (left := processes_in(device.namespace)) and time.monotonic() < deadline:
        for pid in left:
            _kill(pid, signal.SIGTERM if time.monotonic() < deadline - 5 else signal.SIGKILL)
        time.sleep(0.2)
    try:
        os.waitpid(device.pid, os.WNOHANG)
    except ChildProcessError:
        pass


def processes_in(namespace: str) -> list[int]:
    """Processes in one guest's mount namespace (another guest of the same rootfs has its own)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "ns/mnt") == namespace:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _authorize(rootfs: Path, emulation: Emulation, state: Path, port: int) -> None:
    """A client key of this state directory, authorized for the guest's user; the guest's host key, known."""
    key = state / "client_key"
    if not key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "edgekit-emulate", "-f", str(key)],
                       check=True)
    home = Path(rootfs) / guest_home(emulation).lstrip("/")
    ssh_dir = home / ".ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    authorized = ssh_dir / "authorized_keys"
    # appended: guests of one rootfs (each with its own state directory) run side by side
    known = authorized.read_text() if authorized.exists() else ""
    mine = (state / "client_key.pub").read_text()
    if mine.strip() not in known:
        authorized.write_text(known + mine)
    uid, gid = home.stat().st_uid, home.stat().st_gid
    for path in (ssh_dir, authorized):
        os.chown(path, uid, gid)
    os.chmod(authorized, 0o600)
    host_key = (Path(rootfs) / "etc/ssh/ssh_host_ed25519_key.pub").read_text().split()
    (state / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n")


def _wait_listening(device: EmulatedDevice, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log = (device.state / "sshd.log").read_text(errors="replace").strip()
            raise DeviceError("The emulated device's sshd exited at start.", got=log[-400:] or f"status {proc.returncode}",
                              tip=f"Its log: {device.state / 'sshd.log'}. Run again with --debug.")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", device.port)) == 0:
                return
        time.sleep(0.1)
    stop(device)
    raise DeviceError(f"The emulated device's sshd did not listen within {START_TIMEOUT_S} s.",
                      got=f"127.0.0.1:{device.port}", tip=f"Its log: {device.state / 'sshd.log'}.")
