"""Where a device is: ``ssh://user@host[:port]/path``, ``local:/path``, or a name from a device inventory.

Inventory (TOML: ``--inventory FILE``, else $EDGEKIT_INVENTORY, else ~/.config/edgekit/devices.toml)::

    [devices.pi-kitchen]
    url = "ssh://pi@192.168.1.20/home/pi/edgekit"
    python = "python3"                 # interpreter on the device (default python3)
    ssh_options = ["-i", "~/.ssh/pi"]  # extra arguments for the OpenSSH client (default none)

An inventory is read only where the user put it: never implicitly from the current directory, where a cloned
repository could have left one whose ssh options run commands on this machine. Options that make ssh run a local
command (ProxyCommand, LocalCommand, KnownHostsCommand, a config file) are refused in an inventory; the user's own
~/.ssh/config may still set them, and ssh reads it as usual.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from edgekit.errors import InputFileError, UsageError, did_you_mean

INVENTORY_ENV = "EDGEKIT_INVENTORY"
LOCAL_INVENTORY = "edgekit-devices.toml"  # a name users used to keep beside their project: pointed at, not read
_KEYS = {"url", "python", "ssh_options"}
# ssh's options that take an argument (getopt letters), and the -o keywords that run a command on this machine or
# read another config file (which could): https://man.openbsd.org/ssh_config
_SSH_WITH_ARGUMENT = set("BbcDEeFIiJLlmOoPpQRSWw")
_SSH_LOCAL_COMMANDS = {"proxycommand", "localcommand", "permitlocalcommand", "knownhostscommand", "include", "match"}


def default_inventory() -> Path:
    if os.environ.get(INVENTORY_ENV):
        return Path(os.environ[INVENTORY_ENV]).expanduser()
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return config / "edgekit" / "devices.toml"


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
                      f"from the inventory (--inventory FILE, ${INVENTORY_ENV} or {default_inventory()}).")


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
    if parts.password is not None:
        # never echoed: the address is printed in errors and written to reports and directory names
        shown = text.replace(f":{parts.password}@", ":***@", 1)
        raise UsageError("A password in a device address is not used, and would be printed and written to reports.",
                         got=shown, tip="Remove ':password' and let ssh authenticate with a key (ssh-copy-id "
                         "user@host) or your ssh agent.")
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
    except UnicodeDecodeError as exc:
        raise InputFileError("The device inventory is not UTF-8 text (TOML is UTF-8).", got=str(path)) from exc
    except OSError as exc:
        raise InputFileError(f"Cannot read the device inventory ({exc.strerror or exc}).", got=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputFileError(f"The device inventory is not valid TOML ({exc}).", got=str(path)) from exc
    devices = data.get("devices", {})
    if not isinstance(devices, dict):
        raise InputFileError("The inventory's 'devices' must be tables: [devices.NAME] with url = ...",
                             got=f"devices = {devices!r} in {path}")
    for name, entry in devices.items():
        if not isinstance(entry, dict):
            raise InputFileError(f"Device '{name}' must be a table ([devices.{name}] with url = ...), not a value.",
                                 got=f"devices.{name} = {entry!r} in {path}",
                                 tip=f'Write:\n[devices.{name}]\nurl = "ssh://user@host/path"')
        unknown = sorted(set(entry) - _KEYS)
        if unknown:
            raise InputFileError(f"Unknown key in device '{name}'.{did_you_mean(unknown[0], _KEYS)}",
                                 got=f"{unknown} in {path}", tip=f"Known keys: {', '.join(sorted(_KEYS))}.")
        if "url" not in entry:
            raise InputFileError(f"Device '{name}' has no url.", got=str(path),
                                 tip='Add url = "ssh://user@host/path".')
        for key in ("url", "python"):
            if key in entry and not (isinstance(entry[key], str) and entry[key]):
                raise InputFileError(f"Device '{name}': {key} must be a string.", got=f"{key} = {entry[key]!r} in {path}")
        options = entry.get("ssh_options", [])
        if not (isinstance(options, list) and all(isinstance(o, str) for o in options)):
            raise InputFileError(f"Device '{name}': ssh_options must be a list of strings, one per argument.",
                                 got=f"ssh_options = {options!r} in {path}", tip='Write ssh_options = ["-i", "~/.ssh/pi"].')
        check_ssh_options(options, f"device '{name}' in {path}")
    return devices


def check_ssh_options(options: list[str], where: str) -> None:
    """Refuse arguments that would make ssh run a command on this machine (or read a config that could), and
    words that are not options (ssh would take one as the host)."""
    i = 0
    while i < len(options):
        arg = options[i]
        i += 1
        if not arg.startswith("-") or arg == "-":
            raise InputFileError(f"ssh_options of {where} holds an argument that is not an option.", got=repr(arg),
                                 tip="Each entry is an ssh option or its value: [\"-i\", \"~/.ssh/pi\"].")
        for j, letter in enumerate(arg[1:], 1):
            if letter not in _SSH_WITH_ARGUMENT:
                continue
            value = arg[j + 1:]
            if not value and i < len(options):
                value, i = options[i], i + 1
            keyword = re.split(r"[\s=]", value.strip(), maxsplit=1)[0].lower()
            if letter == "F" or (letter == "o" and keyword in _SSH_LOCAL_COMMANDS):
                shown = f"-{letter} {value}"
                raise InputFileError(f"ssh_options of {where} would make ssh run a command on this machine "
                                     "(or read a config file that could), so it is refused.", got=shown,
                                     tip="Set it in your own ~/.ssh/config (a Host block for this device): "
                                     "edgekit's ssh reads that as usual.")
            break


def resolve_device(text: str, inventory: str | Path | None = None) -> Device:
    """A device from a URL or an inventory name."""
    if "://" in text or text.startswith("local:"):
        return parse_url(text)
    inv_path = Path(inventory) if inventory else default_inventory()
    if not inv_path.is_file():
        here = " ./edgekit-devices.toml is not read unless named: --inventory edgekit-devices.toml." \
            if not inventory and Path(LOCAL_INVENTORY).is_file() else ""
        raise UsageError(f"'{text}' is not a device address and there is no inventory to look it up in.",
                         got=f"{text} (inventory {inv_path} not found)",
                         tip="Give ssh://user@host[:port]/path or local:/path, or name devices in an inventory: "
                         f"--inventory FILE, ${INVENTORY_ENV} or {default_inventory()}.{here}")
    devices = load_inventory(inv_path)
    if text not in devices:
        raise UsageError(f"No device named '{text}' in the inventory.{did_you_mean(text, devices)}",
                         got=str(inv_path), tip=f"Known devices: {', '.join(devices) or 'none'}.")
    entry = devices[text]
    return parse_url(entry["url"], name=text, python=entry.get("python", "python3"),
                     ssh_options=tuple(str(Path(o).expanduser()) if o.startswith("~") else o
                                       for o in entry.get("ssh_options", [])))


def distinct(devices: list[Device]) -> list[Device]:
    """Each device once, however many names it was given by (two flashes into one directory race)."""
    seen, out = set(), []
    for d in devices:
        key = (d.kind, d.host, d.port, d.user, d.path)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out
