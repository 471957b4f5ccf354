"""Progress lines on stderr: "… step" on a terminal; in a log (CI, a pipe) each line carries the seconds since the
command started, so a long step shows it is alive and how long the last one took."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

import click


def progress_to(stream: TextIO | None = None, enabled: bool = True, since: float | None = None) -> Callable[[str], None]:
    """A progress function writing to ``stream`` (default: stderr as it is now; inside framework_output_captured
    pass the terminal stream it yields: fd 2 then points at a scratch file). One per command: its times count
    from its creation, or from ``since`` (a time.monotonic() of the command's start)."""
    started = time.monotonic() if since is None else since

    def progress(msg: str) -> None:
        if not enabled:
            return
        out = stream or click.get_text_stream("stderr")
        tty = out.isatty()
        click.echo(f"… {msg}" if tty else f"[{time.monotonic() - started:6.1f}s] {msg}", file=out)

    return progress
