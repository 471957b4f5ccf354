"""The main job through the CLI, exactly as the README runs it (slow: every target, every precision)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli


@pytest.mark.slow
def test_convert_face_id_for_all_targets_json(tmp_path):
    r = run_cli("convert", "face-id", "--target", "all", "--out", str(tmp_path), "--json")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""  # framework chatter stays off the terminal
    summary = json.loads(r.stdout)  # stdout is pure JSON
    rows = summary["artifacts"]
    assert {(a["target"], a["precision"]) for a in rows} == {
        (t, p) for t in ("raspberry-pi-4", "raspberry-pi-5", "jetson-orin-nano", "intel-core-ultra-npu")
        for p in ("fp32", "fp16", "int8")
    }
    fp32 = summary["reference_metrics"]["top1"]
    assert all(a["value"] >= fp32 - 0.01 for a in rows), rows
    assert (tmp_path / "face-id" / "report.md").is_file()
