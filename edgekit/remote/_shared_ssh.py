"""One SSH connection per edgekit command, shared by every ssh and rsync the command starts (OpenSSH's ControlMaster).

A flash sends about eight commands (mkdir, the Python check, readlink, the upload, the signature check, the
activation, the runtime's install); each new connection costs a key exchange and an authentication — 0.65-0.78 s
on the emulated Pi, against 0.08-0.09 s for a command over an open connection (measured with `time ssh … true`).

The shared connection (the "master") belongs to one Transport of one edgekit process: its socket, named after the
process, lives in $TMPDIR/edgekit-ssh-<uid> (0700, this user's alone), so two edgekit commands never share one. It is
closed when the Transport goes (at the latest when the process exits); a process killed before it can close it
(SIGKILL) leaves a master with no clients, which exits by itself after IDLE_SECONDS and removes its socket. A user
who manages connections in their own ssh options (ControlMaster / ControlPath / ControlPersist, -S, -M) keeps them:
edgekit then adds nothing."""

from __future__ import annotations

import os
import secrets
import stat
import subprocess
import tempfile
import weakref
from pathlib import Path

IDLE_SECONDS = 60  # how long a master with no client lives (its edgekit was killed, or is busy on its own side)
START_TIMEOUT = 60  # the master's connection and authentication; BatchMode means nothing waits for a prompt

# A unix socket's path holds at most 104 bytes (macOS; 108 on Linux), and the master first binds the path plus
# ".<16 hex digits>": with a longer $TMPDIR, no sharing (the commands connect one by one, as without it)
MAX_TMPDIR = 104 - 1 - len("/edgekit-ssh-4294967295/4194304-12345678") - 17

_USER_MANAGED = ("controlmaster", "controlpath", "controlpersist")


def user_manages_sharing(ssh_options: tuple[str, ...]) -> bool:
    """The user's own ssh options decide about shared connections (edgekit then adds none)."""
    return any(o.startswith(("-S", "-M")) or o.lower().removeprefix("-o").lstrip().startswith(_USER_MANAGED)
               for o in ssh_options)


class SharedConnection:
    """A started master: ``options`` route an ssh (or rsync's ssh) through it."""

    def __init__(self, ssh: str, ssh_options: list[str], destination: str, socket: Path):
        self.options = ["-o", f"ControlPath={socket}", "-o", "ControlMaster=no"]
        close = [ssh, *ssh_options, "-o", f"ControlPath={socket}", "-O", "exit", destination]
        # when the Transport holding it goes (its function returns), or at the latest when the process exits
        weakref.finalize(self, _close, close, socket)


def _close(argv: list[str], socket: Path) -> None:
    try:
        subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        pass  # the master exits by itself after IDLE_SECONDS without clients
    socket.unlink(missing_ok=True)


def _socket_directory() -> Path | None:
    """$TMPDIR/edgekit-ssh-<uid>: made 0700 if missing; None unless it is this user's own directory and no one
    else's (another user could have made it first in a shared /tmp)."""
    tmp = tempfile.gettempdir()
    if len(tmp) > MAX_TMPDIR:
        return None
    directory = Path(tmp) / f"edgekit-ssh-{os.getuid()}"
    try:
        directory.mkdir(mode=0o700, exist_ok=True)
        st = os.lstat(directory)
    except OSError:
        return None
    mine = stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o077
    return directory if mine else None


def start_shared(ssh: str, ssh_options: list[str], destination: str
                 ) -> tuple[SharedConnection | None, subprocess.CompletedProcess | None]:
    """Connect and authenticate once; return the connection, or (None, the failed start) when ssh could not —
    the caller reports a failure to connect as it would for any command, and runs without sharing otherwise."""
    directory = _socket_directory()
    if directory is None:
        return None, None
    socket = directory / f"{os.getpid()}-{secrets.token_hex(4)}"
    # -f: ssh goes to the background once authenticated (with its stdio on /dev/null), so this returns then;
    # -N: no command, the connection only carries the later ones
    argv = [ssh, *ssh_options, "-o", "ControlMaster=yes", "-o", f"ControlPath={socket}",
            "-o", f"ControlPersist={IDLE_SECONDS}", "-N", "-f", destination]
    try:
        # stderr to a file, not a pipe: the backgrounded master must not hold a pipe this process waits on
        with tempfile.TemporaryFile() as err:
            proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                  timeout=START_TIMEOUT)
            err.seek(0)
            stderr = err.read().decode(errors="replace")
    except (OSError, subprocess.TimeoutExpired):
        return None, None
    if proc.returncode != 0 or not socket.exists():
        return None, subprocess.CompletedProcess(argv, proc.returncode, "", stderr)
    return SharedConnection(ssh, ssh_options, destination, socket), None
