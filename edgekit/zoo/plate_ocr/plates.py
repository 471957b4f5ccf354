"""Chinese licence plates rendered deterministically from a seed, made to look like a camera's plate crops.

A plate is 7 characters: a province (31), a letter (A-Z without I and O), then 5 letters or digits, white on a
blue 440 x 140 mm plate laid out as in GA 36-2018 (45 x 90 mm characters, 12 mm gaps, a separator dot after the
second). How real the result looks is measured, not assumed: scripts/bench_plate_realism.py has a reader trained
on real plates (hyperlpr2) read held-out plates, and each choice below was kept because it moved that reading:
lettering closest to the plate typeface (see the fonts), real-photo scenes around the plate (scikit-image's sample
photos, enlarged, blurred and mostly desaturated, as a bumper or grille is at plate scale), plate colours around
values measured on real crops, the white rim, bolts, embossing and uneven light, a camera pose's perspective,
a detector's margins, and the camera's motion blur, defocus, haze, exposure, luminance noise and JPEG.
Same seed and index -> the same image.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

import numpy as np

from edgekit.errors import MissingDependencyError
# the alphabet and its codec are device-side (task); re-exported for the renderer's users
from edgekit.zoo.plate_ocr.task import ALPHABET, LENGTH, POSITIONS, decode, encode, validate  # noqa: F401

HEIGHT, WIDTH = 32, 100  # model input (pixels), RGB in [0, 1]

# Lettering: real plates use a dedicated bold, condensed typeface. Of the openly licensed fonts in Debian tried with
# the realism meter (DejaVu Sans Condensed, Liberation Sans Narrow, Roboto Condensed, Open Sans Condensed, Nimbus
# Sans Narrow, B612; all Bold), B612 Bold (fonts-b612) read best for letters and digits. For the province, WenQuanYi
# Micro Hei read as well as Noto Sans CJK (Regular, Medium, Bold), WenQuanYi Zen Hei and Droid Sans Fallback.
PROVINCE_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
LATIN_FONT = "/usr/share/fonts/opentype/b612/B612-Bold.otf"
FONTS = {PROVINCE_FONT: "fonts-wqy-microhei", LATIN_FONT: "fonts-b612"}  # file -> the Debian package with it
# Letters whose plate form no font tried has, drawn from GA 36's stroke geometry as centre lines in the 45 x 90 mm
# box, with the font's 11 mm stroke: M's diagonals meet at half height (every font's deeper V read as N, A or 1);
# J has no top bar (B612's read as T).
STROKE_MM = 11.0
DRAWN = {
    "M": [(5.5, 90.0), (5.5, 5.5), (22.5, 45.0), (39.5, 5.5), (39.5, 90.0)],
    "J": [(33.5, 0.0), *((22.5 + 11 * np.cos(t), 73.5 + 11 * np.sin(t)) for t in np.linspace(0, np.pi, 13)),
          (11.5, 64.0)],
}
# Plate geometry in millimetres (rendered at SCALE px/mm): character x positions, size.
PLATE_W, PLATE_H = 440, 140
CHAR_W, CHAR_H, CHAR_TOP = 45, 90, 25
CHAR_X = (15, 72, 151, 208, 265, 322, 379)  # the 34 mm gap after the 2nd character holds the dot
BOLTS_X = (105, 335)  # bolt holes in the top margin
SCALE = 1  # pixels per millimetre of the rendered plate (about twice what the work resolution needs)
# Plate blue and lettering white before the camera: haze and exposure lighten them, so the blue is set darker
# than real crops measure (mean RGB about 45, 80, 130), which rendered crops then match (tests/test_plate_ocr.py).
BLUE, WHITE = np.array([22.0, 60.0, 132.0]), np.array([232.0, 236.0, 240.0])
# scikit-image's sample photos (files in its wheel; scikit-image is never imported). Held-out and validation
# plates are set on photos that training never sees.
PHOTOS = {"training": ("astronaut.png", "chelsea.png", "rocket.jpg", "motorcycle_left.png", "brick.png",
                       "gravel.png", "grass.png", "coins.png", "page.png"),
          "evaluation": ("coffee.png", "motorcycle_right.png", "camera.png")}
# How the camera sees the plate: each effect's range, sampled uniformly per plate (declarative, so the realism
# meter's one-at-a-time measurements change one entry).
LOOK = {
    "yaw_deg": 15.0, "pitch_deg": 10.0, "roll_deg": 4.0, "distance_mm": (1500.0, 5000.0),
    "margin_x": (0.02, 0.08), "margin_y": (0.05, 0.18),  # a detector's box around the plate, per side
    "defocus_px": (0.2, 0.9), "motion_p": 0.2, "motion_px": (1.0, 3.0),  # at twice the output resolution
    "haze": 0.15, "exposure": (0.75, 1.2), "gamma": (0.85, 1.15), "noise": 0.03,
    "jpeg_p": 0.8, "jpeg_quality": (40, 96),
}


def font_file(path: str) -> str:
    if not Path(path).is_file():
        raise MissingDependencyError("Rendering plate-ocr's plates needs its lettering fonts.", got=f"{path} is missing",
                                     tip=f"sudo apt-get install {FONTS[path]}")
    return path


@functools.lru_cache(maxsize=128)
def _glyph(ch: str):
    """A white-on-black glyph stretched to the 45 x 90 mm character box (at SCALE px/mm), as plate lettering is."""
    from PIL import Image, ImageDraw, ImageFont

    box = (CHAR_W * SCALE, CHAR_H * SCALE)
    if ch in DRAWN:
        k = 4  # drawn at 4 px/mm, then resampled like the font glyphs
        img = Image.new("L", (CHAR_W * k, CHAR_H * k), 0)
        ImageDraw.Draw(img).line([(x * k, y * k) for x, y in DRAWN[ch]], fill=255, width=round(STROKE_MM * k),
                                 joint="curve")
        return img.resize(box, Image.LANCZOS)
    province = ch in POSITIONS[0]
    font = ImageFont.truetype(font_file(PROVINCE_FONT if province else LATIN_FONT), 200)
    left, top, right, bottom = font.getbbox(ch)
    img = Image.new("L", (right - left, bottom - top), 0)
    ImageDraw.Draw(img).text((-left, -top), ch, fill=255, font=font)
    return img.resize(box, Image.LANCZOS)


def random_text(rng: np.random.Generator) -> str:
    return "".join(allowed[rng.integers(len(allowed))] for allowed in POSITIONS)


def _colour(value) -> tuple[int, ...]:
    return tuple(int(v) for v in np.clip(np.round(value), 0, 255))


def _plate(text: str, rng: np.random.Generator):
    """The flat plate, lit: blue with a white rim, embossed white lettering, the dot and two bolts."""
    from PIL import Image, ImageDraw, ImageFilter

    w, h = PLATE_W * SCALE, PLATE_H * SCALE
    blue = BLUE + rng.normal(0, 10, 3) + rng.normal(0, 8)
    white = WHITE - rng.uniform(0, 35) + rng.normal(0, 4, 3)
    plate = Image.new("RGB", (w, h), _colour(blue))
    draw = ImageDraw.Draw(plate)
    draw.rounded_rectangle((0, 0, w - 1, h - 1), radius=10 * SCALE, outline=_colour(blue * 0.6), width=SCALE)
    draw.rounded_rectangle((4 * SCALE, 4 * SCALE, w - 4 * SCALE, h - 4 * SCALE), radius=8 * SCALE,
                           outline=_colour(white), width=3 * SCALE)
    draw.ellipse((131 * SCALE, 65 * SCALE, 141 * SCALE, 75 * SCALE), fill=_colour(white))
    for x in BOLTS_X:  # a bolt head: metal, a darker ring where it meets the plate
        draw.ellipse(((x - 7) * SCALE, 5 * SCALE, (x + 7) * SCALE, 19 * SCALE), fill=_colour(blue * 0.45))
        draw.ellipse(((x - 5) * SCALE, 7 * SCALE, (x + 5) * SCALE, 17 * SCALE), fill=_colour(white * 0.78))
    # embossed lettering: a soft shadow below-right of each raised character, then the character
    shadow = Image.new("L", (w, h), 0)
    letters = Image.new("L", (w, h), 0)
    for ch, x in zip(text, CHAR_X):
        letters.paste(_glyph(ch), (x * SCALE, CHAR_TOP * SCALE))
    shadow.paste(letters, (SCALE, SCALE))
    shadow = shadow.filter(ImageFilter.GaussianBlur(SCALE))
    plate.paste(Image.new("RGB", (w, h), _colour(blue * 0.5)), (0, 0), shadow.point(lambda v: v * 0.6))
    plate.paste(Image.new("RGB", (w, h), _colour(white)), (0, 0), letters)
    # lighting: a gradient across the plate (sun from one side, shade from a bumper above)
    gx, gy = rng.uniform(-0.25, 0.25), rng.uniform(-0.2, 0.2)
    light = 1 + gx * np.linspace(-1, 1, w)[None, :] + gy * np.linspace(-1, 1, h)[:, None]
    return Image.fromarray(np.clip(np.asarray(plate, np.float32) * light[..., None], 0, 255).astype(np.uint8))


@functools.lru_cache(maxsize=2)
def _photos(group: str) -> tuple[np.ndarray, ...]:
    from PIL import Image

    from edgekit.zoo._packages import package_file

    out = []
    for name in PHOTOS[group]:
        with Image.open(package_file("scikit-image", f"data/{name}", "plate-ocr's background photos")) as im:
            out.append(np.asarray(im.convert("RGB"), np.float32))
    return tuple(out)


def _background(rng: np.random.Generator, group: str, size: tuple[int, int]) -> np.ndarray:
    """What surrounds a plate in a crop: a region of a real photo, enlarged (a bumper or grille is smooth at
    plate scale), blurred and mostly desaturated, as car paint and shadow are."""
    from PIL import Image, ImageFilter

    photos = _photos(group)
    photo = photos[rng.integers(len(photos))]
    ph, pw = photo.shape[:2]
    cw = int(rng.uniform(0.08, 0.35) * pw)
    ch = max(8, int(cw * size[1] / size[0]))
    x, y = rng.integers(0, pw - cw), rng.integers(0, ph - ch)
    region = Image.fromarray(photo[y:y + ch, x:x + cw].astype(np.uint8)).resize(size, Image.BILINEAR)
    region = np.asarray(region.filter(ImageFilter.GaussianBlur(float(rng.uniform(1.0, 4.0)))), np.float32)
    grey = region.mean(axis=2, keepdims=True)
    tone = rng.uniform(0.3, 1.1)  # dark grilles to sunlit paint
    return (grey + (region - grey) * rng.uniform(0.1, 0.5)) * tone


def _homography(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 8 coefficients mapping ``src`` points to ``dst`` points (PIL's PERSPECTIVE convention)."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(src, dst):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        rhs += [u, v]
    return np.linalg.solve(np.array(rows, np.float64), np.array(rhs, np.float64))


def _camera_corners(rng: np.random.Generator) -> np.ndarray:
    """Where the plate's corners (UL, UR, LR, LL) land in a camera: yaw, pitch and roll from a pose, projected."""
    yaw, pitch, roll = np.deg2rad([rng.uniform(-LOOK[k], LOOK[k]) for k in ("yaw_deg", "pitch_deg", "roll_deg")])
    cy, sy, cp, sp, cr, sr = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch), np.cos(roll), np.sin(roll)
    rot = (np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]]) @ np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
           @ np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]]))
    w, h = PLATE_W / 2, PLATE_H / 2
    corners = np.array([[-w, -h, 0], [w, -h, 0], [w, h, 0], [-w, h, 0]]) @ rot.T
    distance = rng.uniform(*LOOK["distance_mm"])  # mm: a wide-angle camera close by to a longer lens further away
    return corners[:, :2] * distance / (distance + corners[:, 2:3])


def _photograph(rgb: np.ndarray, rng: np.random.Generator):
    """What a camera does, at work resolution: motion, defocus, haze, exposure, sensor noise and the frame's JPEG;
    then the detector's crop is resized to the model's input."""
    from PIL import Image, ImageFilter

    if rng.random() < LOOK["motion_p"]:  # motion: the average of shifted copies along a random direction
        length, angle = rng.uniform(*LOOK["motion_px"]), rng.uniform(0, np.pi)
        steps = np.linspace(-length / 2, length / 2, 7)
        rgb = np.mean([np.roll(rgb, (int(round(s * np.sin(angle))), int(round(s * np.cos(angle)))), (0, 1))
                       for s in steps], axis=0)
    img = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))
    arr = np.asarray(img.filter(ImageFilter.GaussianBlur(float(rng.uniform(*LOOK["defocus_px"])))), np.float32) / 255
    haze = rng.uniform(0, LOOK["haze"])  # low contrast: haze, glare, a dirty plate
    arr = arr * (1 - haze) + haze * rng.uniform(0.4, 0.8)
    arr = np.clip(arr * rng.uniform(*LOOK["exposure"]), 0, 1) ** rng.uniform(*LOOK["gamma"])  # exposure, tone curve
    sigma = rng.uniform(0, LOOK["noise"])  # sensor noise is mostly luminance, with a little colour
    arr = arr + rng.normal(0, sigma, arr.shape[:2])[..., None] + rng.normal(0, sigma / 4, arr.shape)
    img = Image.fromarray((np.clip(arr, 0, 1) * 255).round().astype(np.uint8))
    if rng.random() < LOOK["jpeg_p"]:  # the camera compresses the whole frame, before any crop
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=int(rng.integers(*LOOK["jpeg_quality"])))
        img = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return np.asarray(img.resize((WIDTH, HEIGHT), Image.BILINEAR), np.float32) / 255.0


def render(text: str, rng: np.random.Generator, photos: str) -> np.ndarray:
    """One plate image, RGB float32 (HEIGHT, WIDTH, 3) in [0, 1]: the plate seen by a camera from a random pose,
    cropped with a detector's margins, on a scene from the ``photos`` group ("training" or "evaluation")."""
    from PIL import Image

    validate(text)
    plate = _plate(text, rng)
    size = (WIDTH * 2, HEIGHT * 2)  # work at twice the output resolution, then downsample like a camera
    seen = _camera_corners(rng)
    lo, hi = seen.min(0), seen.max(0)
    span = hi - lo  # a detector's box: the plate with a margin on each side, not exactly centred
    margins = np.array([[rng.uniform(*LOOK["margin_x"]), rng.uniform(*LOOK["margin_y"])] for _ in "lo hi"]) * span
    lo, hi = lo - margins[0], hi + margins[1]
    out = (seen - lo) / (hi - lo) * size
    src = np.array([[0, 0], [PLATE_W, 0], [PLATE_W, PLATE_H], [0, PLATE_H]], np.float64) * SCALE
    coeffs = tuple(_homography(out, src))  # output pixel -> plate pixel
    warped = plate.transform(size, Image.PERSPECTIVE, coeffs, resample=Image.BICUBIC)
    mask = Image.new("L", plate.size, 255).transform(size, Image.PERSPECTIVE, coeffs, resample=Image.BILINEAR)
    scene = Image.fromarray(np.clip(_background(rng, photos, size), 0, 255).astype(np.uint8))
    scene.paste(warped, (0, 0), mask)
    return _photograph(np.asarray(scene, np.float32), rng).astype(np.float32)


def plate(seed: int, index: int, photos: str) -> tuple[np.ndarray, str]:
    """Plate ``index`` of ``seed``'s stream on a ``photos`` scene ("training" or "evaluation"): image and text."""
    rng = np.random.default_rng([seed, index])
    text = random_text(rng)
    return render(text, rng, photos), text


def generate(n: int, seed: int, photos: str, start: int = 0) -> tuple[np.ndarray, list[str]]:
    """Plates ``start`` .. ``start + n - 1`` of ``seed``: images (n, HEIGHT, WIDTH, 3) float32 and their texts.
    Deterministic: each plate depends only on (seed, index), so chunks rendered apart concatenate to one set."""
    images = np.empty((n, HEIGHT, WIDTH, 3), np.float32)
    texts = []
    for j in range(n):
        images[j], text = plate(seed, start + j, photos)
        texts.append(text)
    return images, texts
