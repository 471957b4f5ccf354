"""A real OpenSSH server on a free loopback port, for tests of flash / run / profile.

Everything it uses lives in a temporary directory: its own host key, config, authorized key, client key and
known_hosts. No system file is read or changed, except that sshd's privilege separation needs the empty
directory /run/sshd when it runs as root; it is created if missing (as Debian's init script does at boot).
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from edgekit.emulate.device import free_port

SSHD = next((p for p in ("/usr/sbin/sshd", shutil.which("sshd") or "") if p and os.path.exists(p)), None)


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)


class LoopbackSshd:
    def __init__(self, root: Path, log_level: str = "ERROR"):
        self.root, self.port, self.user = Path(root), free_port(), getpass.getuser()
        for name in ("host_key", "client_key"):
            _keygen(self.root / name)
        (self.root / "authorized_keys").write_text((self.root / "client_key.pub").read_text())
        os.chmod(self.root / "authorized_keys", 0o600)
        host_pub = (self.root / "host_key.pub").read_text().split()
        (self.root / "known_hosts").write_text(f"[127.0.0.1]:{self.port} {host_pub[0]} {host_pub[1]}\n")
        (self.root / "sshd_config").write_text("\n".join([
            f"Port {self.port}", "ListenAddress 127.0.0.1", f"HostKey {self.root / 'host_key'}",
            f"PidFile {self.root / 'sshd.pid'}", f"AuthorizedKeysFile {self.root / 'authorized_keys'}",
            "PubkeyAuthentication yes", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
            "UsePAM no", "StrictModes no", "PermitRootLogin prohibit-password", f"LogLevel {log_level}",
            f"SetEnv PATH={os.environ.get('PATH', '/usr/bin:/bin')}", "",
        ]))
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(self.root / "sshd_config")],
                                     stdout=subprocess.DEVNULL, stderr=open(self.root / "sshd.log", "wb"))
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sshd exited: {(self.root / 'sshd.log').read_text()[-500:]}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("sshd did not start listening")

    def ssh_options(self, key: str = "client_key") -> list[str]:
        return ["-i", str(self.root / key), "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=yes",
                "-o", f"UserKnownHostsFile={self.root / 'known_hosts'}", "-o", "LogLevel=ERROR"]

    def url(self, path: Path | str) -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}{path}"

    def logins(self) -> int:
        """How many connections authenticated so far (sshd logs each at LogLevel INFO or more verbose)."""
        return (self.root / "sshd.log").read_text(errors="replace").count("Accepted publickey")

    def sessions(self) -> list[int]:
        """The pids of the connections open now: sshd serves each in a child process."""
        children = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                if f"\nPPid:\t{self.proc.pid}\n" in status.read_text():
                    children.append(int(status.parent.name))
            except OSError:
                continue
        return children

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def inventory_file(sshd: LoopbackSshd, path: Path, name: str, device_dir: Path, python: str = sys.executable,
                   key: str = "client_key") -> Path:
    """An inventory file naming one device on the loopback sshd."""
    opts = ", ".join(json.dumps(o) for o in sshd.ssh_options(key))
    path.write_text(f'[devices.{name}]\nurl = "{sshd.url(device_dir)}"\npython = "{python}"\n'
                    f"ssh_options = [{opts}]\n")
    return path
