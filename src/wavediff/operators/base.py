"""The linear-operator interface: ``forward``, ``adjoint``, a regularised least-squares solve, composition.

An operator maps a batch of signals ``x`` (first axis: batch) to measurements ``y = A x``. Inner
products are real, ``<a, b> = Re sum(conj(a) * b)``, so complex operators (Fourier) and real images
share one adjoint identity, ``<A x, y> = <x, A^H y>``.

Examples
--------
A scaled composition keeps the adjoint identity:

>>> import torch
>>> from wavediff.operators import Mask
>>> m = Mask(torch.tensor([1.0, 0.0, 1.0]))
>>> op = 2.0 * (m @ m)
>>> x, y = torch.randn(4, 3, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64)
>>> bool(torch.isclose(inner(op(x), y).sum(), inner(x, op.adjoint(y)).sum()))
True
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ..errors import InvalidInputError, NonFiniteError

__all__ = ["LinearOperator", "Composed", "Scaled", "conjugate_gradient", "inner"]


def inner(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``Re sum(conj(a) * b)`` over every axis but the first (the batch): one real number per item."""
    prod = a.conj() * b
    if prod.is_complex():
        prod = prod.real
    return prod.reshape(prod.shape[0], -1).sum(-1)


def _per_item(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """A ``(batch,)`` vector shaped to broadcast against ``like``."""
    return v.reshape(-1, *([1] * (like.ndim - 1)))


def conjugate_gradient(
    apply: Callable[[torch.Tensor], torch.Tensor],
    b: torch.Tensor,
    x: torch.Tensor,
    iters: int = 100,
    tol: float = 1e-6,
) -> torch.Tensor:
    """Solve ``apply(x) = b`` for a self-adjoint positive (semi-)definite ``apply``, per batch item.

    Stops when every item's residual is below ``tol`` times the norm of its ``b``. Differentiable (no
    in-place updates). Started from zero on a consistent system it converges to the minimum-norm solution.
    """
    if iters < 1:
        raise InvalidInputError(f"iters={iters} must be at least 1")
    r = b - apply(x)
    p = r
    rs = inner(r, r)
    stop = (tol * inner(b, b).sqrt()) ** 2
    tiny = torch.finfo(rs.dtype).tiny
    for _ in range(iters):
        if bool((rs <= stop).all()):
            break
        ap = apply(p)
        alpha = rs / inner(p, ap).clamp_min(tiny)
        x = x + _per_item(alpha, x).to(x.dtype) * p
        r = r - _per_item(alpha, r).to(r.dtype) * ap
        rs_new = inner(r, r)
        p = r + _per_item(rs_new / rs.clamp_min(tiny), p).to(p.dtype) * p
        rs = rs_new
    return x


class LinearOperator:
    """A linear map ``y = A x`` with its adjoint; subclasses define :meth:`forward` and :meth:`adjoint`.

    Operators compose (``A @ B`` is ``x -> A(B(x))``), scale (``2.0 * A``) and solve the regularised
    least-squares problem ``min_x ||A x - y||^2 + lam ||x - x0||^2`` (:meth:`solve`), the data-consistency
    step of posterior samplers. Everything is batched over the first axis, differentiable, and runs on
    the device of its input.
    """

    #: ``A^H A`` is an orthogonal projection (``A`` a partial isometry: masks, one-coil Fourier):
    #: posterior samplers can then correct their coupling exactly
    isometric_range = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward(x)

    def normal(self, x: torch.Tensor) -> torch.Tensor:
        """``A^H A x``."""
        return self.adjoint(self.forward(x))

    def __matmul__(self, other: LinearOperator) -> LinearOperator:
        if not isinstance(other, LinearOperator):
            return NotImplemented
        return Composed(self, other)

    def __mul__(self, scale: float) -> LinearOperator:
        return Scaled(self, float(scale))

    __rmul__ = __mul__

    def solve(
        self,
        y: torch.Tensor,
        lam: float | torch.Tensor = 0.0,
        x0: torch.Tensor | None = None,
        *,
        init: torch.Tensor | None = None,
        iters: int = 100,
        tol: float = 1e-6,
    ) -> torch.Tensor:
        """``argmin_x ||A x - y||^2 + lam ||x - x0||^2`` by conjugate gradients on ``(A^H A + lam) x = A^H y + lam x0``.

        Parameters
        ----------
        y : tensor
            Measurements, as :meth:`forward` returns them.
        lam : float or tensor of shape (batch,)
            Weight of the pull towards ``x0`` (0: least squares; from ``init`` or zero, the minimum-norm
            solution).
        x0 : tensor, optional
            The point ``lam`` pulls towards (default zero); also the start of the iterations.
        init : tensor, optional
            Where the iterations start (default ``x0``, else zero): where ``A`` does not see, the result keeps it.
        iters, tol : int, float
            At most ``iters`` iterations; stop when the residual is below ``tol`` times the right-hand side.
        """
        rhs = self.adjoint(y)
        lam_t = torch.as_tensor(lam, dtype=rhs.real.dtype, device=rhs.device)
        if bool((lam_t < 0).any()) or not bool(torch.isfinite(lam_t).all()):
            raise InvalidInputError(f"lam must be finite and non-negative, got {lam!r}")
        lam_t = lam_t.expand(rhs.shape[0]) if lam_t.ndim == 0 else lam_t
        if lam_t.shape != (rhs.shape[0],):
            raise InvalidInputError(
                f"lam has shape {tuple(lam_t.shape)}; pass a number or one value per batch item ({rhs.shape[0]})"
            )
        lam_b = _per_item(lam_t, rhs)
        if x0 is not None:
            if x0.shape != rhs.shape:
                raise InvalidInputError(
                    f"x0 has shape {tuple(x0.shape)}; the operator's input shape here is {tuple(rhs.shape)}"
                )
            rhs = rhs + lam_b * x0
        start = init if init is not None else (x0 if x0 is not None else torch.zeros_like(rhs))
        if not bool(torch.isfinite(torch.view_as_real(start) if start.is_complex() else start).all()):
            raise NonFiniteError("the starting point of the solve holds NaN or Inf")
        return conjugate_gradient(lambda v: self.normal(v) + lam_b * v, rhs, start, iters=iters, tol=tol)

    def dagger(self, y: torch.Tensor, **kwargs) -> torch.Tensor:
        """The minimum-norm least-squares solution (pseudo-inverse) by :meth:`solve` with ``lam = 0``."""
        return self.solve(y, 0.0, **kwargs)

    def matrix(self, shape: tuple[int, ...], dtype: torch.dtype = torch.float64) -> torch.Tensor:
        """The dense matrix ``(m, d)`` of ``A`` on inputs of ``shape`` (one item, batch axis excluded),
        column ``k`` the image of the ``k``-th unit vector: for small problems and tests."""
        d = math.prod(shape)
        eye = torch.eye(d, dtype=dtype).reshape(d, *shape)
        return self.forward(eye).reshape(d, -1).T

    def norm(self, x: torch.Tensor, iters: int = 50) -> torch.Tensor:
        """The operator norm ``||A||`` per batch item, by power iteration on ``A^H A`` from ``x``."""
        v = x / inner(x, x).sqrt().clamp_min(1e-30).reshape(-1, *([1] * (x.ndim - 1)))
        value = torch.zeros(x.shape[0], dtype=v.real.dtype, device=x.device)
        for _ in range(iters):
            w = self.normal(v)
            value = inner(w, w).sqrt()
            v = w / _per_item(value.clamp_min(1e-30), w).to(w.dtype)
        return value.sqrt()


class Composed(LinearOperator):
    """``x -> outer(inner(x))``; its adjoint is ``inner^H(outer^H(y))``."""

    def __init__(self, outer: LinearOperator, inner_op: LinearOperator):
        self.outer, self.inner = outer, inner_op

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.outer(self.inner(x))

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        return self.inner.adjoint(self.outer.adjoint(y))

    def __repr__(self) -> str:
        return f"{self.outer!r} @ {self.inner!r}"


class Scaled(LinearOperator):
    """``scale * A``."""

    def __init__(self, op: LinearOperator, scale: float):
        if not torch.isfinite(torch.tensor(scale)):
            raise InvalidInputError(f"scale={scale} must be finite")
        self.op, self.scale = op, scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * self.op(x)

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        return self.scale * self.op.adjoint(y)

    def __repr__(self) -> str:
        return f"{self.scale:g} * {self.op!r}"
