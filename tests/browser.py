"""Open a page in headless Chromium (Debian's chromium package, installed by `make test`): the DOM after scripts ran,
and every console message the page produced."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_CONSOLE = re.compile(r":CONSOLE(?:\(\d+\)|:\d+)\] (.*)")


def render(page: Path, profile_dir: Path) -> tuple[str, list[str]]:
    """(DOM after load, console messages). A fresh profile directory keeps runs independent."""
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
         f"--user-data-dir={profile_dir}", "--enable-logging=stderr", "--v=0",
         # the page must be self-contained: any attempt to reach a host fails to resolve
         "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=5000", "--dump-dom",
         Path(page).resolve().as_uri()],
        # Chromium writes ~/.config/pulse, ~/.cache/dconf and crash reports whatever --user-data-dir says: keep
        # them in the profile directory, not the HOME of whoever runs the tests
        env={**os.environ, "HOME": str(profile_dir), "XDG_CONFIG_HOME": str(Path(profile_dir) / "config"),
             "XDG_CACHE_HOME": str(Path(profile_dir) / "cache")},
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, [m.group(1) for m in _CONSOLE.finditer(proc.stderr)]
