"""Releases on the device: verify an uploaded directory, switch ``current`` atomically, keep one previous."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from edgekit._fs import remove_stale
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
            **{k: manifest.get(k) if isinstance(manifest, dict) else None for k in ("app", "target", "precision")}}


def activate(root: Path, release: str) -> dict:
    """Move staging/<release> to releases/<release> (after verifying all of it: every file's sha256, and that
    the manifest has what the device needs) and point ``current`` at it. The switch is the last step: when
    anything before it fails, ``current`` still names the release that ran before."""
    root = Path(root)
    if "/" in release or release in ("", ".", ".."):
        raise InputFileError("Bad release id.", got=release)
    current = root / "current"
    if current.exists() and not current.is_symlink():
        raise InputFileError(f"{current} is not the link edgekit switches between releases, so nothing was changed.",
                             got=f"a {'directory' if current.is_dir() else 'file'} at {current}",
                             tip="Move it away (it is not an edgekit release), then flash again.")
    staged, final = root / "staging" / release, root / "releases" / release
    if staged.is_dir():
        verify_tree(staged)
        if final.exists():
            shutil.rmtree(final)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, final)
    elif final.is_dir():
        verify_tree(final)  # activated before (a rollback): still intact?
    else:
        raise InputFileError("Nothing to activate: the release was never uploaded.", got=str(staged))
    link = root / f".current.{os.getpid()}"
    if link.is_symlink():
        link.unlink()
    os.symlink(f"releases/{release}", link)
    try:
        os.replace(link, current)  # rename(2): readers see the old or the new release, never neither
    finally:
        if link.is_symlink():
            link.unlink()
    _prune(root, release)
    _remove_leftovers(root)
    return status(root)


def _remove_leftovers(root: Path) -> None:
    """What flashes killed part-way left: half-made ``.current.<pid>`` links of processes that are gone, and
    uploads in staging/ (a release is activated right after its upload; one still there was interrupted, and
    flashing it again uploads it again, resuming from whatever is there until this runs)."""
    remove_stale(root, ".current.")
    for staged in (root / "staging").iterdir() if (root / "staging").is_dir() else ():
        shutil.rmtree(staged, ignore_errors=True)



def _prune(root: Path, active: str) -> None:
    releases = sorted((root / "releases").iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
    keep = {active} | {p.name for p in releases[:KEEP]}
    for p in releases:
        if p.name not in keep:
            shutil.rmtree(p, ignore_errors=True)
