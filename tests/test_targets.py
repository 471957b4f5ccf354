from __future__ import annotations

import pytest

from edgekit.errors import InputFileError, UsageError
from edgekit.targets import builtin_targets, load_target, resolve_targets

GOOD = """
name = "my-board"
description = "test board"
runtime = "onnxruntime"
format = "onnx"
precisions = ["fp16"]
default_precision = "fp16"
arch = "aarch64"
threads = 2
devices = ["CPUExecutionProvider"]
device_requirements = ["numpy", "onnxruntime"]
"""


def test_builtin_targets_are_the_documented_four():
    assert set(builtin_targets()) == {"raspberry-pi-4", "raspberry-pi-5", "jetson-orin-nano", "intel-core-ultra-npu"}


def test_all_expands_to_every_builtin_target():
    assert [t.name for t in resolve_targets(["all"])] == sorted(builtin_targets())
    # a list as users write it: --target raspberry-pi-5,jetson-orin-nano
    assert [t.name for t in resolve_targets(["raspberry-pi-5,jetson-orin-nano", "raspberry-pi-5"])] == [
        "raspberry-pi-5", "jetson-orin-nano"]


def test_user_target_file(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text(GOOD)
    t = load_target(str(f))
    assert (t.name, t.format, t.precisions) == ("my-board", "onnx", ("fp16",))
    with pytest.raises(UsageError, match="does not support precision 'int8'"):
        t.check_precision("int8")


def test_unknown_key_is_an_error_with_suggestion(tmp_path):
    f = tmp_path / "typo.toml"
    f.write_text(GOOD.replace("threads = 2", "thread = 2"))
    with pytest.raises(InputFileError, match="unknown key 'thread'. Did you mean 'threads'"):
        load_target(str(f))


def test_runtime_must_match_format(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text(GOOD.replace('runtime = "onnxruntime"', 'runtime = "litert"'))
    with pytest.raises(InputFileError, match="runs on runtime 'onnxruntime'"):
        load_target(str(f))


def test_unknown_target_suggests_closest():
    with pytest.raises(UsageError) as e:
        load_target("jetson-orin")
    assert "Did you mean 'jetson-orin-nano'?" in e.value.message


def test_a_retired_key_says_why_and_what_to_do(tmp_path):
    f = tmp_path / "old.toml"
    f.write_text(GOOD + "static_batch = true\n")
    with pytest.raises(InputFileError, match="retired key 'static_batch': every target compiles a static batch") as e:
        load_target(str(f))
    assert e.value.tip == f"Delete the line 'static_batch = ...' from {f}."


def test_every_runtime_is_an_extra_of_the_package():
    """formats.RUNTIMES names the pip extra that brings each runtime: pyproject must define it with that package."""
    import tomllib
    from pathlib import Path

    from edgekit.formats import FORMATS, RUNTIMES

    extras = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for r in RUNTIMES.values():
        assert any(req.startswith(r.distribution) for req in extras[r.extra]), (r.name, extras.get(r.extra))
    assert {f.runtime for f in FORMATS.values()} == set(RUNTIMES)


def test_int16_is_offered_where_the_format_can_write_it_and_built_only_when_named(tmp_path):
    from edgekit.converters.common.pipeline import plan_jobs

    f = tmp_path / "ov16.toml"
    f.write_text(GOOD.replace('runtime = "onnxruntime"', 'runtime = "openvino"').replace(
        'format = "onnx"', 'format = "openvino-ir"').replace('precisions = ["fp16"]', 'precisions = ["fp16", "int16"]'))
    with pytest.raises(InputFileError, match="the format 'openvino-ir' cannot be written at every precision listed"):
        load_target(str(f))
    every = resolve_targets(["all"])
    assert "int16" not in {j.precision for j in plan_jobs(every, None, every=True)}  # opt-in: never by 'all'
    named = plan_jobs(every, "int16", every=True)  # the targets that offer it
    assert sorted(j.target.name for j in named) == ["jetson-orin-nano", "raspberry-pi-4", "raspberry-pi-5"]
    with pytest.raises(UsageError, match="does not support precision 'int16'"):
        plan_jobs(resolve_targets(["intel-core-ultra-npu"]), "int16", every=False)


def test_the_devices_python_and_glibc_are_optional_versions(tmp_path):
    assert (load_target("jetson-orin-nano").python, load_target("jetson-orin-nano").glibc) == ("3.10", "2.35")
    assert load_target(str(_write(tmp_path, GOOD))).python == "3.11"  # the default: what edgekit's device code runs on
    with pytest.raises(InputFileError, match=r"'python' is a version like \"3.11\"") as e:
        load_target(str(_write(tmp_path, GOOD + 'python = "3"\n')))
    assert e.value.got == "python = '3'"


def _write(tmp_path, text: str):
    f = tmp_path / "board.toml"
    f.write_text(text)
    return f



@pytest.mark.parametrize("line, message, got", [
    ('threads = "four"', "'threads' must be a whole number of at least 1", "threads = 'four' (str)"),
    ("threads = 0", "'threads' must be a whole number of at least 1", "threads = 0 (int)"),
    ('devices = "CPU"', "'devices' must be a list of strings", "devices = 'CPU' (str)"),
    ("precisions = [16]", "'precisions' must be a list of strings", "precisions = [16] (list)"),
    ('name = "../../../../elsewhere/escaped"', "'name' names build directories, so it is a plain name",
     "name = '../../../../elsewhere/escaped'"),
    ('name = "My Board"', "so it is a plain name", "name = 'My Board'"),
    ("python = 3.10", "'python' is a version like", "python = 3.1"),
])
def test_target_values_are_checked_when_the_file_is_read(tmp_path, line, message, got):
    """A wrong type once failed at the very end of a conversion (`threads = "four"`); a name is a directory name."""
    key = line.split(" = ")[0]
    text = "\n".join(line if row.startswith(f"{key} = ") else row for row in GOOD.splitlines())
    with pytest.raises(InputFileError) as e:
        load_target(str(_write(tmp_path, text if f"{key} = " in GOOD else text + f"\n{line}\n")))
    assert message in e.value.message and e.value.got == got, (e.value.message, e.value.got)


def test_a_target_file_that_is_not_utf8_is_one_clear_error(tmp_path):
    f = tmp_path / "latin1.toml"
    f.write_bytes(GOOD.replace("test board", "caf\xe9 board").encode("latin-1"))
    with pytest.raises(InputFileError, match="is not UTF-8 text"):
        load_target(str(f))


def test_a_target_name_cannot_write_outside_out(tmp_path):
    from tests.conftest import run_cli

    evil = _write(tmp_path, GOOD.replace('name = "my-board"', 'name = "../../escaped"'))
    (tmp_path / "escaped").mkdir()
    (tmp_path / "escaped" / "keep.txt").write_text("mine")
    r = run_cli("convert", str(tmp_path / "model.keras"), "--target", str(evil), "--out", str(tmp_path / "o" / "b"))
    assert r.returncode == 2 and "so it is a plain name" in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert (tmp_path / "escaped" / "keep.txt").read_text() == "mine" and not (tmp_path / "o").exists()
