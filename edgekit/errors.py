"""Domain errors. Each carries what happened, what was received and what to do; the CLI renders them."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class EdgekitError(Exception):
    """Base error: ``what`` went wrong, ``got`` what was received, ``tip`` what to do about it."""

    exit_code = 2

    def __init__(self, what: str, *, got: str | None = None, tip: str | None = None):
        self.what = what
        self.got = got
        self.tip = tip
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return f"{self.what} Got: {self.got}" if self.got else self.what

    def render(self) -> str:
        """The ERROR line and, when there is one, the TIP line: what a command prints on failure."""
        return f"ERROR: {self.message}" + (f"\nTIP: {self.tip}" if self.tip else "")


class UsageError(EdgekitError):
    """Bad arguments: unknown names, unsupported combinations."""


class InputFileError(EdgekitError):
    """A file the user gave is missing, unreadable, corrupt or of the wrong shape."""


class OutputError(EdgekitError):
    """A destination the user named cannot be written: read-only, full, or not a directory."""


class DataError(EdgekitError):
    """Calibration / evaluation / training data does not match the model."""


class MissingDependencyError(EdgekitError):
    """An optional package is not installed."""

    exit_code = 3


class ConversionError(EdgekitError):
    """A converter or runtime failed on a valid request."""

    exit_code = 4


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ' Did you mean X?' for the closest choice, or ''."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return f" Did you mean '{close[0]}'?" if close else ""


def summarize(exc: BaseException, limit: int = 300) -> str:
    """The most telling line of a framework's exception: TF and friends put it last."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return (lines[-1] if lines else type(exc).__name__)[:limit]
