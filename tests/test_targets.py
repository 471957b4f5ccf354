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
static_batch = true
devices = ["CPUExecutionProvider"]
device_requirements = ["numpy", "onnxruntime"]
"""


def test_builtin_targets_are_the_documented_four():
    assert set(builtin_targets()) == {"raspberry-pi-4", "raspberry-pi-5", "jetson-orin-nano", "intel-core-ultra-npu"}


def test_all_expands_to_every_builtin_target():
    assert [t.name for t in resolve_targets(["all"])] == sorted(builtin_targets())


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
