"""Smoothing that removes frame-to-frame chatter; it runs before the constraints, so closures stay sharp."""

from __future__ import annotations

import numpy as np


def gaussian(signal: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing along the first axis (sigma in samples), edges held."""
    radius = max(1, int(np.ceil(3 * sigma)))
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / max(sigma, 1e-6)) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(signal, [(radius, radius)] + [(0, 0)] * (signal.ndim - 1), mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, len(kernel), axis=0)
    return windows @ kernel
