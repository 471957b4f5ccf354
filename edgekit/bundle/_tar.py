"""Deterministic .tar.gz writing and extraction that never leaves its destination."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from edgekit._fs import atomic_write_bytes
from edgekit.bundle.manifest import MANIFEST, SIGNATURE, check_digests, check_names, parse_manifest, sha256_stream
from edgekit.errors import InputFileError, OutputError, UsageError


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
    packed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=packed, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    # a unique temporary name, removed on any error: three packages into one --out once raced on one fixed name
    atomic_write_bytes(out, packed.getvalue())


@dataclass(frozen=True)
class Limits:
    """How much a bundle may hold, checked from the archive's headers before any file is read: a small archive
    can unpack to gigabytes. EDGEKIT_BUNDLE_MAX_FILES and EDGEKIT_BUNDLE_MAX_BYTES raise them."""

    files: int = 10_000
    total_bytes: int = 1 << 30  # 1 GiB unpacked: far above any edge model edgekit builds

    @classmethod
    def from_env(cls) -> Limits:
        values = {}
        for field, var in (("files", FILES_ENV), ("total_bytes", BYTES_ENV)):
            text = os.environ.get(var)
            if text is None:
                continue
            if not text.strip().isdigit() or int(text) <= 0:
                raise UsageError(f"{var} must be a positive whole number.", got=repr(text))
            values[field] = int(text)
        return cls(**values)


FILES_ENV, BYTES_ENV = "EDGEKIT_BUNDLE_MAX_FILES", "EDGEKIT_BUNDLE_MAX_BYTES"
MANIFEST_MAX_BYTES = 16 << 20


def _refuse(bundle: Path, member: str, why: str) -> InputFileError:
    return InputFileError(f"Refusing to extract the bundle: entry '{member}' {why}.", got=str(bundle),
                          tip="The bundle is damaged or was not made by `edgekit package`; package it again.")


def _check_member(bundle: Path, m: tarfile.TarInfo) -> str:
    """A member's normalised name, after checking its path and type."""
    path = PurePosixPath(m.name)
    if path.is_absolute() or m.name.startswith(("/", "\\")):
        raise _refuse(bundle, m.name, "is an absolute path")
    if ".." in path.parts:
        raise _refuse(bundle, m.name, "climbs out of the destination ('..')")
    if m.issym() or m.islnk():
        raise _refuse(bundle, m.name, f"is a link (to '{m.linkname}'); bundles hold regular files only")
    if not (m.isfile() or m.isdir()):
        raise _refuse(bundle, m.name, "is a device, FIFO or other special file")
    return path.as_posix()


def _file_members(bundle: Path, tar: tarfile.TarFile, limits: Limits) -> dict[str, tarfile.TarInfo]:
    """Every file member by name, from the headers alone: paths, types, duplicates, file/directory clashes,
    count and unpacked size are checked before any content is read."""
    files: dict[str, tarfile.TarInfo] = {}
    dirs: set[str] = set()
    total = count = 0
    while (m := tar.next()) is not None:
        count += 1
        if count > limits.files:
            raise InputFileError(f"The bundle has more than {limits.files} entries, so it is refused.", got=str(bundle),
                                 tip=f"Bundles edgekit makes hold a few hundred; raise {FILES_ENV} if this one is yours.")
        name = _check_member(bundle, m)
        if name in files or (m.isfile() and name in dirs):
            raise _refuse(bundle, name, "appears twice (an extractor would keep either one)")
        if m.isdir():
            dirs.add(name)
            continue
        total += m.size
        if total > limits.total_bytes:
            raise InputFileError(f"The bundle unpacks to more than {limits.total_bytes:,} bytes, so it is refused.",
                                 got=f"{bundle}: {name} reaches {total:,} bytes",
                                 tip=f"Raise {BYTES_ENV} (bytes) if the bundle is yours and that large.")
        files[name] = m
    for name in files:
        clash = next((str(p) for p in PurePosixPath(name).parents if str(p) in files), None)
        if clash:
            raise _refuse(bundle, clash, f"is a file and also the directory of '{name}'")
    return files


def unpack_checked(bundle: Path, dest: Path | None = None, limits: Limits | None = None) -> dict:
    """Check ``bundle`` completely and return its manifest; with ``dest`` (which must not exist yet) its files are
    written there as they are hashed. In order: every header (no file read yet), the manifest (keys the device
    needs), the listed names against the members, then each file's sha256, streamed. The caller removes ``dest``
    when this raises."""
    limits = limits or Limits.from_env()
    try:
        with tarfile.open(bundle, "r:gz") as tar:
            files = _file_members(bundle, tar, limits)
            if MANIFEST not in files:
                raise InputFileError("The bundle has no manifest.json.", got=str(bundle),
                                     tip="Package it again with `edgekit package`.")
            if files[MANIFEST].size > MANIFEST_MAX_BYTES:
                raise _refuse(bundle, MANIFEST, f"is {files[MANIFEST].size:,} bytes; a manifest is a few KiB")
            manifest = parse_manifest(tar.extractfile(files[MANIFEST]).read(), str(bundle))
            check_names(manifest, set(files), str(bundle))
            digests = {name: _copy(tar.extractfile(m), dest, name) for name, m in sorted(files.items())}
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise InputFileError(f"The bundle is not a readable .tar.gz ({exc}).", got=str(bundle),
                             tip="Package it again with `edgekit package`.") from exc
    except FileNotFoundError as exc:
        raise InputFileError("The bundle does not exist.", got=str(bundle),
                             tip="Make one with `edgekit package <app> --target <target>`.") from exc
    digests.pop(MANIFEST)
    digests.pop(SIGNATURE, None)
    check_digests(manifest, digests, str(bundle))
    return manifest


def _copy(src, dest: Path | None, name: str) -> str:
    """sha256 of one member, written to ``dest/name`` when there is a destination."""
    if dest is None:
        return sha256_stream(src.read)
    target = Path(dest) / name
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "xb") as out:
            digest = sha256_stream(src.read, out)
    except OSError as exc:
        raise OutputError(f"Cannot unpack the bundle into {dest} ({exc.strerror or exc}).", got=str(target),
                          tip="Free space in the temporary directory (TMPDIR) and try again.") from exc
    if "/" not in name and name.endswith(".py"):
        target.chmod(0o755)
    return digest


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
