"""How to profile on a device: one record on both sides of the wire. The workstation turns it into the agent's
arguments (``to_argv``); the agent's parser is built from the same fields (``add_arguments``), so the two cannot
drift apart."""

from __future__ import annotations

import argparse
import typing
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class ProfileOptions:
    threads: int | None = None  # None: the runtime's default
    min_runs: int = 100
    min_seconds: float = 2.0
    evaluate: bool = True  # compute the app's metric on the packed held-out set
    soak_seconds: float = 0.0  # sustained load after the timed runs
    sample_interval: float = 0.5  # seconds between device-state samples
    pipeline_runs: int = 3  # timed runs of the app's demo for the pipeline split (after one untimed); 0: no split

    def __post_init__(self):
        if self.min_runs < 1 or self.min_seconds < 0 or self.soak_seconds < 0 or self.sample_interval <= 0 \
                or self.pipeline_runs < 0 \
                or (self.threads is not None and self.threads < 1):
            raise ValueError(f"profile options out of range. Got: {self}")

    def to_argv(self) -> list[str]:
        """The agent's arguments for these options (only what differs from the defaults)."""
        argv = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value == f.default:
                continue
            flag = "--" + f.name.replace("_", "-")
            argv += [flag if value else f"--no-{flag[2:]}"] if isinstance(value, bool) else [flag, str(value)]
        return argv

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        hints = typing.get_type_hints(cls)
        for f in fields(cls):
            flag = "--" + f.name.replace("_", "-")
            kind = hints[f.name]
            if kind is bool:
                parser.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=f.default)
            else:
                base = next(t for t in typing.get_args(kind) or (kind,) if t is not type(None))
                parser.add_argument(flag, dest=f.name, type=base, default=f.default)

    @classmethod
    def from_namespace(cls, ns: argparse.Namespace) -> ProfileOptions:
        return cls(**{f.name: getattr(ns, f.name) for f in fields(cls)})
