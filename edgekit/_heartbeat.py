"""A step that can run for minutes (calibration, onnx2tf, a layer search, a pip install on a device) says every so
often that it is still running: a CI log with no line for five minutes looks hung, and a terminal too. Calibration
feeds count themselves (``fed``), so the line says how far calibration has got, not only that time passes."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

EVERY_SECONDS = 15.0


class _Samples:
    """How many calibration samples the converters have fed in the current heartbeat block (of ``total`` per
    pass; a float-layer search calibrates once per trial)."""

    def __init__(self, total: int) -> None:
        self.total, self.fed = total, 0

    def describe(self) -> str:
        if not (self.total and self.fed):
            return ""
        passes, at = divmod(self.fed, self.total)
        where = f"{self.total} of {self.total} calibration samples fed" if at == 0 else \
            f"calibration sample {at} of {self.total}"
        return f"; {where}" + (f", pass {passes + (at > 0)}" if self.fed > self.total else "")


_samples: _Samples | None = None


def fed(n: int = 1) -> None:
    """A converter fed ``n`` calibration samples to its quantizer (counted while a heartbeat with ``samples`` runs;
    a no-op otherwise). Called from the quantizer's thread: one int addition, read by the heartbeat's thread."""
    if _samples is not None:
        _samples.fed += n


class Counted(list):
    """A list of calibration feeds that counts each feed as a quantizer iterating it takes it (NNCF iterates its
    dataset once per statistics pass; a list, not a generator, so every pass sees all of it)."""

    def __iter__(self):
        for item in super().__iter__():
            fed()
            yield item


@contextlib.contextmanager
def heartbeat(progress: Callable[[str], None], what: str, every: float | None = None,
              samples: int | None = None) -> Iterator[None]:
    """While the block runs, call ``progress("<what>: still running (N s)")`` every ``every`` seconds
    (EVERY_SECONDS by default); with ``samples`` (calibration samples per pass), the line also says which sample
    calibration is at."""
    global _samples
    every = EVERY_SECONDS if every is None else every
    done, started = threading.Event(), time.monotonic()
    count = _Samples(samples or 0)

    def beat() -> None:
        while not done.wait(every):
            progress(f"{what}: still running ({time.monotonic() - started:.0f} s{count.describe()})")

    outer, _samples = _samples, count
    thread = threading.Thread(target=beat, name="edgekit-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        _samples = outer
