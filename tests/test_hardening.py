"""Bad input and hostile files: each gets one ERROR and a TIP, a nonzero exit, no traceback, and changes nothing
(issue 20's corpus; bundles are in test_device_apps, targets in test_targets)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli


def _clean(r, code: int = 2) -> None:
    assert r.returncode == code and r.stderr.startswith("ERROR: ") and "TIP: " in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and "unexpected" not in r.stderr, r.stderr


def test_a_password_in_a_device_address_is_refused_and_never_printed(tmp_path):
    r = run_cli("run", "ssh://pi:hunter2@raspberrypi.local/home/pi/edgekit", "--demo")
    _clean(r)
    assert "A password in a device address is not used" in r.stderr and "ssh://pi:***@raspberrypi.local" in r.stderr
    assert "hunter2" not in r.stdout + r.stderr


def _inventory(path, body: str):
    path.write_text(body)
    return path


EVIL = '[devices.pi]\nurl = "local:{dir}"\nssh_options = ["-oProxyCommand=touch {pwned}"]\n'


def test_an_inventory_in_the_current_directory_is_not_read(tmp_path):
    """A cloned repository's edgekit-devices.toml once ran its ProxyCommand on `edgekit flash … pi`."""
    pwned = tmp_path / "PWNED"
    _inventory(tmp_path / "edgekit-devices.toml", EVIL.format(dir=tmp_path / "dev", pwned=pwned))
    r = run_cli("run", "pi", "--demo", cwd=tmp_path, env={"XDG_CONFIG_HOME": str(tmp_path / "config"),
                                                           "EDGEKIT_INVENTORY": ""})
    _clean(r)
    assert "is not a device address and there is no inventory" in r.stderr
    assert "./edgekit-devices.toml is not read unless named: --inventory edgekit-devices.toml" in r.stderr
    assert not pwned.exists()


@pytest.mark.parametrize("options, shown", [
    ('["-oProxyCommand=touch {pwned}"]', "-o ProxyCommand=touch"),
    ('["-o", "LocalCommand touch {pwned}", "-o", "PermitLocalCommand=yes"]', "-o LocalCommand touch"),
    ('["-vo", "proxycommand touch {pwned}"]', "-o proxycommand touch"),
    ('["-F", "{pwned}.config"]', "-F "),
    ('["-o", "KnownHostsCommand=touch {pwned}"]', "-o KnownHostsCommand"),
])
def test_ssh_options_that_run_local_commands_are_refused(tmp_path, options, shown):
    pwned = tmp_path / "PWNED"
    inv = _inventory(tmp_path / "inv.toml", '[devices.pi]\nurl = "ssh://pi@127.0.0.1/home/pi/x"\n'
                     f"ssh_options = {options.format(pwned=pwned)}\n")
    r = run_cli("run", "--inventory", str(inv), "pi", "--demo")
    _clean(r)
    assert "would make ssh run a command on this machine" in r.stderr and shown in r.stderr, r.stderr
    assert "~/.ssh/config" in r.stderr and not pwned.exists()


@pytest.mark.parametrize("body, message", [
    ('[devices]\npi = "ssh://pi@host/home/pi/x"\n', "Device 'pi' must be a table ([devices.pi] with url = ...)"),
    ('[devices.pi]\nurl = "ssh://pi@host/x"\nssh_options = "-i key"\n',
     "ssh_options must be a list of strings, one per argument. Got: ssh_options = '-i key'"),
    ('[devices.pi]\nurl = "ssh://pi@host/x"\nssh_options = ["host2"]\n', "holds an argument that is not an option"),
    ('[devices.pi]\nurl = 5\n', "Device 'pi': url must be a string. Got: url = 5"),
    ('devices = 3\n', "The inventory's 'devices' must be tables"),
])
def test_inventory_mistakes_are_one_clear_error(tmp_path, body, message):
    r = run_cli("run", "--inventory", str(_inventory(tmp_path / "inv.toml", body)), "pi")
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_an_inventory_that_is_not_utf8_is_one_clear_error(tmp_path):
    inv = tmp_path / "inv.toml"
    inv.write_bytes('[devices.pi]\nurl = "local:/tmp/caf\xe9"\n'.encode("latin-1"))
    r = run_cli("run", "--inventory", str(inv), "pi")
    assert r.returncode == 2 and "The device inventory is not UTF-8 text" in r.stderr, r.stderr


def test_a_device_named_twice_is_worked_on_once(tmp_path):
    """Two flashes into one directory raced (rsync exit 23)."""
    from edgekit.remote.address import distinct, resolve_device

    inv = _inventory(tmp_path / "inv.toml", f'[devices.pi]\nurl = "local:{tmp_path}/dev"\n')
    devices = [resolve_device(s, inv) for s in ("pi", f"local:{tmp_path}/dev", f"local:{tmp_path}/dev/", "pi")]
    assert [d.name for d in distinct(devices)] == ["pi"]
    assert json.dumps([d.path for d in devices]).count(f"{tmp_path}/dev") == 4
