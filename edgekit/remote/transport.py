"""Run commands on a device and copy directories to it: the system OpenSSH client and rsync, or the local disk.

Every command is an argument list. For SSH the remote command line is built with shlex quoting, so host,
user, paths and app arguments are never interpreted by a shell on either side; rsync gets --protect-args for
the same reason. The user's ssh config and agent apply (BatchMode: a password prompt fails instead of hanging).
"""

from __future__ import annotations

import shlex
import shutil
import signal
import subprocess
from pathlib import Path

from edgekit.errors import EdgekitError
from edgekit.remote._shared_ssh import SharedConnection, start_shared, user_manages_sharing
from edgekit.remote.address import Device

SSH_UNREACHABLE = 255  # what ssh exits with when it cannot connect or authenticate
# ssh also exits 255 when the remote process dies of a signal; run there as a child of sh, such a death becomes
# sh's exit status 128 + the signal's number, and 255 again means only that ssh failed
_SIGNAL_STATUS = 'rc=0; "$@" || rc=$?; exit "$rc"'
SIGNAL_CAUSES = {
    "SIGKILL": "Often the kernel's out-of-memory killer: check `dmesg` and free memory on the device, or use a "
               "smaller precision (int8) or fewer threads.",
    "SIGSEGV": "A crash inside a native library (the runtime): often a wheel built for another CPU or glibc, or a "
               "model the runtime mishandles; run it on the device with --debug and report the runtime version.",
    "SIGILL": "The runtime used a CPU instruction this device lacks: its wheel was built for a newer CPU.",
    "SIGBUS": "A memory access the device could not serve: a damaged file on its storage, or a full disk.",
    "SIGABRT": "A native library aborted; its message is in the output above.",
}


class DeviceError(EdgekitError):
    """A device could not be reached, or a command on it failed."""

    exit_code = 5


class AppFailed(EdgekitError):
    """The app ran on the device and exited nonzero (its output says why)."""

    exit_code = 8


def _tool(name: str, package: str) -> str:
    from edgekit._lazy import require_program

    return require_program(name, purpose="Reaching devices", package=package)


class Transport:
    def __init__(self, device: Device):
        self.device = device
        self._shared: SharedConnection | None = None  # one SSH connection for all commands (remote/_shared_ssh.py)
        self._share_tried = False

    def command(self, argv: list[str]) -> list[str]:
        """The local argv that runs ``argv`` on the device."""
        if self.device.kind == "local":
            return list(argv)
        ssh = [_tool("ssh", "openssh-client"), *self._ssh_options(), self.device.destination]
        return [*ssh, "--", shlex.join(["sh", "-c", _SIGNAL_STATUS, "edgekit", *argv])]

    def _connection_options(self) -> list[str]:
        d = self.device
        opts = ["-o", "BatchMode=yes", "-o", "ConnectTimeout=10"]
        if d.port:
            opts += ["-p", str(d.port)]
        return opts + list(d.ssh_options)

    def _ssh_options(self) -> list[str]:
        """The connection's options, through this Transport's shared connection (started by the first command)."""
        if not self._share_tried:
            self._share_tried = True
            if not user_manages_sharing(self.device.ssh_options):
                self._shared, failed = start_shared(_tool("ssh", "openssh-client"), self._connection_options(),
                                                    self.device.destination)
                if failed is not None:  # cannot connect: the error any command would get; otherwise go unshared
                    self.check_reachable(failed)
        return self._connection_options() + (self._shared.options if self._shared else [])

    def run(self, argv: list[str], *, check: bool = True, capture: bool = True, timeout: float | None = 600,
            what: str = "") -> subprocess.CompletedProcess:
        """Run on the device; a failure to connect or a nonzero exit (when ``check``) is a DeviceError."""
        try:
            proc = subprocess.run(self.command(argv), capture_output=capture, text=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            raise DeviceError(f"Device '{self.device.name}' did not finish {what or argv[0]} in {timeout:.0f} s.",
                              got=shlex.join(argv)[:200]) from exc
        self.check_reachable(proc)
        self.check_signal(proc.returncode, what or argv[0], proc.stderr)
        if check and proc.returncode != 0:
            err = [ln for ln in (proc.stderr or "").strip().splitlines() if ln.strip()]
            said = [ln[len("ERROR: "):] for ln in err if ln.startswith("ERROR: ")]  # edgekit's own, on the device
            tips = [ln[len("TIP: "):] for ln in err if ln.startswith("TIP: ")]
            raise DeviceError(f"{what or 'A command'} failed on device '{self.device.name}' (exit {proc.returncode}).",
                              got=(said[-1] if said else err[-1] if err else shlex.join(argv))[:400],
                              tip=tips[-1] if tips else "Run again with --debug for the full output.")
        return proc

    def check_reachable(self, proc: subprocess.CompletedProcess) -> None:
        if self.device.kind == "ssh" and proc.returncode == SSH_UNREACHABLE:
            err = [ln for ln in (proc.stderr or "").strip().splitlines() if ln.strip()]
            raise DeviceError(f"Cannot reach device '{self.device.name}' over SSH.",
                              got=(err[-1] if err else f"ssh exit {SSH_UNREACHABLE}")[:300],
                              tip="Check the host, port and user, that `ssh` to it works without a password "
                              "prompt (key in the agent or ssh config), and that sshd runs there.")

    def signal_of(self, returncode: int) -> signal.Signals | None:
        """The signal that killed the device's process, if one did (a local child's negative status, or 128 + n
        from the shell ``command`` runs an SSH device's program in)."""
        number = -returncode if returncode < 0 else returncode - 128 if (
            self.device.kind == "ssh" and 128 < returncode < SSH_UNREACHABLE) else None
        try:
            return signal.Signals(number) if number else None
        except ValueError:
            return None

    def check_signal(self, returncode: int, what: str, stderr: str | None = None) -> None:
        killed = self.signal_of(returncode)
        if killed is None:
            return
        err = [ln for ln in (stderr or "").strip().splitlines() if ln.strip()]
        raise DeviceError(f"{what} on device '{self.device.name}' was killed by {killed.name} (signal "
                          f"{killed.value}); the device is reachable.",
                          got=(err[-1] if err else f"exit status {returncode}")[:300],
                          tip=SIGNAL_CAUSES.get(killed.name, "Something on the device stopped it."))

    def check_tools(self) -> None:
        """The programs reaching this device takes (ssh, rsync) are installed: checked before anything changes."""
        if self.device.kind == "ssh":
            _tool("ssh", "openssh-client")
            _tool("rsync", "rsync")

    def sync(self, local_dir: Path, remote_dir: str, bwlimit_kbps: int | None = None) -> None:
        """Make ``remote_dir`` an exact copy of ``local_dir`` (rsync over ssh: only changed files move; partial
        files stay in ``remote_dir``, which is a staging directory, never the live one). A local device is copied
        to directly: no rsync needed."""
        if self.device.kind == "local":
            try:
                shutil.rmtree(remote_dir, ignore_errors=True)
                shutil.copytree(local_dir, remote_dir)
            except OSError as exc:
                raise DeviceError(f"Copying to device '{self.device.name}' failed ({exc.strerror or exc}).",
                                  got=str(exc.filename or remote_dir), tip="Check free space and permissions there.") from exc
            return
        rsync = _tool("rsync", "rsync")
        argv = [rsync, "-a", "--delete", "--checksum", "--protect-args"]
        if bwlimit_kbps:
            argv.append(f"--bwlimit={int(bwlimit_kbps)}")
        if self.device.kind == "ssh":
            argv += ["-e", shlex.join(["ssh", *self._ssh_options()]),
                     f"{local_dir}/", f"{self.device.destination}:{remote_dir}/"]
        else:
            argv += [f"{local_dir}/", f"{remote_dir}/"]
        proc = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            err = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
            if self.device.kind == "ssh" and proc.returncode == SSH_UNREACHABLE:  # rsync passes on ssh's failure
                self.check_reachable(subprocess.CompletedProcess(argv, SSH_UNREACHABLE, "", proc.stderr))
            raise DeviceError(f"Copying to device '{self.device.name}' failed (rsync exit {proc.returncode}).",
                              got=(err[-1] if err else "")[:300], tip="Check free space and permissions there.")


# `python -m` puts the working directory first on sys.path: an `edgekit` directory in the device user's home (a clone
# of this repo, say) would be imported instead of the release's. The agent is started by a bootstrap that puts the
# release's lib first and leaves the working directory off the path (-P does that only from Python 3.11).
_AGENT_BOOT = ("import runpy, sys; sys.path[0] = sys.argv.pop(1); "
               "runpy.run_module('edgekit.agent', run_name='__main__', alter_sys=True)")


def device_agent(device: Device, lib: str | None = None) -> list[str]:
    """argv prefix that runs ``python -m edgekit.agent`` on the device, from the current release's lib (or ``lib``),
    with the flashed venv's Python if there is one (what `run`, `profile`, `bench` and `flash` start it with)."""
    # unbuffered: without a terminal Python buffers stdout in blocks, and `edgekit run` must stream line by line
    script = ('root="$1"; py="$root/venv/bin/python"; [ -x "$py" ] || py="$2"; lib="$3"; shift 3; '
              f'PYTHONUNBUFFERED=1 PYTHONPATH="$lib" exec "$py" -c "{_AGENT_BOOT}" "$lib" "$@"')
    return ["sh", "-c", script, "edgekit", device.path, device.python, lib or f"{device.path}/current/lib"]


def agent_argv(device: Device, command: str, *args: str) -> list[str]:
    """``python -m edgekit.agent COMMAND ROOT ARGS`` on the device, with the current release's agent."""
    return [*device_agent(device), command, device.path, *args]


def app_argv(device: Device, *args: str) -> list[str]:
    """The flashed app itself, with ``args`` (e.g. --demo), started by the agent (edgekit.agent.run_flashed_app).
    Checked by the shell first: with nothing flashed there is no agent on the device either."""
    from edgekit.agent.__main__ import NOT_FLASHED

    check = ('[ -f "$1/current/app/app.py" ] || { echo "ERROR: Nothing is flashed in $1 on this device (no '
             'current/app/app.py)." >&2; echo "TIP: edgekit flash BUNDLE DEVICE first (edgekit package makes the '
             f'bundle)." >&2; exit {NOT_FLASHED}; }}; shift; exec "$@"')
    return ["sh", "-c", check, "edgekit", device.path, *device_agent(device), "app", device.path, *args]
