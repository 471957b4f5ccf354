"""Bad input and hostile files: each gets one ERROR and a TIP, a nonzero exit, no traceback, and changes nothing
(issue 20's corpus; bundles and flashes are in test_bundle_safety, targets in test_targets)."""

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


def _dead_pid() -> int:
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_killed_swap_is_recovered_and_stale_staging_removed(tmp_path):
    """A run killed between the two renames left the previous artifact only as .<name>.old; staging directories of
    killed runs stayed forever. The next staging of the same directory puts the one back and removes the others."""
    import os

    from edgekit._fs import scratch_directory, staged_directory

    final, dead = tmp_path / "int8", _dead_pid()
    (tmp_path / ".int8.old").mkdir()
    (tmp_path / ".int8.old" / "model.tflite").write_text("previous")
    (tmp_path / f".int8.{dead}.abc.staging").mkdir()
    live = tmp_path / f".int8.{os.getppid()}.def.staging"  # a concurrent run's: left alone
    live.mkdir()
    from edgekit._fs import _recover

    _recover(final)
    assert (final / "model.tflite").read_text() == "previous" and not (tmp_path / ".int8.old").exists()
    assert not (tmp_path / f".int8.{dead}.abc.staging").exists() and live.is_dir()
    os.umask(0o022)
    with staged_directory(final) as stage:
        (stage / "sub").mkdir()
        (stage / "model.tflite").write_text("new")
    assert (final / "model.tflite").read_text() == "new"
    # mkdtemp's 0700 was kept before: a CI collector or another user could not read build/
    assert oct(final.stat().st_mode & 0o777) == oct(0o755) and oct((final / "sub").stat().st_mode & 0o777) == oct(0o755)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    (scratch / f"edgekit-convert-{dead}.xyz").mkdir()
    os.environ["TMPDIR"] = str(scratch)
    import tempfile

    tempfile.tempdir = None
    try:
        with scratch_directory("edgekit-convert-") as mine:
            assert mine.parent == scratch and mine.name.startswith(f"edgekit-convert-{os.getpid()}.")
            assert [p.name for p in scratch.iterdir()] == [mine.name]
        assert not list(scratch.iterdir())
    finally:
        del os.environ["TMPDIR"]
        tempfile.tempdir = None


@pytest.mark.parametrize("signal_name", ["SIGKILL"])
def test_a_convert_killed_mid_run_leaves_nothing_after_the_next_run(tmp_path, user_model, signal_name):
    """SIGKILL during a conversion: the staging directory and the scratch SavedModel stay (nothing can remove
    them then); the next run removes them, and its summary lists what is on disk."""
    import os
    import signal
    import subprocess
    import sys

    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir()
    argv = [sys.executable, "-m", "edgekit", "convert", str(user_model["keras"]), "--target", "raspberry-pi-5",
            "--calib", str(user_model["calib"]), "--eval", str(user_model["eval"]), "--out", str(tmp_path / "b")]
    proc = subprocess.Popen([*argv, "--precision", "fp32"], stderr=subprocess.PIPE, text=True, env=env)
    for line in proc.stderr:
        if "verifying with litert" in line:  # the artifact is being staged
            proc.send_signal(getattr(signal, signal_name))
            break
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    debris = [p.name for p in (tmp_path / "tmp").iterdir()]
    assert any(n.startswith("edgekit-convert-") for n in debris), debris
    r = subprocess.run([*argv, "--precision", "fp32"], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert not [p for p in (tmp_path / "tmp").iterdir() if p.name.startswith("edgekit-")]
    model_dir = tmp_path / "b" / "digits"
    assert not [p for p in model_dir.rglob(".*") if "staging" in p.name or p.name.endswith(".old")]
    summary = json.loads((model_dir / "summary.json").read_text())
    assert [(a["target"], a["precision"]) for a in summary["artifacts"]] == [("raspberry-pi-5", "fp32")]


@pytest.fixture
def small_mounts(tmp_path):
    """A read-only and a nearly full file system (tmpfs, as root): where --out cannot be written."""
    import os
    import subprocess

    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    ro, full = tmp_path / "ro", tmp_path / "full"
    ro.mkdir()
    full.mkdir()
    mounted = []
    try:
        for path, opts in ((ro, "ro,size=1m"), (full, "size=256k")):
            r = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(path)], capture_output=True, text=True)
            if r.returncode != 0:
                pytest.skip(f"cannot mount tmpfs here: {r.stderr.strip()}")
            mounted.append(path)
        yield {"ro": ro, "full": full}
    finally:
        for path in mounted:
            subprocess.run(["umount", str(path)], check=False)


@pytest.mark.parametrize("command", [
    ("convert", "face-id", "--target", "raspberry-pi-5"),
    ("package", "face-id", "--target", "raspberry-pi-5"),
    ("prune-sweep", "face-id", "--target", "raspberry-pi-5", "--ratios", "0.5"),
])
def test_an_out_that_cannot_be_written_is_refused_before_any_work(small_mounts, tmp_path, command):
    """A read-only --out once failed after a 68 s conversion (`unexpected OSError`), a full one left an empty
    build/<model>/<target>/ behind."""
    for where, message in (("ro", "--out is not writable: "), ("full", "MiB are free where --out writes")):
        out = small_mounts[where] / "build"
        r = run_cli(*command, "--out", str(out), timeout=120)
        _clean(r)
        assert message in r.stderr and "Got: --out " in r.stderr, r.stderr
        assert not out.exists()
    # a file where a directory should be
    (tmp_path / "afile").write_text("x")
    r = run_cli(*command, "--out", str(tmp_path / "afile" / "build"))
    _clean(r)
    assert "--out cannot be made: " in r.stderr and "is a file, not a directory" in r.stderr


def test_the_disk_filling_mid_run_is_one_clear_error(small_mounts, monkeypatch, capsys):
    """Past the up-front check (the disk fills during the run): the write error says what and where, exit 2."""
    from edgekit._fs import atomic_write_bytes
    from edgekit.cli import info, main

    target = small_mounts["full"] / "big.bin"
    monkeypatch.setattr(info.targets, "callback", lambda **_: atomic_write_bytes(target, bytes(1 << 20)))
    with pytest.raises(SystemExit) as e:
        main(["targets"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "ERROR: Cannot write or read " in err and "No space left on device" in err, err
    assert "TIP: Free space or fix the permissions" in err and not list(small_mounts["full"].iterdir())


def test_identical_inputs_give_identical_artifacts_bundles_and_releases(tmp_path, user_model):
    """model.xml held the random temp path of its SavedModel and model.onnx TF's per-process function counter; a
    reconverted identical artifact gave a new release (report.json's timings), so every reconversion re-flashed.
    Two runs in one process (in-process for time; TF's function counter still moves between them)."""
    import tarfile

    from edgekit.bundle.package import default_apps_dir
    from edgekit.bundle.user_model import package_model
    from edgekit.converters.common.pipeline import convert, plan_jobs
    from edgekit.remote.flash import check_bundle, release_id
    from edgekit.targets import load_target

    pi = load_target("raspberry-pi-5")
    jobs = [job for name in ("raspberry-pi-5", "jetson-orin-nano", "intel-core-ultra-npu")
            for job in plan_jobs([load_target(name)], "int8", every=False)]
    runs = []
    for run in ("a", "b"):
        out = tmp_path / run
        summary = convert(str(user_model["keras"]), jobs, out, calib_path=str(user_model["calib"]),
                          eval_path=str(user_model["eval"]))
        assert len(summary.artifacts) == 3 and not summary.failed, summary.failed
        bundles = [package_model(str(user_model["keras"]), pi, "int8", build_dir=out, out_dir=out / f"dist{copy}",
                                 apps_dir=default_apps_dir(), samples=str(user_model["eval"])) for copy in "12"]
        runs.append((out / "digits", bundles))
    (a_dir, a_bundles), (b_dir, b_bundles) = runs
    artifacts = sorted(p.relative_to(a_dir) for p in a_dir.glob("*/*/*") if p.name.startswith("model."))
    assert {p.suffix for p in artifacts} == {".tflite", ".onnx", ".xml", ".bin"}, artifacts
    for rel in [*artifacts, *(p.relative_to(a_dir) for p in a_dir.glob("*/*/metadata.json"))]:
        assert (a_dir / rel).read_bytes() == (b_dir / rel).read_bytes(), rel
    assert str(tmp_path) not in (a_dir / "intel-core-ultra-npu" / "int8" / "model.xml").read_text()
    # two packages of one build: byte-identical; of two builds: the same release (only timings differ)
    assert a_bundles[0].read_bytes() == a_bundles[1].read_bytes()
    with tarfile.open(a_bundles[0]) as x, tarfile.open(b_bundles[0]) as y:
        differ = sorted(m.name for m in x.getmembers() if x.extractfile(m).read() != y.extractfile(m.name).read())
    assert set(differ) <= {"manifest.json", "model/report.json", "model/ops.json", "model/layers.json"}, differ
    assert release_id(check_bundle(a_bundles[0])) == release_id(check_bundle(b_bundles[0]))


def test_a_users_model_named_like_a_zoo_model_never_replaces_the_zoos_build(tmp_path, user_model, face_id_build):
    """`cp good.keras face-id.keras; edgekit convert face-id.keras` overwrote build/face-id/, and `package face-id`
    then shipped the user's model as the zoo app."""
    import shutil

    from edgekit.converters.common.source import name_of_spec

    mine = tmp_path / "face-id.keras"
    shutil.copy(user_model["keras"], mine)
    assert name_of_spec(str(mine)) == "face-id-keras" and name_of_spec("face-id") == "face-id"
    build = tmp_path / "build"
    shutil.copytree(face_id_build[0] / "face-id" / "raspberry-pi-5", build / "face-id" / "raspberry-pi-5")
    zoo_artifact = (build / "face-id" / "raspberry-pi-5" / "int8" / "model.tflite").read_bytes()
    r = run_cli("convert", str(mine), "--target", "raspberry-pi-5", "--precision", "fp32", "--eval",
                str(user_model["eval"]), "--out", str(build))
    assert r.returncode == 0, r.stderr
    assert (build / "face-id-keras" / "raspberry-pi-5" / "fp32" / "model.tflite").is_file()
    assert (build / "face-id" / "raspberry-pi-5" / "int8" / "model.tflite").read_bytes() == zoo_artifact
    # an artifact of another model in the zoo app's directory (written there by hand or by an older edgekit)
    other = build / "face-id" / "raspberry-pi-5" / "int8"
    meta = json.loads((other / "metadata.json").read_text())
    meta["source"] = {"kind": "keras", "path": str(mine), "sha256": "0" * 64}
    (other / "metadata.json").write_text(json.dumps(meta))
    r = run_cli("package", "face-id", "--target", "raspberry-pi-5", "--build", str(build), "--out", str(tmp_path / "d"))
    _clean(r)
    assert "was not built from the zoo's face-id, so the app is not packaged with it" in r.stderr, r.stderr
    assert not (tmp_path / "d").exists()
