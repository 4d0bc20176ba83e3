"""2-D parallel-beam tomography: the Radon transform for any set of angles, its exact adjoint, and
filtered back-projection (Ram-Lak, Hann).

The projection is computed as scikit-image's ``radon(circle=True)`` computes it, so the two agree:
for each angle the image is rotated about pixel ``n // 2`` by bilinear interpolation (zero outside)
and summed along its columns. Here the rotation is ``torch.nn.functional.grid_sample``, so it is
batched, differentiable and runs on CUDA; the adjoint is the exact transpose, not an approximate
back-projector. Where the projection's bilinear weights fit in ``max_entries`` (about 16 bytes each;
8 Mi entries cover 128 x 128 pixels at 120 views) they are kept as one sparse matrix and both
directions are sparse products; beyond that the forward is ``grid_sample`` and the adjoint its
vector-Jacobian product (about ten times slower on CPU). The sinogram is ``(..., angles, detectors)``: one row
per view, the transpose of scikit-image's layout.

Why not a library: deepinv's ``Tomography`` requires torchvision, which pins one torch build (an
install would replace the machine's torch); ASTRA's fast paths need CUDA; scikit-image is the
reference the tests compare against but is neither batched nor differentiable.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import InvalidInputError, ShapeError
from .base import LinearOperator
from .basic import vjp_adjoint

__all__ = ["Radon", "ramp_filter", "fbp"]


class _SparseProduct(torch.autograd.Function):
    """``mat @ flat`` whose gradient is ``mat_t @ grad`` with the transpose kept ready (autograd
    through a CSR product would transpose the matrix on every backward pass)."""

    @staticmethod
    def forward(ctx, flat: torch.Tensor, mat: torch.Tensor, mat_t: torch.Tensor) -> torch.Tensor:
        ctx.mats = (mat, mat_t)
        return mat @ flat

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        mat, mat_t = ctx.mats
        return _SparseProduct.apply(grad, mat_t, mat), None, None


class Radon(LinearOperator):
    """Parallel-beam projections of ``size x size`` images at ``angles`` (degrees).

    The image is assumed zero outside its inscribed circle (scikit-image's ``circle=True``). Angles
    are processed ``chunk`` at a time, so memory grows with ``chunk * size**2``, not with the number
    of views.

    Examples
    --------
    >>> import torch
    >>> op = Radon(32, torch.linspace(0, 180, 30, dtype=torch.float64)[:-1])
    >>> op(torch.zeros(2, 1, 32, 32)).shape
    torch.Size([2, 1, 29, 32])
    """

    def __init__(self, size: int, angles, chunk: int = 16, max_entries: int = 2**23):
        if int(size) != size or size < 4:
            raise InvalidInputError(f"size={size} must be an integer of at least 4 pixels")
        a = torch.as_tensor(angles, dtype=torch.float64).reshape(-1)
        if a.numel() == 0 or not bool(torch.isfinite(a).all()):
            raise InvalidInputError("angles must be a non-empty list of finite angles in degrees")
        if chunk < 1:
            raise InvalidInputError(f"chunk={chunk} must be at least 1")
        self.size, self.angles, self.chunk = int(size), a, int(chunk)
        self._grids: dict[tuple, torch.Tensor] = {}
        self.sparse = 4 * self.n_angles * self.size**2 <= max_entries
        self._matrices: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}

    @property
    def n_angles(self) -> int:
        return int(self.angles.numel())

    def _grid(self, lo: int, hi: int, like: torch.Tensor) -> torch.Tensor:
        key = (lo, hi, like.device, like.dtype)
        if key not in self._grids:
            n, c = self.size, self.size // 2
            t = torch.deg2rad(self.angles[lo:hi]).reshape(-1, 1, 1)
            row, col = torch.meshgrid(
                torch.arange(n, dtype=torch.float64), torch.arange(n, dtype=torch.float64), indexing="ij"
            )
            cos, sin = torch.cos(t), torch.sin(t)
            x_in = (
                cos * (col - c) + sin * (row - c) + c
            )  # scikit-image's rotation matrix, applied to (col, row)
            y_in = -sin * (col - c) + cos * (row - c) + c
            grid = torch.stack([2 * x_in / (n - 1) - 1, 2 * y_in / (n - 1) - 1], dim=-1)  # align_corners=True
            self._grids[key] = grid.to(device=like.device, dtype=like.dtype)
        return self._grids[key]

    def _matrix(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The projection and its transpose as sparse CSR matrices ``(angles * n, n * n)``: the
        bilinear weights ``grid_sample`` applies (``align_corners=True``, zero outside), summed over rows."""
        key = (like.device, like.dtype)
        if key not in self._matrices:
            n = self.size
            grid = self._grid(0, self.n_angles, torch.zeros((), dtype=torch.float64))  # (A, n, n, 2)
            x_in, y_in = (grid[..., 0] + 1) * (n - 1) / 2, (grid[..., 1] + 1) * (n - 1) / 2
            x0, y0 = x_in.floor(), y_in.floor()
            wx, wy = x_in - x0, y_in - y0
            view = torch.arange(self.n_angles).reshape(-1, 1, 1).expand(-1, n, n)
            out_col = torch.arange(n).reshape(1, 1, n).expand(self.n_angles, n, n)
            rows, cols, vals = [], [], []
            for dx, dy, w in (
                (0, 0, (1 - wx) * (1 - wy)),
                (1, 0, wx * (1 - wy)),
                (0, 1, (1 - wx) * wy),
                (1, 1, wx * wy),
            ):
                xi, yi = (x0 + dx).long(), (y0 + dy).long()
                keep = (xi >= 0) & (xi < n) & (yi >= 0) & (yi < n) & (w != 0)
                rows.append((view * n + out_col)[keep])
                cols.append((yi * n + xi)[keep])
                vals.append(w[keep])
            coo = torch.sparse_coo_tensor(
                torch.stack([torch.cat(rows), torch.cat(cols)]),
                torch.cat(vals),
                (self.n_angles * n, n * n),
                check_invariants=True,
            ).coalesce()
            mat = coo.to(dtype=like.dtype, device=like.device)
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
                self._matrices[key] = (mat.to_sparse_csr(), mat.t().coalesce().to_sparse_csr())
        return self._matrices[key]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim < 3 or tuple(x.shape[-2:]) != (self.size, self.size):
            raise ShapeError(
                f"input of shape {tuple(x.shape)}: expected (batch, ..., {self.size}, {self.size})"
            )
        lead = x.shape[:-2]
        if self.sparse and not x.is_complex():
            mat, mat_t = self._matrix(x)
            flat = x.reshape(-1, self.size * self.size).T
            return _SparseProduct.apply(flat, mat, mat_t).T.reshape(*lead, self.n_angles, self.size)
        img = x.reshape(-1, 1, self.size, self.size)
        views = []
        for lo in range(0, self.n_angles, self.chunk):
            hi = min(lo + self.chunk, self.n_angles)
            grid = self._grid(lo, hi, img)
            k = hi - lo
            rep = img.repeat_interleave(k, dim=0)  # (items * k, 1, n, n)
            g = grid.repeat(img.shape[0], 1, 1, 1)
            rot = F.grid_sample(rep, g, mode="bilinear", padding_mode="zeros", align_corners=True)
            views.append(rot.sum(-2).reshape(img.shape[0], k, self.size))
        return torch.cat(views, dim=1).reshape(*lead, self.n_angles, self.size)

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        if y.ndim < 3 or tuple(y.shape[-2:]) != (self.n_angles, self.size):
            raise ShapeError(
                f"sinogram of shape {tuple(y.shape)}: expected (batch, ..., {self.n_angles}, {self.size})"
            )
        if self.sparse and not y.is_complex():
            mat, mat_t = self._matrix(y)
            flat = y.reshape(-1, self.n_angles * self.size).T
            return _SparseProduct.apply(flat, mat_t, mat).T.reshape(*y.shape[:-2], self.size, self.size)
        return vjp_adjoint(self.forward, y, (*y.shape[:-2], self.size, self.size), y.dtype)

    def backproject(self, sinogram: torch.Tensor) -> torch.Tensor:
        """Pixel-driven back-projection: each pixel takes each view's value at its detector position
        ``t = col' cos(a) - row' sin(a)`` (offsets from pixel ``n // 2``), linearly interpolated and summed
        over views, as scikit-image's ``iradon`` does. Close to, but not exactly, :meth:`adjoint`; FBP uses it."""
        if sinogram.ndim < 3 or tuple(sinogram.shape[-2:]) != (self.n_angles, self.size):
            raise ShapeError(
                f"sinogram of shape {tuple(sinogram.shape)}: expected (batch, ..., {self.n_angles}, {self.size})"
            )
        return self._backproject(sinogram, self.size // 2)

    def _backproject(self, sinogram: torch.Tensor, centre: int) -> torch.Tensor:
        """:meth:`backproject` of views of any detector count whose index ``centre`` is the rotation axis."""
        n, c, m = self.size, self.size // 2, sinogram.shape[-1]
        lead = sinogram.shape[:-2]
        views = sinogram.reshape(-1, self.n_angles, m)
        off = torch.arange(n, device=sinogram.device, dtype=sinogram.dtype) - c
        row, col = torch.meshgrid(off, off, indexing="ij")
        out = torch.zeros(views.shape[0], n, n, device=sinogram.device, dtype=sinogram.dtype)
        for lo in range(0, self.n_angles, self.chunk):
            t = torch.deg2rad(self.angles[lo : lo + self.chunk]).to(
                device=sinogram.device, dtype=sinogram.dtype
            )
            pos = (
                col * torch.cos(t).reshape(-1, 1, 1) - row * torch.sin(t).reshape(-1, 1, 1) + centre
            )  # (k, n, n), in samples
            inside = (pos >= 0) & (pos <= m - 1)
            i0 = pos.floor().clamp(0, m - 2).long()
            w = (pos - i0).clamp(0, 1)
            part = views[:, lo : lo + t.numel()]  # (items, k, m)
            flat = i0.reshape(1, t.numel(), -1).expand(part.shape[0], -1, -1)
            v0 = torch.gather(part, 2, flat).reshape(part.shape[0], t.numel(), n, n)
            v1 = torch.gather(part, 2, flat + 1).reshape(part.shape[0], t.numel(), n, n)
            out = out + torch.where(inside, v0 * (1 - w) + v1 * w, torch.zeros_like(v0)).sum(1)
        return out.reshape(*lead, n, n)

    def fbp(self, sinogram: torch.Tensor, filter: str = "ramp") -> torch.Tensor:
        """Filtered back-projection of a sinogram of this geometry; see :func:`fbp`."""
        return fbp(sinogram, self, filter)

    def __repr__(self) -> str:
        return f"Radon({self.size}x{self.size}, {self.n_angles} angles)"


def ramp_filter(size: int, filter: str = "ramp") -> torch.Tensor:
    """The frequency response of the FBP filter for projections zero-padded to ``size`` (even).

    Built from the band-limited ramp's spatial samples (Kak & Slaney, ch. 3, eq. 61), which avoids
    the DC bias of a sampled ``|f|``; ``'hann'`` multiplies it by a Hann window. As scikit-image's
    ``iradon`` builds it.
    """
    if size % 2:
        raise InvalidInputError(f"size={size} must be even")
    n = np.concatenate((np.arange(1, size / 2 + 1, 2, dtype=int), np.arange(size / 2 - 1, 0, -2, dtype=int)))
    f = np.zeros(size)
    f[0] = 0.25
    f[1::2] = -1 / (np.pi * n) ** 2
    response = 2 * np.real(np.fft.fft(f))
    if filter == "hann":
        response *= np.fft.fftshift(np.hanning(size))
    elif filter not in ("ramp", "ram-lak"):
        raise InvalidInputError(f"filter={filter!r}: use 'ramp' (Ram-Lak) or 'hann'")
    return torch.from_numpy(response)


def fbp(sinogram: torch.Tensor, radon: Radon, filter: str = "ramp") -> torch.Tensor:
    """Filtered back-projection: each view filtered along the detector, then back-projected
    (:meth:`Radon.backproject`), scaled by ``pi / (2 * angles)`` and zeroed outside the reconstruction circle.

    Assumes views spread evenly over 180 degrees, as FBP does.
    """
    if sinogram.ndim < 3 or tuple(sinogram.shape[-2:]) != (radon.n_angles, radon.size):
        raise ShapeError(
            f"sinogram of shape {tuple(sinogram.shape)}: expected (batch, ..., {radon.n_angles}, {radon.size})"
        )
    n = radon.size
    # the views are zero-padded to the image diagonal before filtering and the filtered tails are kept:
    # a pixel near the circle's edge reads the filter's response beyond the last detector (as scikit-image)
    diagonal = math.ceil(math.sqrt(2) * n)
    before = diagonal // 2 - n // 2
    padded = max(64, int(2 ** math.ceil(math.log2(2 * diagonal))))
    response = ramp_filter(padded, filter).to(device=sinogram.device, dtype=sinogram.dtype)
    spectrum = torch.fft.fft(F.pad(sinogram, (before, padded - n - before)), dim=-1) * response
    filtered = torch.fft.ifft(spectrum, dim=-1).real[..., :diagonal]
    image = radon._backproject(filtered, diagonal // 2) * (math.pi / (2 * radon.n_angles))
    c = n // 2
    yy, xx = torch.meshgrid(torch.arange(n) - c, torch.arange(n) - c, indexing="ij")
    inside = ((yy**2 + xx**2) <= (n // 2) ** 2).to(device=image.device, dtype=image.dtype)
    return image * inside
