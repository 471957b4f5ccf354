"""Chinese licence plates rendered deterministically from a seed (no real plate images ship in any registry).

A plate is 7 characters: a province (31), a letter (A-Z without I and O), then 5 letters or digits, white on a
blue 440 x 140 mm plate laid out as in GA 36-2018 (45 x 90 mm characters, 12 mm gaps, a separator dot after the
second). Glyphs come from Debian's WenQuanYi Micro Hei (fonts-wqy-microhei; fonts-noto-cjk works too), which has
every province character; real plates use a dedicated typeface, so shapes differ slightly. Each image gets
realistic variation: plate and character colour, perspective, rotation, scale/offset in the crop, background
clutter, blur, brightness, sensor noise and partial occlusion. Same seed and index -> the same image.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from edgekit.errors import MissingDependencyError
# the alphabet and its codec are device-side (task); re-exported for the renderer's users
from edgekit.zoo.plate_ocr.task import ALPHABET, LENGTH, POSITIONS, decode, encode, validate  # noqa: F401

HEIGHT, WIDTH = 32, 100  # model input (pixels), RGB in [0, 1]

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
# Plate geometry in millimetres (rendered at 1 px/mm): character x positions, size, border.
PLATE_W, PLATE_H = 440, 140
CHAR_W, CHAR_H, CHAR_TOP = 45, 90, 25
CHAR_X = (15, 72, 151, 208, 265, 322, 379)  # the 34 mm gap after the 2nd character holds the dot


@functools.lru_cache(maxsize=1)
def font_path() -> Path:
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    raise MissingDependencyError(
        "Rendering plates needs a CJK font with every province character.",
        got=f"none of {', '.join(FONT_CANDIDATES)}",
        tip="sudo apt-get install fonts-wqy-microhei   (or fonts-noto-cjk)",
    )


@functools.lru_cache(maxsize=128)
def _glyph(ch: str):
    """A white-on-black glyph stretched to the 45 x 90 mm character box, as plate lettering is."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(font_path()), 120)
    left, top, right, bottom = font.getbbox(ch)
    img = Image.new("L", (right - left, bottom - top), 0)
    ImageDraw.Draw(img).text((-left, -top), ch, fill=255, font=font)
    return img.resize((CHAR_W, CHAR_H), Image.LANCZOS)


def random_text(rng: np.random.Generator) -> str:
    return "".join(allowed[rng.integers(len(allowed))] for allowed in POSITIONS)


def _plate(text: str, rng: np.random.Generator):
    from PIL import Image, ImageDraw

    blue = np.array([10, 60, 170]) + rng.integers(-25, 26, 3)
    white = 255 - rng.integers(0, 40)
    plate = Image.new("RGB", (PLATE_W, PLATE_H), tuple(int(v) for v in np.clip(blue, 0, 255)))
    draw = ImageDraw.Draw(plate)
    draw.rounded_rectangle((4, 4, PLATE_W - 5, PLATE_H - 5), radius=10, outline=(white,) * 3, width=3)
    draw.ellipse((131, 65, 141, 75), fill=(white,) * 3)
    ink = Image.new("RGB", (CHAR_W, CHAR_H), (white,) * 3)
    for ch, x in zip(text, CHAR_X):
        plate.paste(ink, (x, CHAR_TOP), _glyph(ch))
    return plate


def _quad(rng: np.random.Generator) -> np.ndarray:
    """Where the output's corners (UL, LL, LR, UR) fall on the plate: a crop with some scene around the plate,
    rotated, shifted and perspective-distorted."""
    mx, my = rng.uniform(0.0, 0.10) * PLATE_W, rng.uniform(0.02, 0.25) * PLATE_H
    corners = np.array([[-mx, -my], [-mx, PLATE_H + my], [PLATE_W + mx, PLATE_H + my], [PLATE_W + mx, -my]])
    centre = np.array([PLATE_W / 2 + rng.uniform(-8, 8), PLATE_H / 2 + rng.uniform(-5, 5)])
    angle = np.deg2rad(rng.uniform(-5, 5))
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    corners = (corners - centre) @ rot.T * rng.uniform(0.95, 1.06) + centre
    return corners + rng.uniform(-0.05, 0.05, (4, 2)) * (PLATE_W, PLATE_H)


def render(text: str, rng: np.random.Generator) -> np.ndarray:
    """One plate image, RGB float32 (HEIGHT, WIDTH, 3) in [0, 1], with random realistic variation."""
    from PIL import Image, ImageDraw, ImageFilter

    validate(text)
    plate = _plate(text, rng)
    size = (WIDTH * 2, HEIGHT * 2)  # work at twice the output resolution, then downsample like a camera
    quad = tuple(_quad(rng).ravel())
    warped = plate.transform(size, Image.QUAD, quad, resample=Image.BILINEAR)
    mask = Image.new("L", plate.size, 255).transform(size, Image.QUAD, quad, resample=Image.BILINEAR)
    # Scene clutter around the plate: a coarse random texture over a random base colour.
    noise = rng.normal(0, 30, (size[1] // 4, size[0] // 4, 3))
    clutter = np.clip(rng.integers(30, 200, 3) + np.kron(noise, np.ones((4, 4, 1))), 0, 255).astype(np.uint8)
    img = Image.fromarray(clutter)
    img.paste(warped, (0, 0), mask)
    if rng.random() < 0.3:  # partial occlusion: dirt, a bolt, a frame edge over part of one or two characters
        w, h = rng.uniform(3, 11), rng.uniform(5, 22)
        x, y = rng.uniform(0, size[0] - w), rng.uniform(0, size[1] - h)
        ImageDraw.Draw(img).rectangle((x, y, x + w, y + h), fill=tuple(int(v) for v in rng.integers(0, 120, 3)))
    img = img.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.0, 1.3))))
    img = img.resize((WIDTH, HEIGHT), Image.BILINEAR)
    arr = np.asarray(img, dtype=np.float32) * rng.uniform(0.45, 1.25)
    arr += rng.normal(0, rng.uniform(0, 10), arr.shape)
    return (np.clip(arr, 0, 255) / 255.0).astype(np.float32)


def generate(n: int, seed: int) -> tuple[np.ndarray, list[str]]:
    """``n`` plates from ``seed``: images (n, HEIGHT, WIDTH, 3) float32 and their texts. Deterministic."""
    images = np.empty((n, HEIGHT, WIDTH, 3), np.float32)
    texts = []
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        texts.append(random_text(rng))
        images[i] = render(texts[-1], rng)
    return images, texts
