"""A step that can run for minutes (calibration, onnx2tf, a layer search, a pip install on a device) says every so
often that it is still running: a CI log with no line for five minutes looks hung, and a terminal too."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

EVERY_SECONDS = 15.0


@contextlib.contextmanager
def heartbeat(progress: Callable[[str], None], what: str, every: float = EVERY_SECONDS) -> Iterator[None]:
    """While the block runs, call ``progress("<what>: still running (N s)")`` every ``every`` seconds."""
    done, started = threading.Event(), time.monotonic()

    def beat() -> None:
        while not done.wait(every):
            progress(f"{what}: still running ({time.monotonic() - started:.0f} s)")

    thread = threading.Thread(target=beat, name="edgekit-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
