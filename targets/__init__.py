"""Targets as data: one TOML file per device in this directory, or any TOML file a user writes."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path

from edgekit.errors import InputFileError, UsageError, did_you_mean
from edgekit.formats import FORMATS, PRECISIONS


@dataclass(frozen=True)
class Target:
    name: str
    description: str
    runtime: str
    format: str
    precisions: tuple[str, ...]
    default_precision: str
    arch: str
    threads: int
    devices: tuple[str, ...]
    device_requirements: tuple[str, ...]
    # the device OS's Python and glibc: which wheels --with-wheels downloads (optional keys)
    python: str = "3.11"
    glibc: str = "2.28"
    source: str = ""  # where the definition was read from

    def check_precision(self, precision: str) -> str:
        if precision not in self.precisions:
            raise UsageError(
                f"Target '{self.name}' does not support precision '{precision}'.",
                got=f"--precision {precision}",
                tip=f"Use one of: {', '.join(self.precisions)} (or 'all').{did_you_mean(precision, self.precisions)}",
            )
        return precision


_OPTIONAL = {"python", "glibc"}
_REQUIRED = {f.name for f in fields(Target)} - {"source"} - _OPTIONAL
# keys older target files carry that no longer mean anything, and why
_RETIRED = {"static_batch": "every target compiles a static batch of 1 (edgekit 0.1 never read this key)"}


SLUG = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
# each key's TOML type: a wrong one would otherwise fail at the end of a conversion (threads = "four")
_TYPES = {"name": str, "description": str, "runtime": str, "format": str, "precisions": list, "default_precision": str,
          "arch": str, "threads": int, "devices": list, "device_requirements": list}
_KIND_TEXT = {str: "a string", int: "a whole number of at least 1", list: "a list of strings"}


def _is(value, kind) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool) and value >= 1
    if kind is list:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, kind)


def _parse(data: dict, source: str) -> Target:
    retired = sorted(set(data) & set(_RETIRED))
    if retired:
        raise InputFileError(
            f"Target file {source} has the retired key '{retired[0]}': {_RETIRED[retired[0]]}.",
            got=f"{retired[0]} = {data[retired[0]]!r}",
            tip=f"Delete the line '{retired[0]} = ...' from {source}.",
        )
    unknown = sorted(set(data) - _REQUIRED - _OPTIONAL)
    if unknown:
        hint = did_you_mean(unknown[0], _REQUIRED | _OPTIONAL)
        raise InputFileError(
            f"Target file {source} has unknown key '{unknown[0]}'.{hint}",
            got=f"keys {sorted(data)}",
            tip=f"Allowed keys: {', '.join(sorted(_REQUIRED | _OPTIONAL))}.",
        )
    for key, kind in _TYPES.items():
        value = data.get(key)
        if key in data and not _is(value, kind):
            raise InputFileError(f"Target file {source}: '{key}' must be {_KIND_TEXT[kind]}.",
                                 got=f"{key} = {value!r} ({type(value).__name__})",
                                 tip="Write it as in the shipped targets (`edgekit targets --json`).")
    if "name" in data and not SLUG.fullmatch(data["name"]):
        raise InputFileError(f"Target file {source}: 'name' names build directories, so it is a plain name.",
                             got=f"name = {data['name']!r}",
                             tip="Use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit "
                             "(e.g. \"my-board\").")
    for key in sorted(_OPTIONAL & set(data)):
        # a string: TOML reads python = 3.10 as the float 3.1
        if not (isinstance(data[key], str) and re.fullmatch(r"\d+\.\d+", data[key])):
            raise InputFileError(f"Target file {source}: '{key}' is a version like \"3.11\" or \"2.36\".",
                                 got=f"{key} = {data[key]!r}", tip=f"Write {key} = \"MAJOR.MINOR\".")
    missing = sorted(_REQUIRED - set(data))
    if missing:
        raise InputFileError(
            f"Target file {source} is missing key(s): {', '.join(missing)}.",
            got=f"keys {sorted(data)}",
            tip="Copy one of the shipped targets (edgekit targets --json) and edit it.",
        )
    fmt = data["format"]
    if fmt not in FORMATS:
        raise InputFileError(
            f"Target file {source} names an unknown format.{did_you_mean(fmt, FORMATS)}",
            got=f"format = {fmt!r}",
            tip=f"Known formats: {', '.join(FORMATS)}.",
        )
    if data["runtime"] != FORMATS[fmt].runtime:
        raise InputFileError(
            f"Target file {source}: format '{fmt}' runs on runtime '{FORMATS[fmt].runtime}'.",
            got=f"runtime = {data['runtime']!r}",
            tip=f"Set runtime = \"{FORMATS[fmt].runtime}\".",
        )
    bad = [p for p in data["precisions"] if p not in PRECISIONS]
    if bad or data["default_precision"] not in data["precisions"]:
        raise InputFileError(
            f"Target file {source} has an invalid precision list or default.",
            got=f"precisions = {data['precisions']}, default_precision = {data['default_precision']!r}",
            tip=f"Precisions come from {', '.join(PRECISIONS)}; the default must be one of them.",
        )
    offered = FORMATS[fmt].precisions
    if any(p not in offered for p in data["precisions"]):
        raise InputFileError(
            f"Target file {source}: the format '{fmt}' cannot be written at every precision listed.",
            got=f"precisions = {data['precisions']}",
            tip=f"{fmt} offers {', '.join(offered)}.",
        )
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return Target(**kwargs, source=source)


def _load_file(path: Path) -> Target:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputFileError("Target file not found.", got=str(path), tip="Check the path.") from exc
    except UnicodeDecodeError as exc:
        raise InputFileError(f"Target file {path} is not UTF-8 text (TOML is UTF-8).", got=f"{exc.reason} at byte "
                             f"{exc.start}", tip="Save it as UTF-8.") from exc
    except OSError as exc:
        raise InputFileError(f"Cannot read target file {path} ({exc.strerror or exc}).", got=str(path),
                             tip="Check the path and its permissions.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputFileError(f"Target file {path} is not valid TOML: {exc}.", got=str(path)) from exc
    return _parse(data, str(path))


def builtin_targets() -> dict[str, Target]:
    """The shipped targets, by name."""
    out = {}
    for entry in sorted(resources.files(__name__).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            target = _parse(tomllib.loads(entry.read_text(encoding="utf-8")), entry.name)
            out[target.name] = target
    return out


def load_target(spec: str) -> Target:
    """A shipped target by name, or a user's target from a path ending in .toml."""
    if spec.endswith(".toml") or "/" in spec:
        return _load_file(Path(spec))
    known = builtin_targets()
    if spec not in known:
        raise UsageError(
            f"Unknown target '{spec}'.{did_you_mean(spec, known)}",
            got=f"--target {spec}",
            tip=f"Known targets: {', '.join(known)}, 'all', or a path to your own .toml (see `edgekit targets`).",
        )
    return known[spec]


def resolve_targets(specs: tuple[str, ...] | list[str]) -> list[Target]:
    """Expand 'all' and load each target once, in the order given; "a,b" names two (as users write lists)."""
    out: dict[str, Target] = {}
    for spec in (p.strip() for s in specs for p in (s.split(",") if not s.endswith(".toml") else [s]) if p.strip()):
        for t in builtin_targets().values() if spec == "all" else [load_target(spec)]:
            out.setdefault(t.name, t)
    return list(out.values())
