"""The bundle manifest: what a bundle holds (sha256 of every file), what it needs, how to start it.

A manifest is checked whole before anything on a device changes: its keys and their types, that the entry point
and the artifact it names are among its files, and (by name, before any file is read) that the bundle holds
exactly the files it lists."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path, PurePosixPath

from edgekit.errors import InputFileError

SCHEMA = "edgekit.bundle/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.sig"  # edgekit.bundle.signing: signs the manifest, so it is not listed in it
CHUNK = 1 << 20
# what the device needs to verify, start and install a release: refused before the switch when missing
REQUIRED = {"app": str, "model": str, "target": str, "runtime": str, "format": str, "precision": str,
            "artifact": str, "entry_point": str, "requirements": list, "files": dict}
# the workstation's records of its measurements (timings differ on every conversion of the same artifact): shipped
# for `profile` to compare with, not part of what the device runs (edgekit.remote.flash.release_id)
MEASUREMENTS = ("model/report.json", "model/ops.json", "model/layers.json")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_REPACK = "Package the app again with `edgekit package`."


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_stream(read, sink=None) -> str:
    """sha256 of what ``read(n)`` yields until it is empty, written on to ``sink`` (a binary file) as it goes:
    a bundle's files are never held in memory whole."""
    digest = hashlib.sha256()
    while chunk := read(CHUNK):
        digest.update(chunk)
        if sink is not None:
            sink.write(chunk)
    return digest.hexdigest()


def manifest_bytes(manifest: dict) -> bytes:
    return (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8")


def parse_manifest(data: bytes, where: str) -> dict:
    """A manifest from its bytes, with every key the device needs, of the right type."""
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputFileError("The bundle's manifest.json is not valid JSON.", got=f"{where}: {exc}", tip=_REPACK) from exc
    if not isinstance(manifest, dict) or manifest.get("schema") != SCHEMA:
        got = f"schema {manifest.get('schema')!r}" if isinstance(manifest, dict) else f"a JSON {type(manifest).__name__}"
        raise InputFileError("Not an edgekit bundle manifest.", got=f"{got} in {where}", tip=_REPACK)
    wrong = [f"{k} ({'missing' if k not in manifest else type(manifest[k]).__name__ + ', not ' + t.__name__})"
             for k, t in REQUIRED.items() if not isinstance(manifest.get(k), t)]
    files = manifest.get("files") if isinstance(manifest.get("files"), dict) else {}
    wrong += [f"files[{k!r}] (not a sha256)" for k, v in files.items() if not (isinstance(v, str) and _SHA256.fullmatch(v))]
    wrong += [f"requirements ({r!r} is not a string)" for r in manifest.get("requirements") or [] if not isinstance(r, str)]
    if wrong:
        raise InputFileError("The bundle's manifest lacks what a device needs, so it is refused.",
                             got=f"{where}: {', '.join(wrong[:5])}{' …' if len(wrong) > 5 else ''}", tip=_REPACK)
    needed = {"entry point": manifest["entry_point"], "artifact": f"model/{manifest['artifact']}"}
    absent = [f"{what} {name!r}" for what, name in needed.items() if name not in files]
    if absent:
        raise InputFileError("The bundle's manifest names files it does not list, so it is refused.",
                             got=f"{where}: {', '.join(absent)}", tip=_REPACK)
    return manifest


def check_names(manifest: dict, present: set[str], where: str) -> None:
    """The bundle holds exactly the files its manifest lists (besides the manifest): decided by name, before
    any file's content is read."""
    listed = set(manifest["files"])
    present = present - {MANIFEST, SIGNATURE}
    _refuse_if(where, missing=sorted(listed - present), unlisted=sorted(present - listed))


def check_digests(manifest: dict, digests: dict[str, str], where: str) -> None:
    _refuse_if(where, mismatch=sorted(k for k, v in digests.items() if manifest["files"].get(k) != v))


def _refuse_if(where: str, *, missing=(), unlisted=(), mismatch=()) -> None:
    found = (("checksum mismatch", mismatch), ("missing", missing), ("unlisted", unlisted))
    detail = "; ".join(f"{label}: {', '.join(v[:5])}{' …' if len(v) > 5 else ''}" for label, v in found if v)
    if detail:
        raise InputFileError("The bundle's files do not match its manifest, so it is refused.", got=f"{where}: {detail}",
                             tip="The bundle was damaged or altered; package it again with `edgekit package`.")


def tree_files(root: Path) -> list[Path]:
    """All regular files under an unpacked bundle (links are refused). Python's bytecode caches (__pycache__,
    written when the device runs the app) are not part of a release."""
    root = Path(root)
    files = []
    for p in sorted(root.rglob("*")):
        if "__pycache__" in p.relative_to(root).parts:
            continue
        if p.is_symlink():
            raise InputFileError("A link was found inside an unpacked bundle.", got=str(p))
        if p.is_file():
            files.append(p)
    return files


def verify_tree(root: Path) -> dict:
    """Check an unpacked bundle directory against its manifest (keys, names, then every sha256, streamed);
    return the manifest."""
    root = Path(root)
    path = root / MANIFEST
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputFileError("The bundle has no readable manifest.json.", got=str(path)) from exc
    manifest = parse_manifest(data, str(root))
    files = {PurePosixPath(p.relative_to(root).as_posix()).as_posix(): p for p in tree_files(root)}
    check_names(manifest, set(files), str(root))
    digests = {}
    for name, p in files.items():
        if name not in (MANIFEST, SIGNATURE):
            with open(p, "rb") as fh:
                digests[name] = sha256_stream(fh.read)
    check_digests(manifest, digests, str(root))
    return manifest
