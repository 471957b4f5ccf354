"""Apps on a device: package -> flash -> run -> profile through a real OpenSSH server on loopback."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import pytest

from tests.browser import CHROMIUM, render
from tests.conftest import run_cli
from tests.sshd import SSHD
from tests.sshd import inventory_file as _inventory

pytestmark = pytest.mark.skipif(SSHD is None, reason="openssh-server is not installed (.ci/run installs it)")


WORKSTATION_ONLY = ("keras", "tensorflow", "tf2onnx", "onnx", "nncf", "torch", "edgekit.converters", "edgekit.cli")


def _lib_imports(bundle: Path) -> dict[str, set[str]]:
    """Every module each lib/ file of the bundle imports (absolute imports, wherever in the file)."""
    import ast

    out = {}
    with tarfile.open(bundle) as tar:
        for m in tar.getmembers():
            if m.name.startswith("lib/") and m.name.endswith(".py"):
                tree = ast.parse(tar.extractfile(m).read())
                out[m.name] = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names} | {
                    n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    return out


def _assert_device_side_only(bundle: Path, package: str) -> None:
    """lib/ holds no workstation code: nothing imports Keras, TensorFlow or the converters, and the only zoo model
    code is the app's own model's task module."""
    imports = _lib_imports(bundle)
    bad = {f: sorted(m for m in mods if m.split(".")[0] in WORKSTATION_ONLY or m.startswith(WORKSTATION_ONLY))
           for f, mods in imports.items()}
    assert not any(bad.values()), {f: b for f, b in bad.items() if b}
    zoo = sorted(f for f in imports if f.startswith("lib/edgekit/zoo/") and f.count("/") > 3)
    assert zoo == [f"lib/edgekit/zoo/{package}/__init__.py", f"lib/edgekit/zoo/{package}/task.py"], zoo


def test_packaging_is_deterministic_and_complete(bundles):
    assert bundles["int8"].read_bytes() == bundles["again"].read_bytes()
    with tarfile.open(bundles["int8"]) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
    assert {"app/app.py", "model/model.tflite", "model/report.json", "data/demo.npz", "data/eval.npz",
            "lib/edgekit/runtime/_litert.py", "lib/edgekit/agent/__main__.py"} <= set(names)
    assert not any(n.startswith("lib/edgekit/cli") or "converters" in n for n in names)
    assert set(manifest["files"]) == set(names) - {"manifest.json"}
    assert manifest["runtime"] == "litert" and "ai-edge-litert==2.3.*" in manifest["requirements"]
    assert manifest["entry_point"] == "app/app.py" and manifest["precision"] == "int8"
    assert manifest["python"] == "<3.12,>=3.11"  # pyproject's requires-python
    assert not any(n.startswith("lib/edgekit/runtime/_onnxruntime") for n in names)  # only the target's runtime
    _assert_device_side_only(bundles["int8"], "face_id")


def test_flash_run_profile_over_ssh(sshd, inventory, bundles, tmp_path):
    inv = ["--inventory", inventory["path"]]
    r = run_cli("flash", str(bundles["int8"]), "pi", *inv)
    assert r.returncode == 0, r.stderr
    assert "flashed" in r.stdout and (inventory["pi"] / "current").is_symlink()
    r = run_cli("flash", str(bundles["int8"]), "pi", *inv)
    assert r.returncode == 0 and "unchanged (already current)" in r.stdout
    r = run_cli("flash", str(bundles["int8"]), "pi", *inv, "--json")
    (flashed,) = json.loads(r.stdout)
    assert flashed["device"] == "pi" and flashed["changed"] is False and flashed["app"] == "face-id", flashed
    r = run_cli("run", *inv, "pi", "--demo")
    assert r.returncode == 0, r.stderr
    assert "probe 11 (stranger): rejected" in r.stdout and "runtime: litert" in r.stdout
    assert "XNNPACK" not in r.stdout + r.stderr  # LiteRT's INFO line at its first invoke is not the app's output
    r = run_cli("profile", *inv, "pi", "--min-runs", "30", "--min-seconds", "0.2", "--soak", "2", "--out",
                str(tmp_path), "--json")
    assert r.returncode == 0, r.stderr
    out = tmp_path / "pi" / "face-id"
    report = json.loads((out / "report.json").read_text())
    assert json.loads(r.stdout) == [{"directory": str(out), "report": report}]  # --json: the report as written
    assert report["runtime"] == "litert" and report["precision"] == "int8" and report["latency"]["runs"] >= 30
    assert report["latency"]["distinct_inputs"] == 12 and report["memory"]["peak_rss_mb"] > 0
    assert report["metrics"]["top1"] == report["workstation_metrics"]["top1"] > 0.95
    # the demo's wall time split: face-id calls the model 4 times (threshold set, gallery, probes...)
    stages = report["pipeline"]["stages"]
    assert stages["inference"]["calls_per_run"] >= 3 and stages["inference"]["ms_per_run"] > 0
    assert abs(sum(s["share"] for s in stages.values()) - 1) < 0.01
    assert report["soak"]["seconds"] >= 2 and len(report["soak"]["windows"]) >= 1
    assert len(report["device_state"]["samples"]) >= 2 and report["device_state"]["throttled"] is False
    acc = report["accuracy"]
    assert acc["n_evaluated"] == 160 and acc["drop_ci95"][0] < acc["drop"] < acc["drop_ci95"][1] + 1e-9
    assert any(f["check"] == "few-eval-samples" for f in report["sanity"])  # 160 images cannot resolve 1 point
    md = (out / "report.md").read_text()
    assert re.search(r"\| top1 +\| 0\.9\d+ +\| 0\.9\d+ +\|", md), md
    assert "demo pipeline" in md and "inference" in md
    if CHROMIUM:
        dom, console = render(out / "report.html", tmp_path / "chromium")
        # the script ran over every table row: latency (1), metrics (9, the open-set rates' sample counts too),
        # pipeline stages (inference, other)
        assert console == [] and 'data-rendered="12"' in dom and "Device state over time" in dom
        assert dom.count("<svg") >= 2  # latency distribution and the soak


def test_interrupted_flash_leaves_the_previous_release_running(sshd, inventory, bundles):
    inv = ["--inventory", inventory["path"]]
    assert run_cli("flash", str(bundles["int8"]), "pi", *inv).returncode == 0
    before = os.readlink(inventory["pi"] / "current")
    # A slow upload of the fp32 release, killed as soon as its files start arriving in staging.
    proc = subprocess.Popen([sys.executable, "-m", "edgekit", "flash", str(bundles["fp32"]), "pi", *inv,
                             "--bwlimit", "200"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    staging = inventory["pi"] / "staging"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(p.is_dir() and any(p.rglob("*")) for p in staging.iterdir()):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert os.readlink(inventory["pi"] / "current") == before
    r = run_cli("run", *inv, "pi", "--evaluate", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["top1"] > 0.95
    r = run_cli("flash", str(bundles["fp32"]), "pi", *inv)
    assert r.returncode == 0 and "flashed" in r.stdout
    assert os.readlink(inventory["pi"] / "current") != before
    assert len(list((inventory["pi"] / "releases").iterdir())) == 2  # the new one and the previous one


def test_flash_to_several_devices_in_parallel(inventory, bundles):
    r = run_cli("flash", str(bundles["int8"]), "pi", "card", "--inventory", inventory["path"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("face-id release") == 2 and (inventory["card"] / "current" / "app" / "app.py").is_file()


def _wait_for_no_session(server, seconds: float = 10) -> list[int]:
    deadline = time.monotonic() + seconds
    while server.sessions() and time.monotonic() < deadline:
        time.sleep(0.1)
    return server.sessions()


def test_one_command_authenticates_once_and_leaves_no_connection_open(bundles, tmp_path):
    """A flash sends ~8 commands; they share one SSH connection (ControlMaster), closed when the flash ends. A user
    whose ssh_options set ControlMaster keeps their own choice: then every command connects anew."""
    from tests.sshd import LoopbackSshd

    (tmp_path / "sshd").mkdir()
    server = LoopbackSshd(tmp_path / "sshd", log_level="INFO")  # INFO: sshd logs each authentication
    tmp = Path(tempfile.mkdtemp(prefix="ek-"))  # the commands' own TMPDIR: the sockets' directories go there
    try:
        inv = ["--inventory", str(_inventory(server, tmp_path / "inv.toml", "box", tmp_path / "box"))]
        r = run_cli("flash", str(bundles["int8"]), "box", *inv, env={"TMPDIR": str(tmp)})
        assert r.returncode == 0 and "verifying and switching" in r.stderr, r.stderr
        assert server.logins() == 1 and _wait_for_no_session(server) == [], (server.logins(), server.sessions())
        r = run_cli("run", *inv, "box", "--demo", env={"TMPDIR": str(tmp)})
        assert r.returncode == 0 and "probe 11 (stranger): rejected" in r.stdout, r.stderr
        assert server.logins() == 2 and _wait_for_no_session(server) == []
        assert [list(d.iterdir()) for d in tmp.iterdir()] == [[]]  # edgekit-ssh-<uid>, no socket left in it

        unshared = tmp_path / "unshared.toml"
        unshared.write_text(Path(inv[1]).read_text().replace("ssh_options = [", 'ssh_options = ["-o", "ControlMaster=no", '))
        r = run_cli("flash", str(bundles["fp32"]), "box", "--inventory", str(unshared))
        assert r.returncode == 0 and "verifying and switching" in r.stderr, r.stderr
        assert server.logins() - 2 >= 6, server.logins()  # mkdir, Python, readlink, upload, check, activate
        # a temporary directory too deep for a socket's path: no sharing, and the flash works as without it
        deep = tmp / ("d" * 90)
        deep.mkdir()
        before = server.logins()
        r = run_cli("flash", str(bundles["int8"]), "box", *inv, env={"TMPDIR": str(deep)})
        assert r.returncode == 0 and "verifying and switching" in r.stderr, r.stderr
        assert server.logins() - before >= 6, server.logins()
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def test_unreachable_device_and_refused_key_are_clear_errors(sshd, bundles, tmp_path):
    closed = f"ssh://{sshd.user}@127.0.0.1:{sshd.port + 1 if sshd.port < 65535 else 1}/tmp/x"
    r = run_cli("flash", str(bundles["int8"]), closed)
    assert r.returncode == 5 and "Cannot reach device" in r.stderr and "TIP" in r.stderr
    inv = _inventory(sshd, tmp_path / "inv.toml", "locked", tmp_path / "d", key="host_key")  # not authorised
    r = run_cli("flash", str(bundles["int8"]), "locked", "--inventory", str(inv))
    assert r.returncode == 5 and "Cannot reach device 'locked'" in r.stderr and "Permission denied" in r.stderr


def _flashed_device_running(sshd, bundles, tmp_path: Path, script: str) -> list[str]:
    """A device on the loopback sshd with face-id flashed, its app replaced by ``script``: the inventory args."""
    inv = _inventory(sshd, tmp_path / "inv.toml", "box", tmp_path / "box")
    assert run_cli("flash", str(bundles["int8"]), "box", "--inventory", str(inv)).returncode == 0
    app = tmp_path / "box" / "current" / "app" / "app.py"
    app.chmod(0o644)
    app.write_text(script)
    return ["--inventory", str(inv)]


def test_an_app_killed_by_a_signal_is_reported_as_such_not_as_unreachable(sshd, bundles, tmp_path):
    """ssh exits 255 both when it cannot connect and when the remote process dies of a signal (an out-of-memory
    kill on a Pi); edgekit names the signal and its likely cause."""
    inv = _flashed_device_running(sshd, bundles, tmp_path, "import os, signal\nprint('loading', flush=True)\n"
                                  "os.kill(os.getpid(), signal.SIGKILL)\n")
    r = run_cli("run", *inv, "box", "--demo")
    assert r.returncode == 5 and "loading" in r.stdout, r.stdout + r.stderr
    assert "The app on device 'box' was killed by SIGKILL (signal 9); the device is reachable." in r.stderr
    assert "out-of-memory" in r.stderr and "Cannot reach" not in r.stderr, r.stderr
    from edgekit.remote.address import resolve_device
    from edgekit.remote.transport import DeviceError, Transport

    t = Transport(resolve_device("box", inv[1]))
    with pytest.raises(DeviceError, match=r"was killed by SIGSEGV \(signal 11\)") as e:
        t.run([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"], what="A probe")
    assert "native library" in e.value.tip
    assert t.run(["sh", "-c", "exit 3"], check=False).returncode == 3  # an ordinary exit status passes through


def test_an_app_that_fails_exits_8_with_its_own_status_in_the_message(sshd, bundles, tmp_path):
    """The app's own status (3 here) would read as edgekit's "missing package"; run says what happened instead."""
    inv = _flashed_device_running(sshd, bundles, tmp_path, "import sys\nprint('no camera found', file=sys.stderr)\n"
                                  "sys.exit(3)\n")
    r = run_cli("run", *inv, "box", "--demo")
    assert r.returncode == 8 and "no camera found" in r.stderr, r.stdout + r.stderr
    assert "ERROR: The app on device 'box' exited with status 3. Got: --demo" in r.stderr, r.stderr
    r = run_cli("run", *inv, "box", "--demo", "--debug")  # --debug after the subcommand: edgekit's, not the app's
    assert r.returncode == 8 and "Traceback" in r.stderr and "AppFailed" in r.stderr, r.stderr


def test_run_streams_the_apps_output_line_by_line(sshd, bundles, tmp_path):
    inv = _flashed_device_running(sshd, bundles, tmp_path, "import time\nprint('episode 1')\ntime.sleep(3)\n"
                                  "print('episode 2')\n")
    proc = subprocess.Popen([sys.executable, "-m", "edgekit", "run", *inv, "box"], stdout=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    seen = time.monotonic()
    rest = proc.stdout.read()
    assert proc.wait() == 0 and first == "episode 1\n" and rest == "episode 2\n", (first, rest)
    assert time.monotonic() - seen > 2.0  # the first line arrived while the app was still running


def test_a_device_computing_a_different_metric_for_the_same_artifact_is_a_named_failure(sshd, bundles, tmp_path):
    """Same artifact, same samples, different answer: the device is wrong (measured: XNNPACK under qemu's `max` CPU
    gave face-id top1 0.0312 vs 0.9875), not the artifact. Here the workstation's record is what differs."""
    inv = _inventory(sshd, tmp_path / "inv.toml", "box", tmp_path / "box")
    assert run_cli("flash", str(bundles["int8"]), "box", "--inventory", str(inv)).returncode == 0
    record = tmp_path / "box" / "current" / "model" / "report.json"
    report = json.loads(record.read_text())
    report["metrics"]["top1"] -= 0.05  # 8 of 160 images apart: beyond float noise between CPUs
    record.chmod(0o644)
    record.write_text(json.dumps(report))
    r = run_cli("profile", "box", "--inventory", str(inv), "--min-runs", "10", "--min-seconds", "0",
                "--max-accuracy-drop", "1", "--out", str(tmp_path / "rep"))
    assert r.returncode == 5, r.stdout + r.stderr
    assert "1 device(s) compute a different result than the workstation for the same artifact." in r.stderr
    assert "check device-mismatch: the device's top1 is 0.9" in r.stdout and "5.00 points apart" in r.stdout
    assert "exceeds" not in r.stderr  # the accuracy gate does not blame the artifact
    saved = json.loads((tmp_path / "rep" / "box" / "face-id" / "report.json").read_text())
    assert saved["sanity"][0]["check"] == "device-mismatch"


def test_device_without_the_runtime_names_what_to_install(sshd, bundles, tmp_path):
    bare = tmp_path / "bare"  # a Python without numpy or any runtime: a venv without site packages
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    inv = _inventory(sshd, tmp_path / "inv.toml", "fresh", tmp_path / "d", python=f"{bare}/bin/python")
    assert run_cli("flash", str(bundles["int8"]), "fresh", "--inventory", str(inv)).returncode == 0
    r = run_cli("profile", "fresh", "--inventory", str(inv), "--out", str(tmp_path / "rep"))
    assert r.returncode != 0 and "lacks the module 'numpy'" in r.stderr and "--install" in r.stderr


def test_bad_device_addresses_are_refused():
    r = run_cli("run", "ssh://-oProxyCommand=evil/x", "--demo")
    assert r.returncode == 2 and "may not start with '-'" in r.stderr
    r = run_cli("run", "ftp://host/x", "--demo")
    assert r.returncode == 2 and "neither ssh:// nor local:" in r.stderr


# app -> (target, precision): every runtime gets apps; fp16 where the int8 search is slow to build or where int8
# is degraded (diffusion-digits: `package` refuses it, see test_gnn_grid for that check).
APP_TARGETS = {
    "face-id": ("raspberry-pi-5", "int8"), "plate-ocr": ("jetson-orin-nano", "int8"),
    "lstm-forecast": ("intel-core-ultra-npu", "int8"), "tiny-transformer": ("raspberry-pi-4", "fp16"),
    "gnn-grid": ("jetson-orin-nano", "fp32"), "dqn-cartpole": ("intel-core-ultra-npu", "fp16"),
    "gan-digits": ("raspberry-pi-5", "int8"), "diffusion-digits": ("intel-core-ultra-npu", "fp16"),
}


def test_every_app_has_a_target_here():
    from edgekit.bundle.package import default_apps_dir, list_apps
    from edgekit.zoo import ZOO

    apps = list_apps(default_apps_dir())
    assert "generic" in apps  # a user's model's app (tests/test_user_model_device.py)
    assert sorted(APP_TARGETS) == [a for a in apps if a != "generic"] == sorted(ZOO)


# With -m slow (CI's time): face-id, whose whole way (with its aarch64 wheels) runs on the emulated Pi 5 in CI
# (tests/test_emulated_pi.py), diffusion-digits, whose evaluation denoises 500 images 10 steps each (87 s), and the
# next slowest (gnn-grid 65 s, tiny-transformer 49 s, plate-ocr 47 s, lstm-forecast 35 s, gan-digits 28 s in a
# fresh-HOME `make test`); CI runs the same way for dqn-cartpole (its closed loop with gymnasium on the device)
SLOW_APPS = ("face-id", "diffusion-digits", "gnn-grid", "tiny-transformer", "plate-ocr", "lstm-forecast",
             "gan-digits")


@pytest.mark.parametrize("app", [pytest.param(a, marks=pytest.mark.slow) if a in SLOW_APPS else a
                                 for a in sorted(APP_TARGETS)])
def test_each_app_packages_flashes_runs_and_profiles(app, sshd, tmp_path_factory):
    target, precision = APP_TARGETS[app]
    root = tmp_path_factory.mktemp(app)
    r = run_cli("package", app, "--target", target, "--precision", precision, "--build", str(root / "build"),
                "--out", str(root / "dist"))
    assert r.returncode == 0, r.stderr
    inv = _inventory(sshd, root / "inv.toml", "dev", root / "device")
    bundle = root / "dist" / f"{app}-{target}-{precision}.tar.gz"
    _assert_device_side_only(bundle, app.replace("-", "_"))
    assert run_cli("flash", str(bundle), "dev", "--inventory", str(inv)).returncode == 0
    r = run_cli("run", "--inventory", str(inv), "dev", "--demo", "--json")
    assert r.returncode == 0, r.stderr
    demo = json.loads(r.stdout[r.stdout.index("{\n"):])
    assert demo["app"] == app and demo["seconds"] > 0
    if "png" in demo:  # a file an app makes goes beside the releases, not into the (SSH) user's HOME
        assert Path(demo["png"]) == (root / "device" / "output" / f"{app.replace('-', '_')}.png").resolve(), demo
        assert Path(demo["png"]).read_bytes().startswith(b"\x89PNG")
    r = run_cli("profile", "dev", "--inventory", str(inv), "--min-runs", "20", "--min-seconds", "0.1",
                "--out", str(root / "reports"))
    assert r.returncode == 0, r.stderr
    report = json.loads((root / "reports" / "dev" / app / "report.json").read_text())
    assert report["precision"] == precision and report["latency"]["runs"] >= 20
    shared = set(report["metrics"]) & set(report["workstation_metrics"]) - {"ms_per_image", "ms_per_step"}
    assert shared, report["metrics"]
    for key in shared:  # the same artifact and data give the same metric on the device and the workstation
        dev, ws = report["metrics"][key], report["workstation_metrics"][key]
        assert dev == pytest.approx(ws, rel=0.01, abs=0.01), (key, dev, ws)
    # the bundle carries the target's device preference; the session ran on the first that loads here
    from edgekit.targets import load_target

    manifest = json.loads((root / "device" / "current" / "manifest.json").read_text())
    assert manifest["devices"] == list(load_target(target).devices), manifest
    ran = {"onnxruntime": "ran on onnxruntime execution providers CPUExecutionProvider with",
           "openvino": "ran on openvino device CPU with", "litert": "ran on litert device CPU with"}[report["runtime"]]
    assert ran in r.stdout, r.stdout


@pytest.mark.slow
def test_offline_install_from_bundled_wheels(sshd, tmp_path):
    """--with-wheels downloads the device's wheels (x86_64 here, like the host); --install builds the device's
    venv from them with --no-index, and the app then runs on that venv alone."""
    r = run_cli("package", "lstm-forecast", "--target", "intel-core-ultra-npu", "--with-wheels",
                "--build", str(tmp_path / "build"), "--out", str(tmp_path / "dist"))
    assert r.returncode == 0, r.stderr
    bundle = tmp_path / "dist" / "lstm-forecast-intel-core-ultra-npu-int8.tar.gz"
    with tarfile.open(bundle) as tar:
        wheels = [n for n in tar.getnames() if n.startswith("wheels/")]
    assert any("numpy" in w for w in wheels) and any("openvino" in w for w in wheels)
    with tarfile.open(bundle) as tar:  # the wheels install on one Python: the manifest says which
        assert json.load(tar.extractfile("manifest.json"))["python"] == "==3.11.*"
    inv = _inventory(sshd, tmp_path / "inv.toml", "nuc", tmp_path / "nuc")
    r = run_cli("flash", str(bundle), "nuc", "--install", "--inventory", str(inv))
    assert r.returncode == 0 and "runtime installed" in r.stdout, r.stderr
    assert (tmp_path / "nuc" / "venv" / "bin" / "python").is_file()
    r = run_cli("run", "--inventory", str(inv), "nuc", "--evaluate", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["runtime"] == "openvino"


@pytest.mark.slow
def test_wheels_for_a_pi_cover_every_manylinux_tag_its_glibc_takes(tmp_path):
    """ai-edge-litert 2.3's aarch64 wheel is manylinux_2_27: asking pip only for 2_28 / 2_17 / 2014 failed (exit 4,
    "No matching distribution"); the target's glibc (2.36, bookworm) now gives every tag 2_17..2_36."""
    r = run_cli("package", "face-id", "--target", "raspberry-pi-5", "--with-wheels", "--build",
                str(tmp_path / "build"), "--out", str(tmp_path / "dist"))
    assert r.returncode == 0, r.stderr
    with tarfile.open(tmp_path / "dist" / "face-id-raspberry-pi-5-int8.tar.gz") as tar:
        wheels = [n for n in tar.getnames() if n.startswith("wheels/")]
        manifest = json.load(tar.extractfile("manifest.json"))
    assert any(re.search(r"ai_edge_litert-2\.3\..*-cp311-.*aarch64\.whl$", w) for w in wheels), wheels
    assert manifest["python"] == "==3.11.*", manifest["python"]


@pytest.mark.slow
def test_a_bundle_for_another_python_is_refused_before_the_device_changes(sshd, tmp_path):
    """A Jetson (JetPack 6) runs Python 3.10: its bundle's wheels are cp310 and the manifest says so; flashing it to
    a device whose Python is another is refused before anything there changes."""
    from edgekit.remote.flash import python_matches

    assert python_matches("3.10.12", "==3.10.*") and not python_matches("3.11.2", "==3.10.*")
    assert python_matches("3.11.2", "<3.12,>=3.11") and not python_matches("3.12.1", "<3.12,>=3.11")
    target = tmp_path / "x86-box.toml"  # a device like this host, but with JetPack's Python
    target.write_text("\n".join([
        'name = "x86-box"', 'description = "an x86 box with Python 3.10"', 'runtime = "litert"', 'format = "tflite"',
        'precisions = ["int8"]', 'default_precision = "int8"', 'arch = "x86_64"', "threads = 2", 'devices = ["CPU"]',
        'device_requirements = ["numpy>=1.26", "ai-edge-litert==2.3.*"]', 'python = "3.10"', 'glibc = "2.35"', ""]))
    r = run_cli("package", "face-id", "--target", str(target), "--with-wheels", "--build", str(tmp_path / "build"),
                "--out", str(tmp_path / "dist"))
    assert r.returncode == 0, r.stderr
    bundle = tmp_path / "dist" / "face-id-x86-box-int8.tar.gz"
    with tarfile.open(bundle) as tar:
        assert json.load(tar.extractfile("manifest.json"))["python"] == "==3.10.*"
        assert all("-cp310-" in n for n in tar.getnames() if n.startswith("wheels/") and "numpy" in n)
    inv = _inventory(sshd, tmp_path / "inv.toml", "box", tmp_path / "box")
    r = run_cli("flash", str(bundle), "box", "--inventory", str(inv))
    assert r.returncode == 5, r.stdout + r.stderr
    assert "The bundle is for Python ==3.10.*; device 'box' runs Python 3.11" in r.stderr, r.stderr
    assert not (tmp_path / "box" / "current").exists() and not list((tmp_path / "box" / "staging").iterdir())


def test_run_with_nothing_flashed_or_no_numpy_is_one_clear_error(tmp_path, bundles):
    """`run` on a device never flashed printed Python's raw "can't open file"; with a device Python lacking numpy it
    streamed a raw traceback (profile already said what to do)."""
    r = run_cli("run", f"local:{tmp_path / 'empty'}", "--demo")
    assert r.returncode == 2 and "ERROR: Nothing is flashed in " in r.stderr and "TIP: edgekit flash" in r.stderr
    assert "Traceback" not in r.stderr and "can't open file" not in r.stderr, r.stderr
    bare = tmp_path / "bare"  # a Python without numpy, as Debian's python3 is
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    inv = tmp_path / "inv.toml"
    inv.write_text(f'[devices.box]\nurl = "local:{tmp_path / "box"}"\npython = "{bare / "bin" / "python"}"\n')
    # a local device needs no rsync: only the tools every system has
    tools = tmp_path / "tools"
    tools.mkdir()
    for name in ("sh", "mkdir", "readlink", "env", "test"):
        (tools / name).symlink_to(shutil.which(name))
    r = run_cli("flash", str(bundles["int8"]), "box", "--inventory", str(inv), env={"PATH": str(tools)})
    assert r.returncode == 0, r.stderr
    r = run_cli("run", "--inventory", str(inv), "box", "--demo")
    assert r.returncode == 3 and "lacks the module 'numpy' this app needs" in r.stderr, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and "TIP: Flash with --install" in r.stderr
