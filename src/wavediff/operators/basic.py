"""Operators in the signal's own domain: :class:`Mask` (missing samples, traces, pixels) and
:class:`Downsample` (blur, then keep every ``factor``-th sample), in 1, 2 or 3 dimensions."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..errors import InvalidInputError, ShapeError
from .base import LinearOperator, _per_item

__all__ = ["Mask", "Downsample", "vjp_adjoint"]


def vjp_adjoint(forward, y: torch.Tensor, in_shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    """The exact adjoint of a linear ``forward`` applied to ``y``: the vector-Jacobian product at zero.

    For a linear map the Jacobian is the map itself, so this is its transpose, to rounding; it stays
    differentiable in ``y``.
    """
    zero = torch.zeros(in_shape, dtype=dtype, device=y.device)
    _, pullback = torch.func.vjp(forward, zero)
    return pullback(y)[0]


class Mask(LinearOperator):
    """``y = m * x``: keeps the observed elements (``m = 1``) and zeroes the rest, in any dimension.

    Parameters
    ----------
    mask : array or tensor of 0/1 (or bool)
        Broadcast against the trailing axes of ``x``: shape ``(n,)`` for traces, ``(H, W)`` for images,
        ``(batch, 1, H, W)`` for one mask per item.

    Examples
    --------
    >>> import torch
    >>> op = Mask(torch.tensor([1, 0, 1]))
    >>> op(torch.tensor([[1.0, 2.0, 3.0]]))
    tensor([[1., 0., 3.]])
    >>> op.solve(torch.tensor([[1.0, 0.0, 3.0]]), lam=1.0, x0=torch.full((1, 3), 5.0))  # (m y + lam x0) / (m + lam)
    tensor([[3., 5., 4.]])
    """

    def __init__(self, mask):
        m = torch.as_tensor(mask)
        if m.numel() == 0:
            raise ShapeError("mask is empty; pass one 0/1 value per element of the signal")
        m = m.to(torch.float64) if m.dtype == torch.bool or not m.is_floating_point() else m
        if not bool(((m == 0) | (m == 1)).all()):
            raise InvalidInputError(
                "mask must hold only 0 and 1 (observed / missing); weights belong in the noise model"
            )
        self.mask = m

    isometric_range = True  # A A^H is the projection onto the observed entries

    @property
    def fraction(self) -> float:
        """The observed fraction of the mask's elements."""
        return float(self.mask.mean())

    def _m(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim < self.mask.ndim:
            raise ShapeError(
                f"input of shape {tuple(x.shape)} has fewer axes than the mask {tuple(self.mask.shape)}"
            )
        try:
            torch.broadcast_shapes(x.shape, self.mask.shape)
        except RuntimeError:
            raise ShapeError(
                f"mask of shape {tuple(self.mask.shape)} does not match input of shape {tuple(x.shape)}"
            ) from None
        return self.mask.to(device=x.device, dtype=x.real.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self._m(x)

    adjoint = forward

    def solve(self, y, lam=0.0, x0=None, *, init=None, iters=100, tol=1e-6):
        """Closed form, elementwise: ``(m y + lam x0) / (m + lam)``; where ``m + lam = 0`` the start is kept."""
        m = self._m(y)
        lam_t = torch.as_tensor(lam, dtype=m.dtype, device=y.device)
        if bool((lam_t < 0).any()):
            raise InvalidInputError(f"lam must be non-negative, got {lam!r}")
        lam_b = _per_item(lam_t.expand(y.shape[0]) if lam_t.ndim == 0 else lam_t, y)
        ref = x0 if x0 is not None else torch.zeros_like(y)
        start = init if init is not None else ref
        den = m + lam_b
        value = (m * y + lam_b * ref) / torch.where(den > 0, den, torch.ones_like(den))
        return torch.where(den > 0, value, start)

    def __repr__(self) -> str:
        return f"Mask({tuple(self.mask.shape)}, observed {self.fraction:.3g})"


def gaussian_kernel(sigma: float) -> torch.Tensor:
    """A normalised 1-D Gaussian of standard deviation ``sigma`` samples, truncated at 3 sigma."""
    half = max(1, math.ceil(3 * sigma))
    t = torch.arange(-half, half + 1, dtype=torch.float64)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    return k / k.sum()


class Downsample(LinearOperator):
    """Gaussian blur of ``sigma`` samples (reflected edges), then every ``factor``-th sample, on the last ``dims`` axes.

    ``sigma`` defaults to ``factor / 2``, the usual anti-aliasing width. The adjoint is the exact
    transpose (a vector-Jacobian product), so it passes the adjoint test to rounding.

    Examples
    --------
    >>> import torch
    >>> op = Downsample(2, dims=2)
    >>> op(torch.ones(1, 1, 8, 8)).shape
    torch.Size([1, 1, 4, 4])
    """

    def __init__(self, factor: int, dims: int = 2, sigma: float | None = None):
        if int(factor) != factor or factor < 1:
            raise InvalidInputError(f"factor={factor} must be a positive integer")
        if dims not in (1, 2, 3):
            raise InvalidInputError(f"dims={dims} must be 1, 2 or 3")
        self.factor, self.dims = int(factor), dims
        self.sigma = float(factor) / 2 if sigma is None else float(sigma)
        if not self.sigma > 0:
            raise InvalidInputError(f"sigma={sigma} must be positive")
        self.kernel = gaussian_kernel(self.sigma)

    def _blur(self, x: torch.Tensor) -> torch.Tensor:
        lead, spatial = x.shape[: -self.dims], x.shape[-self.dims :]
        h = x.reshape(-1, 1, *spatial)
        k = self.kernel.to(device=x.device, dtype=x.dtype)
        half = (k.numel() - 1) // 2
        conv = (F.conv1d, F.conv2d, F.conv3d)[self.dims - 1]
        for axis in range(self.dims):  # separable: one 1-D pass per axis
            if spatial[axis] <= half:
                raise ShapeError(
                    f"axis of {spatial[axis]} samples is too short for a blur of sigma {self.sigma:g}"
                )
            shape = [1, 1] + [1] * self.dims
            shape[2 + axis] = k.numel()
            pad = [0, 0] * self.dims
            pad[2 * (self.dims - 1 - axis)] = pad[2 * (self.dims - 1 - axis) + 1] = half
            h = conv(F.pad(h, pad, mode="reflect"), k.reshape(shape))
        return h.reshape(*lead, *spatial)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim < self.dims + 1:
            raise ShapeError(
                f"input of shape {tuple(x.shape)}: need a batch axis and {self.dims} signal axes"
            )
        if any(n % self.factor for n in x.shape[-self.dims :]):
            raise ShapeError(
                f"signal axes {tuple(x.shape[-self.dims :])} are not multiples of factor {self.factor}; crop or pad them first"
            )
        sl = (Ellipsis, *[slice(None, None, self.factor)] * self.dims)
        return self._blur(x)[sl]

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        in_shape = (*y.shape[: -self.dims], *[n * self.factor for n in y.shape[-self.dims :]])
        return vjp_adjoint(self.forward, y, in_shape, y.dtype)

    def __repr__(self) -> str:
        return f"Downsample(factor={self.factor}, dims={self.dims}, sigma={self.sigma:g})"
