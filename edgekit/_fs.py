"""Atomic file and directory writes: a crash or an error never leaves half-written output."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path


def _umask() -> int:
    """The process umask, read, not set: os.umask() would change it for every thread for a moment."""
    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1], 8) for line in fh if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError):
        return 0o022


def _file_mode() -> int:
    """0o666 minus the umask: what open() would have given. mkstemp makes 0600 files, and a report or bundle
    that only its creator can read surprises whoever serves or shares build/."""
    return 0o666 & ~_umask()


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale(directory: Path, prefix: str) -> None:
    """Remove ``<prefix><pid>.*`` entries of ``directory`` left by a process that no longer runs (killed before
    its cleanup ran): a SIGKILLed convert left a whole SavedModel in $TMPDIR each time. Entries of live processes
    (a concurrent run) are left alone."""
    with contextlib.suppress(OSError):
        for entry in Path(directory).iterdir():
            rest = entry.name[len(prefix):] if entry.name.startswith(prefix) else ""
            pid = rest.split(".", 1)[0]
            if pid.isdigit() and int(pid) != os.getpid() and not _process_alive(int(pid)):
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)


@contextlib.contextmanager
def scratch_directory(prefix: str):
    """A temporary directory ``$TMPDIR/<prefix><pid>.<random>`` removed afterwards; stale ones of killed runs
    are removed first."""
    root = Path(tempfile.gettempdir())
    remove_stale(root, prefix)
    path = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}.", dir=root))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


MIN_FREE_BYTES = 64 << 20  # below this a conversion or a bundle would fail part-way: refused up front


def check_writable(path: Path, option: str) -> None:
    """``path`` (a directory, made if missing) can be written: checked before any heavy work, by creating a file in
    its nearest existing ancestor (os.access says yes on a read-only mount for root), and with room left."""
    from edgekit.errors import OutputError

    path = Path(path)
    probe = path.absolute()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    tip = f"Choose another {option}, or fix the one given."
    if not probe.is_dir():
        raise OutputError(f"{option} cannot be made: {probe} is a file, not a directory.", got=f"{option} {path}", tip=tip)
    try:
        fd, name = tempfile.mkstemp(prefix=".edgekit-write-check.", dir=probe)
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        raise OutputError(f"{option} is not writable: {probe} ({exc.strerror or exc}).", got=f"{option} {path}",
                          tip=tip) from exc
    free = shutil.disk_usage(probe).free
    if free < MIN_FREE_BYTES:
        raise OutputError(f"Only {free / 2**20:.1f} MiB are free where {option} writes ({probe}); edgekit needs at "
                          f"least {MIN_FREE_BYTES >> 20} MiB.", got=f"{option} {path}",
                          tip=f"Free space there, or choose another {option}.")


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, obj) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


@contextlib.contextmanager
def staged_directory(final: Path, before_replace=None):
    """Yield an empty staging directory beside ``final``; on success it replaces ``final`` in one rename
    (``before_replace()`` runs just before: e.g. dropping a summary that would describe the old ``final``)."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    _recover(final)
    stage = Path(tempfile.mkdtemp(prefix=f".{final.name}.{os.getpid()}.", suffix=".staging", dir=final.parent))
    try:
        yield stage
        # mkdtemp makes 0700: another user or a CI collector could not read build/
        mode = 0o777 & ~_umask()
        for d in [stage, *(p for p in stage.rglob("*") if p.is_dir())]:
            os.chmod(d, mode)
        for f in stage.rglob("*"):
            if f.is_file():
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
        if before_replace is not None:
            before_replace()
        old = None
        if final.exists():
            old = final.with_name(f".{final.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(final, old)
        os.replace(stage, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _recover(final: Path) -> None:
    """Before a new staging of ``final``: a run killed between its two renames left the previous directory as
    ``.<name>.old`` and no ``final``: it is put back. Stale staging directories of killed runs are removed."""
    old = final.with_name(f".{final.name}.old")
    if old.is_dir():
        if final.exists():  # killed after the swap, before removing the old copy
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(old, final)
    remove_stale(final.parent, f".{final.name}.")


def file_sha256(path: Path) -> str:
    """sha256 of a file, or of a directory's files (with their relative names), read in chunks."""
    path = Path(path)
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        h.update(str(f.relative_to(path) if path.is_dir() else f.name).encode())
        with f.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()
