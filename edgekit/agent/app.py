"""What every demo app shares: find its bundle, open the model with the device's runtime, load its data,
parse ``--demo`` / ``--evaluate``, print results. Apps stay a page of task code each.

An app module defines ``demo(ctx) -> dict`` (runs on the sample inputs packed with it, prints what a user
would see) and ``evaluate(ctx) -> dict`` (the zoo model's metric on the packed evaluation set, with the same
metric code as on the workstation), then calls ``run_app(demo, evaluate)``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

import numpy as np


class AppContext:
    def __init__(self, root: Path, threads: int | None = None):
        self.root = Path(root)
        self.manifest = json.loads((self.root / "manifest.json").read_text(encoding="utf-8"))
        self.threads = threads
        self._session = None
        # stage -> [seconds, calls]; predict() counts as "inference", apps mark the rest with ctx.stage(...)
        self.stages: dict[str, list] = {}

    @property
    def model_path(self) -> Path:
        return self.root / "model" / self.manifest["artifact"]

    @property
    def session(self):
        if self._session is None:
            from edgekit.runtime import open_session

            # the target's devices in order (a bundle from before they were packed: the runtime's default)
            self._session = open_session(self.model_path, threads=self.threads,
                                         devices=tuple(self.manifest.get("devices") or ()) or None)
        return self._session

    def predict(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        session = self.session  # opening the model is cold start, not inference
        with self.stage("inference"):
            return session.predict(feeds)

    @contextlib.contextmanager
    def stage(self, name: str):
        """Time a pipeline stage (pre-processing, post-processing...) so the profiler can split end-to-end time."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            acc = self.stages.setdefault(name, [0.0, 0])
            acc[0] += time.perf_counter() - t0
            acc[1] += 1

    def output_path(self, name: str) -> Path:
        """Where the app writes a file it makes (a PNG): ``<device dir>/output/``, beside the releases — never in
        one (they are verified and replaced) nor in the current directory (over SSH, the user's HOME). A bundle
        unpacked by hand writes to the current directory."""
        base = self.root.parent.parent / "output" if self.root.parent.name == "releases" else Path.cwd()
        base.mkdir(parents=True, exist_ok=True)
        return base / name

    def data(self, kind: str) -> dict[str, np.ndarray]:
        """The packed arrays ``data/<kind>.npz`` (kind: demo or eval)."""
        with np.load(self.root / "data" / f"{kind}.npz", allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}

    def sample_feeds(self, n: int = 16) -> list[dict[str, np.ndarray]]:
        """Distinct single-sample model inputs from the demo data, for latency measurement."""
        demo = self.data("demo")
        names = [t.name for t in self.session.inputs]
        count = len(demo[names[0]])
        return [{k: demo[k][i : i + 1].astype(np.float32) for k in names}
                for i in np.linspace(0, count - 1, min(n, count)).astype(int)]


def _print(result: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, indent=2, default=float))
        return
    for k, v in result.items():
        print(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}")


def run_app(demo, evaluate, argv: list[str] | None = None) -> int:
    root = Path(sys.argv[0]).resolve().parents[1]
    ap = argparse.ArgumentParser(description=(sys.modules["__main__"].__doc__ or "").strip())
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--demo", action="store_true", help="run on the sample inputs packed with the app")
    mode.add_argument("--evaluate", action="store_true", help="the model's metric on the packed evaluation set")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--json", action="store_true", help="print JSON")
    args = ap.parse_args(argv)
    from edgekit.errors import EdgekitError

    ctx = AppContext(root, args.threads)
    started = time.perf_counter()
    try:
        result = demo(ctx) if args.demo else evaluate(ctx)
    except EdgekitError as exc:  # e.g. the runtime is not installed on this device
        print(exc.render(), file=sys.stderr)
        return exc.exit_code
    result = {"app": ctx.manifest["app"], "runtime": ctx.session.runtime, **result,
              "seconds": round(time.perf_counter() - started, 3)}
    _print(result, args.json)
    return 0
