"""plate-ocr: the deterministic plate renderer, numpy decoding, and conversion verified on every runtime."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgekit.converters.common.pipeline import convert, plan_jobs
from edgekit.errors import DataError
from edgekit.targets import resolve_targets
from edgekit.zoo.plate_ocr import plates, task

TARGETS = ["raspberry-pi-5", "jetson-orin-nano", "intel-core-ultra-npu"]


@pytest.fixture(scope="module")
def plate_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    summary = convert("plate-ocr", plan_jobs(resolve_targets(TARGETS), "all", every=False), out)
    return out / "plate-ocr", summary


def test_rendering_is_deterministic_per_seed_and_index():
    a, ta = plates.generate(6, seed=123, photos="evaluation")
    b, tb = plates.generate(6, seed=123, photos="evaluation")
    c, tc = plates.generate(6, seed=124, photos="evaluation")
    np.testing.assert_array_equal(a, b)
    assert ta == tb and ta != tc
    assert a.shape == (6, plates.HEIGHT, plates.WIDTH, 3) and a.dtype == np.float32
    assert 0.0 <= a.min() and a.max() <= 1.0 and a.std() > 0.05
    for text in ta:
        assert text[0] in task.PROVINCES and text[1] in task.LETTERS and len(text) == 7
        assert not set(text) & {"I", "O"}


def test_every_province_glyph_renders_distinctly():
    glyphs = {ch: np.asarray(plates._glyph(ch)) for ch in task.PROVINCES}
    assert all(g.max() == 255 for g in glyphs.values())  # the font has the glyph (not an empty box)
    flat = np.stack([g.ravel() for g in glyphs.values()]).astype(np.float32)
    assert len(np.unique(flat, axis=0)) == 31


def test_m_and_j_follow_the_plate_lettering():
    """No font tried had the plate's M (diagonals meeting at half height) or J (no top bar): they are drawn."""
    m, j = (np.asarray(plates._glyph(ch)) > 127 for ch in "MJ")
    centre = m[:, m.shape[1] // 2]
    assert centre[int(0.4 * len(centre))] and not centre[int(0.65 * len(centre)):].any()
    assert not j[:2, : j.shape[1] // 2].any() and j[:2, -j.shape[1] // 3:].any()  # the stem's top, no bar leftwards


def test_a_missing_lettering_font_is_one_clear_error(monkeypatch):
    from edgekit.errors import MissingDependencyError

    monkeypatch.setattr(plates, "LATIN_FONT", "/nonexistent/B612-Bold.otf")
    monkeypatch.setitem(plates.FONTS, "/nonexistent/B612-Bold.otf", "fonts-b612")
    plates._glyph.cache_clear()
    try:
        with pytest.raises(MissingDependencyError, match="needs its lettering fonts") as err:
            plates._glyph("A")
        assert "sudo apt-get install fonts-b612" in str(err.value.tip)
    finally:
        plates._glyph.cache_clear()


def test_rendered_crops_have_the_statistics_of_real_crops():
    """Measured on real plate crops (100 x 32): the crop's top and bottom rows have HSV saturation about 42 of 255
    and neighbouring pixels' colour (RGB minus its grey) differs by about 1; the plate's blue reads about
    (45, 80, 130). The renderer before the realism work gave 150, 10.8 and (33, 67, 143)."""
    from PIL import Image

    from edgekit.zoo.plate_ocr import model

    x = model.dataset("heldout", 100)[0] * 255
    edge = np.concatenate([x[:, :1], x[:, -1:]], 1)
    saturation = np.mean([np.asarray(Image.fromarray(e.astype(np.uint8)).convert("HSV"))[..., 1] for e in edge])
    chroma = edge - edge.mean(-1, keepdims=True)
    jumps = np.abs(np.diff(chroma, axis=2)).mean()
    middle = x[:, 10:22, 10:90].reshape(-1, 3)
    blue = middle[(middle[:, 2] > middle[:, 0] + 30) & (middle[:, 2] < 200)].mean(0)
    assert 20 < saturation < 70 and jumps < 2.5, (saturation, jumps)
    np.testing.assert_allclose(blue, (45, 80, 130), atol=25)


@pytest.mark.parametrize("text, message", [
    ("京A1234", "A plate has exactly 7 characters"),
    ("京AI2345", "Unknown character 'I' at position 3 of plate '京AI2345'"),
    ("东A12345", "Unknown character '东' at position 1"),
    ("京112345", "Unknown character '1' at position 2"),
])
def test_unknown_plate_characters_are_an_error_at_generation(text, message):
    with pytest.raises(DataError, match=message):
        plates.render(text, np.random.default_rng(0), "training")


def test_decode_respects_what_each_position_may_hold():
    truth = ["粤B12345", "京AD7Z9Q"]
    logits = np.full((2, 7, len(plates.ALPHABET)), -5.0, np.float32)
    for i, text in enumerate(truth):
        for j, ch in enumerate(text):
            logits[i, j, plates.ALPHABET.index(ch)] = 5.0
    logits[0, 0, plates.ALPHABET.index("7")] = 9.0  # a digit can never be the province
    assert plates.decode(logits) == truth
    assert task.score(["粤B12345", "京AD7Z9Z"], truth) == {
        "exact_match": 0.5, "char_accuracy": 13 / 14, "province_accuracy": 1.0}


def test_fp32_reads_ninety_seven_percent_of_heldout_plates_exactly(plate_build):
    _, summary = plate_build
    assert summary.reference_metrics["n_heldout"] == 1000
    assert summary.reference_metrics["exact_match"] >= 0.97
    assert summary.reference_metrics["char_accuracy"] >= 0.99


@pytest.mark.parametrize("target", TARGETS)
def test_int8_exact_match_within_two_points_on_each_runtime(plate_build, target):
    model_dir, summary = plate_build
    fp32 = summary.reference_metrics["exact_match"]
    for precision in ("fp16", "int8"):
        r = json.loads((model_dir / target / precision / "report.json").read_text())
        assert r["metrics"]["exact_match"] >= max(0.97, fp32 - 0.02), (precision, r["metrics"])
        assert r["agreement"]["top1_agreement"] >= 0.99  # per character position
