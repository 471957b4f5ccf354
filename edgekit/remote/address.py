"""Where a device is: ``ssh://user@host[:port]/path``, ``local:/path``, or a name from a device inventory.

Inventory (TOML, ``--inventory`` or ./edgekit-devices.toml)::

    [devices.pi-kitchen]
    url = "ssh://pi@192.168.1.20/home/pi/edgekit"
    python = "python3"                 # interpreter on the device (default python3)
    ssh_options = ["-i", "~/.ssh/pi"]  # extra arguments for the OpenSSH client (default none)
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from edgekit.errors import InputFileError, UsageError, did_you_mean

DEFAULT_INVENTORY = "edgekit-devices.toml"
_KEYS = {"url", "python", "ssh_options"}


@dataclass(frozen=True)
class Device:
    name: str  # as the user wrote it (inventory name or URL)
    kind: str  # "ssh" or "local"
    path: str  # absolute directory on the device holding releases/ and current
    host: str = ""
    user: str = ""
    port: int | None = None
    python: str = "python3"
    ssh_options: tuple[str, ...] = field(default_factory=tuple)

    @property
    def destination(self) -> str:
        return f"{self.user}@{self.host}" if self.user else self.host


def _bad(text: str, why: str) -> UsageError:
    return UsageError(f"Cannot read the device address: {why}.", got=text,
                      tip="Write ssh://user@host[:port]/absolute/path, local:/absolute/path, or a device name "
                      f"from the inventory ({DEFAULT_INVENTORY}).")


def parse_url(text: str, *, name: str | None = None, python: str = "python3",
              ssh_options: tuple[str, ...] = ()) -> Device:
    if text.startswith("local:"):
        path = text[len("local:"):]
        if not path.startswith("/"):
            raise _bad(text, "a local device needs an absolute directory")
        return Device(name or text, "local", str(PurePosixPath(path)), python=python)
    if not text.startswith("ssh://"):
        raise _bad(text, "it is neither ssh:// nor local:")
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError:
        raise _bad(text, "the port is not a number between 0 and 65535") from None
    host, user = parts.hostname or "", unquote(parts.username or "")
    path = unquote(parts.path)
    if not host:
        raise _bad(text, "there is no host")
    if host.startswith("-") or user.startswith("-"):
        raise _bad(text, "a host or user may not start with '-'")
    if not path.startswith("/") or path == "/":
        raise _bad(text, "the directory on the device must be an absolute path other than /")
    return Device(name or text, "ssh", str(PurePosixPath(path)), host=host, user=user, port=port, python=python,
                  ssh_options=tuple(ssh_options))


def load_inventory(path: Path) -> dict[str, dict]:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputFileError("Cannot read the device inventory.", got=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputFileError(f"The device inventory is not valid TOML ({exc}).", got=str(path)) from exc
    devices = data.get("devices", {})
    for name, entry in devices.items():
        unknown = sorted(set(entry) - _KEYS)
        if unknown:
            raise InputFileError(f"Unknown key in device '{name}'.{did_you_mean(unknown[0], _KEYS)}",
                                 got=f"{unknown} in {path}", tip=f"Known keys: {', '.join(sorted(_KEYS))}.")
        if "url" not in entry:
            raise InputFileError(f"Device '{name}' has no url.", got=str(path),
                                 tip='Add url = "ssh://user@host/path".')
    return devices


def resolve_device(text: str, inventory: str | Path | None = None) -> Device:
    """A device from a URL or an inventory name."""
    if "://" in text or text.startswith("local:"):
        return parse_url(text)
    inv_path = Path(inventory) if inventory else Path(DEFAULT_INVENTORY)
    if not inv_path.is_file():
        raise UsageError(f"'{text}' is not a device address and there is no inventory to look it up in.",
                         got=f"{text} (inventory {inv_path} not found)",
                         tip="Give ssh://user@host[:port]/path or local:/path, or name devices in "
                         f"{DEFAULT_INVENTORY} (see `edgekit flash --help`).")
    devices = load_inventory(inv_path)
    if text not in devices:
        raise UsageError(f"No device named '{text}' in the inventory.{did_you_mean(text, devices)}",
                         got=str(inv_path), tip=f"Known devices: {', '.join(devices) or 'none'}.")
    entry = devices[text]
    return parse_url(entry["url"], name=text, python=entry.get("python", "python3"),
                     ssh_options=tuple(str(Path(o).expanduser()) if o.startswith("~") else o
                                       for o in entry.get("ssh_options", [])))
