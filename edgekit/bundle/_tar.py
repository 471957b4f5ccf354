"""Deterministic .tar.gz writing and extraction that never leaves its destination."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from pathlib import Path, PurePosixPath

from edgekit.errors import InputFileError


def write_deterministic(out: Path, files: dict[str, bytes]) -> None:
    """A .tar.gz of ``files`` (archive path -> bytes): sorted names, mtime 0, owner 0, mode 0644, gzip header
    without name or time, so the same files always give the same bytes. Written atomically."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            data = files[name]
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    with open(tmp, "wb") as fh:
        with gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0, compresslevel=9) as gz:
            gz.write(raw.getvalue())
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, out)


def _refuse(bundle: Path, member: str, why: str) -> InputFileError:
    return InputFileError(f"Refusing to extract the bundle: entry '{member}' {why}.", got=str(bundle),
                          tip="The bundle is damaged or was not made by `edgekit package`; package it again.")


def safe_members(bundle: Path, tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """Every member, checked: regular files and directories only, relative paths that stay inside."""
    members = tar.getmembers()
    for m in members:
        path = PurePosixPath(m.name)
        if path.is_absolute() or m.name.startswith(("/", "\\")):
            raise _refuse(bundle, m.name, "is an absolute path")
        if ".." in path.parts:
            raise _refuse(bundle, m.name, "climbs out of the destination ('..')")
        if m.issym() or m.islnk():
            raise _refuse(bundle, m.name, f"is a link (to '{m.linkname}'); bundles hold regular files only")
        if not (m.isfile() or m.isdir()):
            raise _refuse(bundle, m.name, "is a device, FIFO or other special file")
    return members


def read_checked(bundle: Path) -> dict[str, bytes]:
    """Every file of ``bundle`` (archive path -> bytes), read only after every member passed the checks, so a
    hostile archive is refused before anything is written; the caller verifies checksums, then writes."""
    try:
        with tarfile.open(bundle, "r:gz") as tar:
            files = {}
            for m in safe_members(bundle, tar):
                if m.isfile():
                    files[str(PurePosixPath(m.name))] = tar.extractfile(m).read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise InputFileError(f"The bundle is not a readable .tar.gz ({exc}).", got=str(bundle),
                             tip="Package it again with `edgekit package`.") from exc
    return files


def write_tree(dest: Path, files: dict[str, bytes]) -> None:
    """Write checked files under ``dest`` (which must not exist yet); every path is re-checked to stay inside."""
    dest = Path(dest)
    root = dest.resolve()
    for name, data in files.items():
        target = (dest / name).resolve()
        if root not in target.parents:
            raise InputFileError(f"Refusing to write '{name}' outside {dest}.", got=name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if name.endswith(".py") and "/" not in name:
            target.chmod(0o755)
