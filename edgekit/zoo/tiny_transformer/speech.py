"""Spoken keywords synthesised with Debian's espeak-ng, and the log-mel features a keyword spotter takes.

No speech corpus ships in any registry package, so the project makes one: every clip is a keyword (or another
word, or nothing) spoken by one espeak-ng voice — an English accent (7) combined with a voice variant (101 in
espeak-ng 1.51: m1-m8, f1-f5, klatt..., grandma, ...) — at a random speed and pitch, placed at a random time in a
1-second window, scaled, and mixed with coloured noise at 5-30 dB SNR. Generation is deterministic per
(split, index); a voice variant belongs to exactly one split, so test voices are never heard in training.

Synthesis needs espeak-ng (workstation only); features() is numpy.
Synthesised sets are cached under $XDG_CACHE_HOME/edgekit/speech (they take seconds to minutes to make).
"""

from __future__ import annotations

import functools
import io
import os
import subprocess
import wave
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from edgekit.errors import DataError
from edgekit.zoo._cache import cached_arrays
from edgekit.zoo.tiny_transformer.task import CLASSES, KEYWORDS, SILENCE, UNKNOWN  # noqa: F401 (re-exported)

# Other words spoken for the unknown class (Speech Commands' fillers).
FILLERS = ("bed", "bird", "cat", "dog", "eight", "five", "four", "happy", "house", "marvin", "nine", "one",
           "seven", "sheila", "six", "three", "tree", "two", "wow", "zero", "learn", "follow", "forward", "visual")
ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029")
RATE = 16000
CLIP = RATE  # one second
N_FFT, WIN, HOP, N_MELS = 512, 400, 320, 40  # 25 ms windows every 20 ms -> 49 frames
FRAMES = 1 + (CLIP - WIN) // HOP
SPLITS = {"train": 0, "validation": 1, "heldout": 2}


def _no_audio_env() -> dict[str, str]:
    # espeak-ng opens a PulseAudio client even with --stdout, and that writes ~/.config/pulse/<machine>-runtime;
    # naming a server that does not exist keeps it out of the user's HOME (the audio written is byte-identical)
    return {**os.environ, "PULSE_SERVER": "/nonexistent/edgekit"}


def espeak() -> str:
    from edgekit._lazy import require_program

    return require_program("espeak-ng", purpose="Synthesising the keyword-spotting data", package="espeak-ng")


@functools.lru_cache(maxsize=1)
def variants() -> tuple[str, ...]:
    """espeak-ng's voice variants, sorted (the installed set: 101 in Debian 12's espeak-ng 1.51)."""
    lines = subprocess.run([espeak(), "--voices=variant"], capture_output=True, text=True, check=True,
                           env=_no_audio_env()).stdout
    header, *rows = lines.splitlines()
    # Fixed-width columns; the File column ("!v/<name>") is what '+<name>' selects (names may hold spaces).
    start, end = header.index("File"), header.index("Other")
    names = sorted({r[start:end].strip().removeprefix("!v/") for r in rows if r[start:end].strip().startswith("!v/")})
    if len(names) < 20:
        raise DataError("espeak-ng lists too few voice variants to hold whole voices out.", got=f"{len(names)}",
                        tip="Install Debian's espeak-ng-data (it ships 101 variants).")
    return tuple(names)


def split_of(variant: str) -> str:
    """A stable voice split by name: about 70% train, 10% validation, 20% held out."""
    bucket = zlib.crc32(variant.encode()) % 20
    return "train" if bucket < 14 else "validation" if bucket < 16 else "heldout"


def _synth(word: str, accent: str, variant: str, speed: int, pitch: int) -> np.ndarray:
    raw = subprocess.run([espeak(), "-v", f"{accent}+{variant}", "-s", str(speed), "-p", str(pitch), "--stdout",
                          word], capture_output=True, check=True, env=_no_audio_env()).stdout
    # --stdout writes a streaming WAV header with unknown sizes: read the format, then take the rest as data.
    with wave.open(io.BytesIO(raw[:44])) as w:
        rate = w.getframerate()
    pcm = np.frombuffer(raw[44 : 44 + (len(raw) - 44) // 2 * 2], dtype="<i2").astype(np.float32) / 32768.0
    # Resample to 16 kHz by interpolation (espeak's output has little energy above 8 kHz).
    t = np.arange(int(len(pcm) * RATE / rate)) * (rate / RATE)
    return np.interp(t, np.arange(len(pcm)), pcm).astype(np.float32)


def _noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """White, pink or brown noise with unit RMS."""
    spectrum = np.fft.rfft(rng.normal(size=n))
    freqs = np.maximum(np.fft.rfftfreq(n), 1.0 / n)
    slope = rng.choice([0.0, 0.5, 1.0])  # white, pink, brown
    x = np.fft.irfft(spectrum / freqs**slope, n)
    return (x / (np.sqrt(np.mean(x**2)) + 1e-12)).astype(np.float32)


def _clip_plan(split: str, i: int, voices: tuple[str, ...]):
    rng = np.random.default_rng([SPLITS[split], i])
    label = int(rng.integers(len(CLASSES)))
    word = CLASSES[label] if label < len(KEYWORDS) else FILLERS[rng.integers(len(FILLERS))]
    voice = (ACCENTS[rng.integers(len(ACCENTS))], voices[rng.integers(len(voices))])
    return rng, label, word, voice, int(rng.integers(120, 221)), int(rng.integers(20, 81))


def make_clip(split: str, i: int) -> tuple[np.ndarray, int]:
    """Clip ``i`` of ``split``: (1 s of 16 kHz audio, class index). Deterministic."""
    voices = tuple(v for v in variants() if split_of(v) == split)
    rng, label, word, (accent, variant), speed, pitch = _clip_plan(split, i, voices)
    audio = np.zeros(CLIP, np.float32)
    if CLASSES[label] != SILENCE:
        speech = _synth(word, accent, variant, speed, pitch)
        voiced = np.flatnonzero(np.abs(speech) > 0.01)
        speech = speech[voiced[0] : voiced[-1] + 1] if len(voiced) else speech
        speech = speech[:CLIP]
        start = int(rng.integers(0, CLIP - len(speech) + 1))
        audio[start : start + len(speech)] = speech * rng.uniform(0.3, 1.0) / (np.max(np.abs(speech)) + 1e-9)
        speech_rms = np.sqrt(np.mean(speech**2) + 1e-12)
        noise_rms = speech_rms / 10 ** (rng.uniform(5, 30) / 20)
    else:
        noise_rms = 10 ** rng.uniform(-3.5, -1.5)
    audio += _noise(rng, CLIP) * noise_rms
    return np.clip(audio, -1, 1), label


def dataset(split: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(features (n, FRAMES, N_MELS) float32, labels (n,)) for clips 0..n-1 of ``split``; cached on disk."""
    def make() -> dict[str, np.ndarray]:
        with ThreadPoolExecutor(max(2, (os.cpu_count() or 1) * 2)) as pool:  # espeak-ng runs as a subprocess
            clips = list(pool.map(lambda i: make_clip(split, i), range(n)))
        return {"features": features(np.stack([c[0] for c in clips])),
                "labels": np.array([c[1] for c in clips], dtype=np.int64)}

    arrays = cached_arrays("speech", split, n, f"{variants()}:{RATE}:{N_MELS}:v1", make)
    return arrays["features"], arrays["labels"]


@functools.lru_cache(maxsize=1)
def _mel_filters() -> np.ndarray:
    def hz_to_mel(f):
        return 2595.0 * np.log10(1.0 + f / 700.0)

    mels = np.linspace(hz_to_mel(20.0), hz_to_mel(7600.0), N_MELS + 2)
    bins = np.floor((N_FFT + 1) * (700.0 * (10 ** (mels / 2595.0) - 1.0)) / RATE).astype(int)
    fb = np.zeros((N_MELS, N_FFT // 2 + 1), np.float32)
    for m in range(1, N_MELS + 1):
        lo, mid, hi = bins[m - 1], bins[m], bins[m + 1]
        fb[m - 1, lo:mid] = (np.arange(lo, mid) - lo) / max(mid - lo, 1)
        fb[m - 1, mid:hi] = (hi - np.arange(mid, hi)) / max(hi - mid, 1)
    return fb


def features(audio: np.ndarray) -> np.ndarray:
    """Log-mel features (N, 49, 40) of 1-second 16 kHz clips (N, 16000). numpy-only: the same on device."""
    audio = np.asarray(audio, np.float32)
    if audio.ndim != 2 or audio.shape[1] != CLIP:
        raise DataError("Keyword spotting takes 1-second clips at 16 kHz.",
                        got=f"shape={audio.shape}", tip=f"Pass an array of shape (N, {CLIP}).")
    idx = np.arange(FRAMES)[:, None] * HOP + np.arange(WIN)[None, :]
    window = np.hanning(WIN).astype(np.float32)
    out = np.empty((len(audio), FRAMES, N_MELS), np.float32)
    for i in range(0, len(audio), 256):  # chunks bound the memory of the spectra
        power = np.abs(np.fft.rfft(audio[i : i + 256, idx] * window, N_FFT, axis=-1)) ** 2
        out[i : i + 256] = np.log(power @ _mel_filters().T + 1e-6)
    return out
