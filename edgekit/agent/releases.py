"""Releases on the device: verify an uploaded directory, switch ``current`` atomically, keep one previous."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from edgekit.bundle.manifest import verify_tree
from edgekit.errors import InputFileError

KEEP = 2  # the active release and the one before it (a rollback target)


def status(root: Path) -> dict:
    root = Path(root)
    current = root / "current"
    active = os.readlink(current).rsplit("/", 1)[-1] if current.is_symlink() else None
    releases = sorted(p.name for p in (root / "releases").iterdir()) if (root / "releases").is_dir() else []
    manifest = None
    if active and (root / "releases" / active / "manifest.json").is_file():
        manifest = json.loads((root / "releases" / active / "manifest.json").read_text(encoding="utf-8"))
    return {"root": str(root), "current": active, "releases": releases,
            "app": manifest and manifest["app"], "target": manifest and manifest["target"],
            "precision": manifest and manifest["precision"]}


def activate(root: Path, release: str) -> dict:
    """Move staging/<release> to releases/<release> (after verifying it) and point ``current`` at it."""
    root = Path(root)
    if "/" in release or release in ("", ".", ".."):
        raise InputFileError("Bad release id.", got=release)
    staged, final = root / "staging" / release, root / "releases" / release
    if staged.is_dir():
        verify_tree(staged)
        if final.exists():
            shutil.rmtree(final)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, final)
    elif not final.is_dir():
        raise InputFileError("Nothing to activate: the release was never uploaded.", got=str(staged))
    verify_tree(final)
    link = root / f".current.{os.getpid()}"
    if link.is_symlink():
        link.unlink()
    os.symlink(f"releases/{release}", link)
    os.replace(link, root / "current")  # rename(2): readers see the old or the new release, never neither
    _prune(root, release)
    return status(root)


def _prune(root: Path, active: str) -> None:
    releases = sorted((root / "releases").iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
    keep = {active} | {p.name for p in releases[:KEEP]}
    for p in releases:
        if p.name not in keep:
            shutil.rmtree(p, ignore_errors=True)
