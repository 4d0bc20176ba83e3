"""Closed-form test signals of the wavelet-denoising literature and a 2-D/3-D phantom.

Donoho & Johnstone (1994, "Ideal spatial adaptation by wavelet shrinkage", Biometrika 81:425) defined
four 1-D test functions that stress different regularities: ``blocks`` (piecewise constant),
``bumps`` (sharp peaks), ``heavisine`` (smooth with two jumps) and ``doppler`` (varying frequency).
They are sampled on ``t = (0.5 .. n - 0.5) / n`` and, as in the paper, can be rescaled to a given
standard deviation (the paper uses 7 so that unit-variance noise gives SNR 7).
"""

from __future__ import annotations

import numpy as np

from wavediff.errors import InvalidInputError

__all__ = ["blocks", "bumps", "heavisine", "doppler", "test_signal", "phantom", "SIGNALS"]

_JUMPS = np.array([0.1, 0.13, 0.15, 0.23, 0.25, 0.40, 0.44, 0.65, 0.76, 0.78, 0.81])
_BLOCK_H = np.array([4, -5, 3, -4, 5, -4.2, 2.1, 4.3, -3.1, 2.1, -4.2])
_BUMP_H = np.array([4, 5, 3, 4, 5, 4.2, 2.1, 4.3, 3.1, 5.1, 4.2])
_BUMP_W = np.array([0.005, 0.005, 0.006, 0.01, 0.01, 0.03, 0.01, 0.01, 0.005, 0.008, 0.005])


def _grid(n: int) -> np.ndarray:
    if not isinstance(n, (int, np.integer)) or n < 2:
        raise InvalidInputError(f"n={n!r} must be an integer >= 2 (number of samples)")
    return (np.arange(n) + 0.5) / n


def blocks(n: int = 1024) -> np.ndarray:
    """Piecewise-constant signal with 11 jumps."""
    t = _grid(n)
    return np.sum(_BLOCK_H[:, None] * (1 + np.sign(t[None] - _JUMPS[:, None])) / 2, axis=0)


def bumps(n: int = 1024) -> np.ndarray:
    """Eleven sharp bumps ``h / (1 + |t - t_j| / w)**4``."""
    t = _grid(n)
    return np.sum(_BUMP_H[:, None] / (1 + np.abs((t[None] - _JUMPS[:, None]) / _BUMP_W[:, None])) ** 4, axis=0)


def heavisine(n: int = 1024) -> np.ndarray:
    """``4 sin(4 pi t) - sign(t - 0.3) - sign(0.72 - t)``: a sinusoid with two jumps."""
    t = _grid(n)
    return 4 * np.sin(4 * np.pi * t) - np.sign(t - 0.3) - np.sign(0.72 - t)


def doppler(n: int = 1024) -> np.ndarray:
    """``sqrt(t (1 - t)) sin(2.1 pi / (t + 0.05))``: a chirp whose frequency falls with t."""
    t = _grid(n)
    return np.sqrt(t * (1 - t)) * np.sin(2.1 * np.pi / (t + 0.05))


SIGNALS = {"blocks": blocks, "bumps": bumps, "heavisine": heavisine, "doppler": doppler}


def test_signal(name: str, n: int = 1024, std: float | None = None) -> np.ndarray:
    """One of :data:`SIGNALS` by name, optionally rescaled to standard deviation ``std``.

    Examples
    --------
    >>> x = test_signal("bumps", 512, std=7.0)
    >>> round(float(x.std()), 6)
    7.0
    """
    if name not in SIGNALS:
        raise InvalidInputError(f"unknown test signal {name!r}; choose one of {sorted(SIGNALS)}")
    x = SIGNALS[name](n)
    if std is not None:
        if not np.isfinite(std) or std <= 0:
            raise InvalidInputError(f"std={std} must be positive")
        x = x * (std / x.std())
    return x


test_signal.__test__ = False  # not a pytest test despite its name


def phantom(size: int = 128, dims: int = 2) -> np.ndarray:
    """Shepp-Logan phantom in [0, 1]: scikit-image's 2-D phantom resized to ``size``, or a 3-D stack.

    The 3-D version scales the 2-D slice by an ellipsoidal envelope along the third axis, a simple
    volume with sharp edges for testing 3-D transforms (not an anatomical model).
    """
    from skimage.data import shepp_logan_phantom
    from skimage.transform import resize

    if dims not in (2, 3):
        raise InvalidInputError(f"dims={dims} must be 2 or 3")
    if not isinstance(size, (int, np.integer)) or size < 8:
        raise InvalidInputError(f"size={size!r} must be an integer >= 8")
    img = resize(shepp_logan_phantom(), (size, size), order=1, anti_aliasing=True)
    img = np.clip(img, 0.0, 1.0)
    if dims == 2:
        return img
    z = (np.arange(size) + 0.5) / size * 2 - 1
    envelope = np.clip(1 - z**2 / 0.8, 0, 1)
    return np.clip(envelope[:, None, None] * img[None], 0.0, 1.0)
