"""diffusion-digits: the numpy DDIM sampler, calibration on the sampler's own inputs, the denoiser on every runtime."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgekit.converters.common.pipeline import convert, plan_jobs
from edgekit.errors import UsageError
from edgekit.runtime import open_session
from edgekit.targets import resolve_targets
from edgekit.zoo.diffusion_digits import model as ddm, task as dd
from edgekit.zoo import digits

TARGETS = ["raspberry-pi-5", "jetson-orin-nano", "intel-core-ultra-npu"]


@pytest.fixture(scope="module")
def diffusion_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    summary = convert("diffusion-digits", plan_jobs(resolve_targets(TARGETS), "int8", every=False), out)
    return out / "diffusion-digits", summary


def _oracle(x0: np.ndarray, seen: list[int]):
    """A perfect denoiser for known clean images: returns the exact noise that separates x_t from x0."""
    def predict(feeds):
        t = int(np.argmin(np.abs(dd.time_embedding(np.arange(dd.T)) - feeds[dd.TIME][0]).sum(1)))
        seen.append(t)
        ab = dd.alpha_bar(t)
        if ab == 1.0:  # t = 0 holds no noise: any prediction is multiplied by sqrt(1 - ab) = 0
            return {dd.OUTPUT: np.zeros_like(feeds[dd.NOISY])}
        return {dd.OUTPUT: ((feeds[dd.NOISY] - np.sqrt(ab) * x0) / np.sqrt(1 - ab)).astype(np.float32)}
    return predict


@pytest.mark.parametrize("steps", [1, 4, dd.STEPS])
def test_ddim_with_a_perfect_denoiser_returns_the_clean_images(steps):
    images = digits.split("heldout")[0][::100]
    seen: list[int] = []
    out = dd.sample(_oracle(images * 2 - 1, seen), dd.noise("heldout", len(images)), steps=steps)
    np.testing.assert_allclose(out, images, atol=1e-4)
    assert seen == dd.sampler_timesteps(steps).tolist() and seen[0] == dd.T - 1
    assert len(seen) == steps and (steps == 1 or seen[-1] == 0)


def test_sampler_rejects_a_bad_step_count():
    with pytest.raises(ValueError, match=r"steps must be between 1 and 1000. Got: steps=0"):
        dd.sampler_timesteps(0)


def test_time_embedding_tells_every_timestep_apart():
    emb = dd.time_embedding(np.arange(dd.T))
    assert emb.shape == (dd.T, dd.EMBED) and emb.dtype == np.float32 and np.abs(emb).max() <= 1.0
    gaps = np.abs(emb[1:] - emb[:-1]).sum(1)
    assert gaps.min() > 1e-2  # neighbouring timesteps give distinguishable inputs


def test_calibration_covers_every_sampler_timestep_equally():
    calib = ddm.calibration_inputs(200)
    assert calib[dd.NOISY].shape == (200, 28, 28, 1) and calib[dd.TIME].shape == (200, dd.EMBED)
    rows, counts = np.unique(calib[dd.TIME], axis=0, return_counts=True)
    assert len(rows) == dd.STEPS and set(counts) == {200 // dd.STEPS}
    # the first step sees pure noise, later steps the sampler's partly denoised images
    first = calib[dd.NOISY][calib[dd.TIME][:, 0] == dd.time_embedding(np.array([dd.T - 1]))[0, 0]]
    assert abs(first.std() - 1.0) < 0.05


def test_fp32_samples_are_recognisable_digits(diffusion_build):
    _, summary = diffusion_build
    ref = summary.reference_metrics
    assert ref["mean_confidence"] >= 0.8 and ref["classes_covered"] >= 9, ref
    assert ref["psnr_vs_fp32_db"] == 120.0 and ref["n_generated"] == dd.N_EVAL and ref["steps"] == dd.STEPS


@pytest.mark.parametrize("target", TARGETS)
def test_int8_denoiser_samples_digits_close_to_fp32(diffusion_build, target):
    model_dir, _ = diffusion_build
    r = json.loads((model_dir / target / "int8" / "report.json").read_text())
    m = r["metrics"]
    # Recognisable digits of every class; the 10-step trajectories drift from fp32's (measured 15.6-20.3 dB).
    assert m["mean_confidence"] >= 0.8 and m["classes_covered"] >= 8 and m["psnr_vs_fp32_db"] >= 12.0, m
    assert m["ms_per_image"] == pytest.approx(m["ms_per_step"] * dd.STEPS) and m["ms_per_step"] > 0


def test_denoiser_is_fed_by_name_and_checks_the_time_input(diffusion_build):
    model_dir, _ = diffusion_build
    session = open_session(next((model_dir / "jetson-orin-nano" / "int8").glob("*.onnx")))
    assert {t.name for t in session.inputs} == {dd.NOISY, dd.TIME}
    with pytest.raises(UsageError, match="Input 'time' has the wrong shape"):
        session.run({dd.NOISY: np.zeros((1, 28, 28, 1), np.float32), dd.TIME: np.zeros((1, 32), np.float32)})
