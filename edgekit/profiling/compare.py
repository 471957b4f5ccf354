"""Output comparisons both sides use (numpy only): the workstation verifying an artifact against fp32, and a
device comparing its outputs with the workstation's for the same artifact."""

from __future__ import annotations

import numpy as np

SNR_CAP_DB = 120.0  # identical outputs would be +inf, which JSON cannot carry


def snr_db(reference: np.ndarray, output: np.ndarray) -> float:
    reference = np.asarray(reference).astype(np.float64)
    noise = float(np.sum((reference - np.asarray(output).astype(np.float64)) ** 2))
    signal = float(np.sum(reference**2))
    if noise == 0.0:
        return SNR_CAP_DB
    return round(min(SNR_CAP_DB, 10.0 * np.log10(max(signal, 1e-30) / noise)), 2)
