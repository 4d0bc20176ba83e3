"""Orthonormal discrete wavelet transforms of 1-D, 2-D and 3-D tensors.

The engine's diffusion models work on *packed* wavelet-packet coefficients: a depth-``L`` packet
decomposition splits every channel into ``2**(dims*L)`` subbands of size ``n / 2**L`` which are stacked
as channels. With periodic extension ("periodization" in PyWavelets) the map is orthonormal: energy is
preserved, the inverse is the adjoint, and white Gaussian noise of level sigma stays white with the same
sigma, so diffusion math carries over to the wavelet domain unchanged.

Filters come from PyWavelets. PyTorch Wavelet Toolbox (ptwt) has no periodization mode, so the
critically sampled orthonormal case is a circular strided convolution here (checked against
``pywt.wavedecn`` and ``pywt.WaveletPacketND`` to 1e-6 in the tests); the redundant boundary modes of
:meth:`WaveletTransform.wavedec` (``"symmetric"``, ``"reflect"``, ``"zero"``, ...) are delegated to ptwt.

Layout conventions
------------------
* Input tensors are ``(batch, channels, *spatial)`` with ``len(spatial) == dims``.
* Subband names follow PyWavelets: one letter per axis, ``'a'`` for lowpass and ``'d'`` for highpass,
  axis 0 first (``'ad'`` = lowpass along rows, highpass along columns, as in ``pywt.dwtn``); a packet
  at depth ``L`` concatenates the names of its levels, coarsest split first (``pywt.WaveletPacketND``).
* Packed channel ``c * 2**(dims*L) + k`` holds subband ``k`` (in the order of
  :meth:`WaveletTransform.subband_names`) of input channel ``c``.
"""

from __future__ import annotations

import itertools
from functools import lru_cache
from typing import Any

import numpy as np
import ptwt
import pywt
import torch
import torch.nn.functional as F

from ._checks import check_array, orthogonal_wavelet
from .errors import InvalidInputError, LevelTooDeepError, ShapeError

__all__ = ["WaveletTransform", "max_level"]

_PTWT_MODES = ("symmetric", "reflect", "zero", "constant", "periodic")


def max_level(size: int, wavelet: str | pywt.Wavelet) -> int:
    """Deepest useful decomposition level for ``size`` samples (PyWavelets' ``dwt_max_level``).

    Examples
    --------
    >>> max_level(256, "db4")
    5
    """
    w = _wavelet(wavelet) if isinstance(wavelet, str) else orthogonal_wavelet(wavelet)
    return int(pywt.dwt_max_level(int(size), w.dec_len))


@lru_cache(maxsize=64)
def _wavelet(name: str) -> pywt.Wavelet:
    return orthogonal_wavelet(name)  # validated; errors are raised, never cached


@lru_cache(maxsize=64)
def _filters(name: str, dtype: torch.dtype, device: str) -> torch.Tensor:
    """Analysis filters as a conv1d weight of shape (2, 1, L): row 0 lowpass, row 1 highpass.

    pywt's periodized DWT computes ``c[k] = sum_j h[j] x[(2k + L/2 - j) mod N]``; conv1d is a
    correlation, so the weight is the time-reversed filter applied after circular padding of L/2 - 1.
    """
    w = pywt.Wavelet(name)
    bank = np.stack([w.dec_lo[::-1], w.dec_hi[::-1]])[:, None, :]
    return torch.tensor(bank, dtype=dtype, device=device)


def _circular_index(n: int, left: int, right: int, device: torch.device) -> torch.Tensor:
    return torch.arange(-left, n + right, device=device) % n


def _dwt_last(x: torch.Tensor, name: str) -> torch.Tensor:
    """Single-level periodized DWT along the last axis: (..., n) -> (..., 2, n/2)."""
    filt = _filters(name, x.dtype, str(x.device))
    taps = filt.shape[-1]
    pad = taps // 2 - 1
    lead, n = x.shape[:-1], x.shape[-1]
    flat = x.reshape(-1, 1, n)
    if pad:
        flat = flat.index_select(-1, _circular_index(n, pad, pad, x.device))
    out = F.conv1d(flat, filt, stride=2)
    return out.reshape(*lead, 2, n // 2)


def _idwt_last(c: torch.Tensor, name: str) -> torch.Tensor:
    """Adjoint (= inverse) of :func:`_dwt_last`: (..., 2, m) -> (..., 2m)."""
    filt = _filters(name, c.dtype, str(c.device))
    taps = filt.shape[-1]
    pad = taps // 2 - 1
    lead, m = c.shape[:-2], c.shape[-1]
    n = 2 * m
    full = F.conv_transpose1d(c.reshape(-1, 2, m), filt, stride=2)  # (M, 1, n + 2*pad)
    full = full.reshape(-1, n + 2 * pad)
    if pad:
        # Fold the circular padding back onto the samples it was copied from.
        out = torch.zeros(full.shape[0], n, dtype=c.dtype, device=c.device)
        out = out.index_add(1, _circular_index(n, pad, pad, c.device), full)
    else:
        out = full
    return out.reshape(*lead, n)


def _dwtn(x: torch.Tensor, name: str, dim: int) -> torch.Tensor:
    """One level over the last ``dim`` axes: (B, K, *S) -> (B, K * 2**dim, *S/2), subbands axis-0 major."""
    for i in range(dim):
        axis = x.ndim - dim + i
        y = _dwt_last(x.movedim(axis, -1), name)  # (B, K, ..., 2, n/2) with the axis moved last
        y = y.movedim(-2, 2).movedim(-1, axis + 1)  # lo/hi pair right after K, halved axis back in place
        x = y.reshape(y.shape[0], y.shape[1] * 2, *y.shape[3:])
    return x


def _idwtn(c: torch.Tensor, name: str, dim: int) -> torch.Tensor:
    """Inverse of :func:`_dwtn`."""
    for i in reversed(range(dim)):
        axis = c.ndim - dim + i
        y = c.reshape(c.shape[0], c.shape[1] // 2, 2, *c.shape[2:])
        y = y.movedim(axis + 1, -1).movedim(2, -2)  # (..., 2, m): the lo/hi pair just before the axis
        x = _idwt_last(y, name)
        c = x.movedim(-1, axis)
    return c


class WaveletTransform:
    """Orthonormal periodized wavelet (packet) transform for ``(batch, channels, *spatial)`` tensors.

    Parameters
    ----------
    wavelet : str
        Name of an orthonormal PyWavelets family member (``'haar'``, ``'db2'``..``'db38'``, ``'symN'``,
        ``'coifN'``). Biorthogonal wavelets are refused: they would colour white noise.
    level : int
        Decomposition depth ``L`` (0 is the identity). Packed coefficients have ``2**(dims*L)`` times
        as many channels at ``1/2**L`` of the spatial size.
    dims : {1, 2, 3}
        Number of spatial axes.
    pad_mode : {'reflect', 'replicate', 'zero'}
        Extension used when a spatial size is not a multiple of ``2**L``; the inverse crops it away
        when given ``size``. Reflection falls back to replication on axes too short to reflect.

    Notes
    -----
    The transform is orthonormal only for spatial sizes that are multiples of ``2**level``
    (:meth:`is_orthonormal`). Any other size is padded first, which no padding can make orthonormal
    (the padded space is larger than the input's). ``'reflect'`` and ``'replicate'`` copy samples into
    the padding: their energy, and any noise in them, is counted twice, so white noise of level
    sigma does not stay white with level sigma near the padded edge. ``'zero'`` keeps the map an
    isometry (norms and inner products are preserved and ``inverse(., size)`` is its adjoint), but the
    padding holds no noise, so the coefficients near that edge carry less than sigma. Rooms choose
    windows and patches whose sizes are multiples of ``2**level`` where the noise level matters.

    Examples
    --------
    >>> import torch
    >>> wt = WaveletTransform("db2", level=2, dims=2)
    >>> x = torch.randn(4, 1, 64, 64)
    >>> packed = wt.forward(x)
    >>> tuple(packed.shape)
    (4, 16, 16, 16)
    >>> bool(torch.allclose(wt.inverse(packed), x, atol=1e-5))
    True
    """

    def __init__(self, wavelet: str = "haar", level: int = 1, dims: int = 2, pad_mode: str = "reflect"):
        # Keep the name, not the pywt object: copy.deepcopy of a pywt.Wavelet (done by EMA copies of a
        # model) loses its C-level attributes and reports orthogonal=False.
        self._wavelet_name = orthogonal_wavelet(wavelet).name
        if dims not in (1, 2, 3):
            raise InvalidInputError(f"dims={dims!r} is not supported; use 1, 2 or 3 spatial dimensions")
        if not isinstance(level, (int, np.integer)) or isinstance(level, bool) or level < 0:
            raise InvalidInputError(f"level={level!r} must be a non-negative integer")
        if pad_mode not in ("reflect", "replicate", "zero"):
            raise InvalidInputError(f"pad_mode={pad_mode!r}; use 'reflect', 'replicate' or 'zero'")
        self.level = int(level)
        self.dims = int(dims)
        self.pad_mode = pad_mode

    @property
    def wavelet(self) -> pywt.Wavelet:
        """The PyWavelets wavelet object."""
        return _wavelet(self._wavelet_name)

    def __repr__(self) -> str:
        return f"WaveletTransform(wavelet={self.wavelet.name!r}, level={self.level}, dims={self.dims})"

    # ------------------------------------------------------------------ shapes
    @property
    def n_subbands(self) -> int:
        """Number of packed subbands per input channel, ``2**(dims*level)``."""
        return 2 ** (self.dims * self.level)

    def subband_names(self) -> list[str]:
        """Names of the packed subbands in channel order, as ``pywt.WaveletPacketND`` node paths."""
        per_level = ["".join(p) for p in itertools.product("ad", repeat=self.dims)]
        return ["".join(p) for p in itertools.product(per_level, repeat=self.level)]

    def padded_size(self, size: tuple[int, ...], level: int | None = None) -> tuple[int, ...]:
        """Spatial size after padding each axis up to a multiple of ``2**level`` (default: this transform's)."""
        q = 2 ** (self.level if level is None else level)
        return tuple(-(-int(s) // q) * q for s in size)

    def is_orthonormal(self, size: tuple[int, ...]) -> bool:
        """Whether :meth:`forward` is orthonormal for inputs of spatial ``size`` (no padding needed).

        Examples
        --------
        >>> wt = WaveletTransform("haar", level=2, dims=1)
        >>> wt.is_orthonormal((512,)), wt.is_orthonormal((510,))
        (True, False)
        """
        return self.padded_size(tuple(size)) == tuple(int(n) for n in size)

    def packed_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """Shape of ``forward(x)`` for an input of ``shape`` ``(batch, channels, *spatial)``."""
        self._check_rank(shape, "input")
        spatial = self.padded_size(shape[2:])
        q = 2**self.level
        return (shape[0], shape[1] * self.n_subbands, *(s // q for s in spatial))

    # ------------------------------------------------------------------ checks
    def _check_rank(self, shape: tuple[int, ...], name: str) -> None:
        if len(shape) != self.dims + 2:
            raise ShapeError(
                f"{name} has shape {tuple(shape)}; a {self.dims}-D WaveletTransform expects "
                f"(batch, channels{', n' * self.dims}) - add batch/channel axes with x[None, None]"
            )

    def _check_levels(self, spatial: tuple[int, ...], level: int) -> None:
        for n in spatial:
            deepest = max_level(n, self._wavelet_name)
            if level > deepest:
                raise LevelTooDeepError(
                    f"level {level} is too deep for an axis of {n} samples with {self.wavelet.name!r} "
                    f"(filter length {self.wavelet.dec_len}); use level <= {deepest}, a shorter wavelet, "
                    "or a larger input"
                )

    @staticmethod
    def _as_tensor(x: Any, name: str) -> tuple[torch.Tensor, bool]:
        if isinstance(x, torch.Tensor):
            t, was_numpy = x, False
        elif isinstance(x, np.ndarray):
            # a native-order private copy: big-endian file data and read-only arrays are fine, and the
            # caller's array can never be aliased by the result
            t, was_numpy = torch.from_numpy(np.array(x, dtype=x.dtype.newbyteorder("="), order="C", copy=True)), True
        else:
            raise InvalidInputError(f"{name} is a {type(x).__name__}; pass a torch tensor or a numpy array")
        if t.dtype not in (torch.float32, torch.float64, torch.float16, torch.bfloat16):
            raise InvalidInputError(f"{name} has dtype {t.dtype}; convert it to float32 or float64 first")
        return t, was_numpy

    # ------------------------------------------------------------------ packed packet transform
    def forward(self, x: torch.Tensor | np.ndarray) -> torch.Tensor | np.ndarray:
        """Packet-decompose ``x`` to depth ``level`` and pack the subbands as channels.

        Spatial sizes that are not multiples of ``2**level`` are padded (``pad_mode``); pass the
        original size to :meth:`inverse` to crop it away.
        """
        t, was_numpy = self._as_tensor(x, "input")
        self._check_rank(tuple(t.shape), "input")
        check_array(t, "input")
        spatial = tuple(t.shape[2:])
        self._check_levels(spatial, self.level)
        t = self._pad(t)
        out = self._packet(t, self.level)
        return out.numpy() if was_numpy else out

    __call__ = forward

    def inverse(self, coeffs: torch.Tensor | np.ndarray, size: tuple[int, ...] | None = None) -> torch.Tensor | np.ndarray:
        """Exact inverse of :meth:`forward`; ``size`` (the original spatial size) crops the padding."""
        t, was_numpy = self._as_tensor(coeffs, "coeffs")
        self._check_rank(tuple(t.shape), "coeffs")
        if t.shape[1] % self.n_subbands:
            raise ShapeError(
                f"coeffs have {t.shape[1]} channels, not a multiple of the {self.n_subbands} subbands of "
                f"{self!r}; pass the output of forward() of the same transform"
            )
        for _ in range(self.level):
            b, k = t.shape[0], t.shape[1]
            # undo the outermost (coarsest-split) level last: peel the finest split first
            t = t.reshape(b, k // 2**self.dims, 2**self.dims, *t.shape[2:])
            t = t.reshape(b * (k // 2**self.dims), 2**self.dims, *t.shape[3:])
            t = _idwtn(t, self.wavelet.name, self.dims)
            t = t.reshape(b, k // 2**self.dims, *t.shape[2:])
        if size is not None:
            t = self._crop(t, size)
        if t is coeffs:  # level 0 without cropping: still return a new tensor
            t = t.clone()
        return t.numpy() if was_numpy else t

    def _packet(self, t: torch.Tensor, level: int) -> torch.Tensor:
        if level == 0:
            return t.clone()  # never hand back the caller's tensor itself
        for _ in range(level):
            t = _dwtn(t, self.wavelet.name, self.dims)
        return t

    def _pad(self, t: torch.Tensor, level: int | None = None) -> torch.Tensor:
        spatial = tuple(t.shape[2:])
        target = self.padded_size(spatial, level)
        if target == spatial:
            return t
        pads: list[int] = []
        for n, m in zip(reversed(spatial), reversed(target)):
            pads += [0, m - n]
        mode = self.pad_mode
        if mode == "zero":
            return F.pad(t, pads, mode="constant", value=0.0)
        if mode == "reflect" and any(m - n >= n for n, m in zip(spatial, target)):
            mode = "replicate"
        return F.pad(t, pads, mode=mode)

    def _crop(self, t: torch.Tensor, size: tuple[int, ...]) -> torch.Tensor:
        size = tuple(int(s) for s in size)
        if len(size) != self.dims or any(s > n for s, n in zip(size, t.shape[2:])):
            raise ShapeError(f"size {size} does not fit the reconstructed spatial shape {tuple(t.shape[2:])}")
        return t[(slice(None), slice(None), *(slice(0, s) for s in size))]

    # ------------------------------------------------------------------ multilevel decomposition
    def wavedec(self, x: torch.Tensor, level: int | None = None, mode: str = "periodization") -> list:
        """Multilevel decomposition in the layout of ``pywt.wavedecn``: ``[cA_L, {key: cD_L}, ..., {key: cD_1}]``.

        ``mode='periodization'`` is orthonormal (sizes padded to a multiple of ``2**level``);
        the redundant extensions ``'symmetric'``, ``'reflect'``, ``'zero'``, ``'constant'``,
        ``'periodic'`` are computed by ptwt and give ``pywt.wavedecn``'s coefficients for that mode.
        """
        level = self.level if level is None else int(level)
        t, _ = self._as_tensor(x, "input")
        self._check_rank(tuple(t.shape), "input")
        check_array(t, "input")
        self._check_levels(tuple(t.shape[2:]), level)
        keys = ["".join(p) for p in itertools.product("ad", repeat=self.dims)]
        if mode == "periodization":
            a = self._pad(t, level)
            details = []
            for _ in range(level):
                b, c = a.shape[:2]
                sub = _dwtn(a.reshape(b * c, 1, *a.shape[2:]), self.wavelet.name, self.dims)
                sub = sub.reshape(b, c, 2**self.dims, *sub.shape[2:])
                details.append({k: sub[:, :, i] for i, k in enumerate(keys) if i})
                a = sub[:, :, 0]
            return [a, *reversed(details)]
        if mode not in _PTWT_MODES:
            raise InvalidInputError(f"mode={mode!r}; use 'periodization' or one of {_PTWT_MODES}")
        name = self.wavelet.name
        if self.dims == 1:
            c = ptwt.wavedec(t, name, mode=mode, level=level)
            return [c[0], *({"d": d} for d in c[1:])]
        if self.dims == 2:
            c = ptwt.wavedec2(t, name, mode=mode, level=level)
            return [c[0], *({"da": d[0], "ad": d[1], "dd": d[2]} for d in c[1:])]
        c = ptwt.wavedec3(t, name, mode=mode, level=level)
        return [c[0], *(dict(d) for d in c[1:])]

    def waverec(self, coeffs: list, size: tuple[int, ...] | None = None, mode: str = "periodization") -> torch.Tensor:
        """Inverse of :meth:`wavedec` (same ``mode``); ``size`` crops periodization padding."""
        if not isinstance(coeffs, (list, tuple)) or len(coeffs) < 1:
            raise InvalidInputError("coeffs must be the list returned by wavedec()")
        keys = ["".join(p) for p in itertools.product("ad", repeat=self.dims)]
        if mode == "periodization":
            a = coeffs[0]
            for det in coeffs[1:]:
                missing = set(keys[1:]) - set(det)
                if missing:
                    raise InvalidInputError(f"detail dict lacks subbands {sorted(missing)}; pass wavedec() output")
                sub = torch.stack([a] + [det[k] for k in keys[1:]], dim=2)
                b, c = sub.shape[:2]
                rec = _idwtn(sub.reshape(b * c, *sub.shape[2:]), self.wavelet.name, self.dims)
                a = rec.reshape(b, c, *rec.shape[2:])
            return self._crop(a, size) if size is not None else a
        if mode not in _PTWT_MODES:
            raise InvalidInputError(f"mode={mode!r}; use 'periodization' or one of {_PTWT_MODES}")
        name = self.wavelet.name
        if self.dims == 1:
            out = ptwt.waverec([coeffs[0], *(d["d"] for d in coeffs[1:])], name)
        elif self.dims == 2:
            det = [ptwt.constants.WaveletDetailTuple2d(d["da"], d["ad"], d["dd"]) for d in coeffs[1:]]
            out = ptwt.waverec2((coeffs[0], *det), name)
        else:
            out = ptwt.waverec3((coeffs[0], *(dict(d) for d in coeffs[1:])), name)
        return self._crop(out, size) if size is not None else out
