"""gnn-grid: the pandapower sample generator, two inputs fed by name, conversion verified on every runtime."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgekit.converters.common.pipeline import convert, plan_jobs
from edgekit.runtime import open_session
from edgekit.targets import resolve_targets
from edgekit.zoo.gnn_grid import grid, model as gnn_grid

TARGETS = ["raspberry-pi-5", "jetson-orin-nano", "intel-core-ultra-npu"]


@pytest.fixture(scope="module")
def gnn_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    jobs = plan_jobs(resolve_targets(TARGETS), "all", every=False)
    jobs += plan_jobs(resolve_targets(TARGETS[:2]), "int16", every=False)  # OpenVINO has no int16
    summary = convert("gnn-grid", jobs, out)
    return out / "gnn-grid", summary


def test_samples_are_solved_ac_power_flows_and_deterministic():
    x1, y1 = grid._solve("heldout", 3)
    x2, y2 = grid._solve("heldout", 3)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert x1.shape == (118, 6) and y1.shape == (118, 2)
    slack = int(np.flatnonzero(x1[:, 5])[0])
    assert y1[slack, 1] == pytest.approx(30.0) and y1[slack, 0] == pytest.approx(x1[slack, 3])
    gens = x1[:, 4] > 0
    np.testing.assert_allclose(y1[gens, 0], x1[gens, 3], atol=0.05)  # PV buses hold their setpoint (Q limits)
    assert 0.9 < y1[:, 0].min() and y1[:, 0].max() <= 1.06
    x3, _ = grid._solve("heldout", 4)
    assert not np.array_equal(x1, x3)


def test_adjacency_is_symmetric_normalised_with_self_loops():
    a = grid.adjacency()
    np.testing.assert_allclose(a, a.T)
    assert (np.diag(a) > 0).all()
    eig = np.linalg.eigvalsh(a.astype(np.float64))
    assert eig.max() == pytest.approx(1.0, abs=1e-5)  # D^-1/2 (A + I) D^-1/2 has spectral radius 1


def test_both_inputs_are_fed_by_name_on_every_runtime(gnn_build):
    model_dir, _ = gnn_build
    feeds = gnn_grid.inputs("heldout", 3)
    swapped = {gnn_grid.ADJ_INPUT: feeds[gnn_grid.ADJ_INPUT], gnn_grid.FEATURES_INPUT: feeds[gnn_grid.FEATURES_INPUT]}
    for target, artifact in (("raspberry-pi-5", "model.tflite"), ("jetson-orin-nano", "model.onnx"),
                             ("intel-core-ultra-npu", "model.xml")):
        s = open_session(model_dir / target / "int8" / artifact)
        assert {t.name for t in s.inputs} == {"features", "adjacency"}
        np.testing.assert_array_equal(s.predict(feeds)["state"], s.predict(swapped)["state"])


def test_report_states_the_int8_limit_and_why(gnn_build):
    model_dir, summary = gnn_build
    assert any("int8 does not keep voltage-magnitude RMSE within 10 %" in n for n in summary.notes)
    md = (model_dir / "report.md").read_text()
    assert "## Known limits" in md and "adjacency input is quantized" in md


def test_gnn_beats_its_baselines(gnn_build):
    _, summary = gnn_build
    ref, base = summary.reference_metrics, summary.baseline
    assert ref["vm_rmse_pu"] < base["per_bus_linear_vm_rmse_pu"]
    assert ref["va_rmse_deg"] < min(base["per_bus_linear_va_rmse_deg"], base["dc_powerflow_va_rmse_deg"])


@pytest.mark.parametrize("target", TARGETS)
def test_float_artifacts_match_fp32_and_int8_stays_close(gnn_build, target):
    """fp32/fp16 reproduce the Keras state. int8 misses issue 4's 10 % bar on every backend (see the recipe);
    this guards against it getting worse than measured (vm +0.0004..0.0011 p.u., va +0.2..1.0 deg)."""
    model_dir, summary = gnn_build
    ref = summary.reference_metrics
    for precision in ("fp32", "fp16"):
        r = json.loads((model_dir / target / precision / "report.json").read_text())
        assert r["metrics"]["vm_rmse_pu"] <= 1.01 * ref["vm_rmse_pu"], (precision, r["metrics"])
    r = json.loads((model_dir / target / "int8" / "report.json").read_text())
    assert r["metrics"]["vm_rmse_pu"] <= ref["vm_rmse_pu"] + 0.0015, r["metrics"]
    assert r["metrics"]["va_rmse_deg"] <= ref["va_rmse_deg"] + 1.2, r["metrics"]


def test_int8_is_marked_degraded_and_is_not_packaged_unless_allowed(gnn_build, tmp_path):
    """The known int8 miss is caught by the degradation check (RMSE > 10 % worse than fp32) on every runtime, the
    float builds are not; `package` refuses the degraded artifact (exit 7, nothing written) unless allowed."""
    from tests.conftest import run_cli

    model_dir, summary = gnn_build
    flagged = {r.name for r in summary.artifacts if r.degraded}
    # int16 with int8 weights (LiteRT's 16x8) still misses the bar; with the recipe's 16-bit weights ONNX Runtime's
    # does not (see test_int16_meets_the_bar_on_onnx_runtime)
    assert flagged == {f"{t} int8" for t in TARGETS} | {"raspberry-pi-5 int16"}, flagged
    assert set(summary.degraded) == flagged
    row = next(r for r in summary.artifacts if r.name == "raspberry-pi-5 int8")
    assert row.degraded[0].startswith("vm_rmse_pu ") and "% worse than fp32's" in row.degraded[0]
    build = str(model_dir.parent)
    r = run_cli("package", "gnn-grid", "--target", "raspberry-pi-5", "--precision", "int8", "--build", build,
                "--out", str(tmp_path / "dist"))
    assert r.returncode == 7 and "The artifact is degraded vs fp32 on held-out data: vm_rmse_pu" in r.stderr
    assert "Traceback" not in r.stderr and not list(tmp_path.rglob("*.tar.gz"))
    r = run_cli("package", "gnn-grid", "--target", "raspberry-pi-5", "--precision", "int8", "--build", build,
                "--out", str(tmp_path / "dist"), "--allow-degraded")
    assert r.returncode == 0, r.stderr


def test_int16_meets_the_bar_on_onnx_runtime(gnn_build):
    """Issue 17's bar: voltage RMSE within 10 % of fp32. Measured: full-integer int8 +156..384 %; int16 activations
    with int8 weights +21.8 % (LiteRT) / +31.9 % (ONNX Runtime); with 16-bit weights too (ONNX Runtime) +0.0 %;
    LiteRT's dynamic-range int8 (the speed guard's variant: full-integer ran 8.5x slower than fp32) +12.7 %."""
    model_dir, summary = gnn_build
    rows = {r.name: r for r in summary.artifacts}
    ref = summary.reference_metrics["vm_rmse_pu"]
    assert rows["jetson-orin-nano int16"].value <= 1.10 * ref, rows["jetson-orin-nano int16"]
    assert rows["jetson-orin-nano int16"].size_bytes < rows["jetson-orin-nano fp32"].size_bytes
    assert 1.10 * ref < rows["raspberry-pi-5 int16"].value
    # LiteRT int8 is dynamic-range (full-integer ran 10x slower than fp32): far closer than full-integer's +156 %
    meta = json.loads((model_dir / "raspberry-pi-5" / "int8" / "metadata.json").read_text())
    assert meta["format_details"] == {"int8_scheme": "dynamic-range"}, meta["format_details"]
    assert rows["raspberry-pi-5 int8"].int8_speed["chosen"] == "dynamic-range", rows["raspberry-pi-5 int8"].int8_speed
    assert rows["raspberry-pi-5 int8"].value <= 1.3 * ref, rows["raspberry-pi-5 int8"]
    assert rows["raspberry-pi-5 int8"].size_bytes < 0.5 * rows["raspberry-pi-5 fp32"].size_bytes
