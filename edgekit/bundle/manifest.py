"""The bundle manifest: what a bundle holds (sha256 of every file), what it needs, how to start it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from edgekit.errors import InputFileError

SCHEMA = "edgekit.bundle/1"
MANIFEST = "manifest.json"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_bytes(manifest: dict) -> bytes:
    return (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8")


def check_files(manifest: dict, files: dict[str, bytes], where: str) -> None:
    """Every file listed is present with its sha256, and nothing else is there (besides the manifest)."""
    listed = manifest.get("files")
    if manifest.get("schema") != SCHEMA or not isinstance(listed, dict):
        raise InputFileError("Not an edgekit bundle manifest.", got=f"schema {manifest.get('schema')!r} in {where}",
                             tip="Package the app again with `edgekit package`.")
    present = {k for k in files if k != MANIFEST}
    missing, extra = sorted(set(listed) - present), sorted(present - set(listed))
    bad = sorted(k for k in set(listed) & present if sha256_bytes(files[k]) != listed[k])
    if missing or extra or bad:
        detail = "; ".join(f"{label}: {', '.join(v[:5])}{' …' if len(v) > 5 else ''}"
                           for label, v in (("checksum mismatch", bad), ("missing", missing), ("unlisted", extra)) if v)
        raise InputFileError("The bundle's files do not match its manifest, so it is refused.",
                             got=f"{where}: {detail}",
                             tip="The bundle was damaged or altered; package it again with `edgekit package`.")


def read_tree(root: Path) -> dict[str, bytes]:
    """All regular files under ``root`` by POSIX relative path (links are refused). Python's bytecode caches
    (__pycache__, written when the device runs the app) are not part of a release."""
    root = Path(root)
    files = {}
    for p in sorted(root.rglob("*")):
        if "__pycache__" in p.relative_to(root).parts:
            continue
        if p.is_symlink():
            raise InputFileError("A link was found inside an unpacked bundle.", got=str(p))
        if p.is_file():
            files[p.relative_to(root).as_posix()] = p.read_bytes()
    return files


def verify_tree(root: Path) -> dict:
    """Check an unpacked bundle directory against its manifest; return the manifest."""
    path = Path(root) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputFileError("The bundle has no readable manifest.json.", got=str(path)) from exc
    check_files(manifest, read_tree(root), str(root))
    return manifest
