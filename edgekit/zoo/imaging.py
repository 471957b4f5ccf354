"""Images the generative zoo models' apps write and compare, device side (numpy and zlib only; shipped in
bundles): PSNR against a reference, and a PNG grid without an imaging library."""

from __future__ import annotations

import struct
import zlib

import numpy as np

PSNR_CAP_DB = 120.0  # identical images would be +inf, which JSON cannot carry


def psnr(reference: np.ndarray, images: np.ndarray) -> float:
    """PSNR in dB of images in [0, 1] against a reference (PSNR_CAP_DB when identical)."""
    mse = float(np.mean((reference.astype(np.float64) - images) ** 2))
    return PSNR_CAP_DB if mse == 0 else min(PSNR_CAP_DB, 10 * np.log10(1.0 / mse))


def png_grid(images: np.ndarray, columns: int = 8, scale: int = 3) -> bytes:
    """Grey images (n, h, w, 1) in [0, 1] as one PNG grid."""
    n, h, w = images.shape[:3]
    rows = -(-n // columns)
    tiles = np.zeros((rows * h, columns * w), np.uint8)
    for i, img in enumerate(images):
        r, c = divmod(i, columns)
        tiles[r * h:(r + 1) * h, c * w:(c + 1) * w] = np.clip(img[..., 0] * 255, 0, 255).round()
    pixels = tiles.repeat(scale, 0).repeat(scale, 1)
    raw = b"".join(b"\x00" + row.tobytes() for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", pixels.shape[1], pixels.shape[0], 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
