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
    root = click.get_current_context(silent=True)
    enabled = enabled and not (root and (root.find_root().obj or {}).get("quiet"))  # edgekit --quiet

    def progress(msg: str) -> None:
        if not enabled:
            return
        out = stream or click.get_text_stream("stderr")
        tty = out.isatty()
        click.echo(f"… {msg}" if tty else f"[{time.monotonic() - started:6.1f}s] {msg}", file=out)

    return progress


def echo_folded(text: str, fold: Callable[[str], bool] = lambda line: True) -> None:
    """Echo ``text`` to stdout; on a terminal, each line ``fold`` picks that is wider than the terminal is folded at
    spaces under a 4-space indent (a check naming twelve artifacts was 1,196 characters). In a log or a pipe every
    line stays whole: one finding per line, for grep."""
    import shutil
    import sys
    import textwrap

    if not sys.stdout.isatty():
        click.echo(text)
        return
    width = max(60, shutil.get_terminal_size((100, 24)).columns - 1)
    for line in text.splitlines() or [""]:
        if fold(line) and len(line) > width:
            line = textwrap.fill(line, width, subsequent_indent="    ", break_long_words=False, break_on_hyphens=False)
        click.echo(line)
