"""Linear forward operators ``y = A x`` with exact adjoints, for reconstruction and posterior sampling.

Every operator has ``forward`` (also ``A(x)``), ``adjoint``, ``normal`` (``A^H A``), a regularised
least-squares :meth:`~LinearOperator.solve` (closed form where the operator allows, conjugate
gradients otherwise) and :meth:`~LinearOperator.dagger`; operators compose with ``@`` and scale with
``*``. All are batched over the first axis, differentiable, and run on the input's device.

- :class:`Mask`: missing samples, traces or pixels, any dimension.
- :class:`SubsampledFourier`: undersampled Cartesian MRI (centred orthonormal FFT, 2-D or 3-D), single
  coil or with coil sensitivity maps; :func:`fastmri_mask` draws fastMRI's random and equispaced masks;
  :func:`espirit_maps` estimates maps with sigpy where it is installed.
- :class:`Radon`: 2-D parallel-beam projections at any angles; :func:`fbp` (Ram-Lak, Hann).
- :class:`Downsample`: Gaussian blur and decimation in 1-3 D.

Classical reconstructions (:mod:`.recon`): :func:`zero_filled`, :func:`sirt`, :func:`sart` (scikit-image),
:func:`fista` with :func:`wavelet_l1` or :func:`total_variation` (compressed sensing).
"""

from .base import Composed, LinearOperator, Scaled, conjugate_gradient, inner
from .basic import Downsample, Mask
from .fourier import SubsampledFourier, espirit_maps, fastmri_mask, fftc, ifftc
from .radon import Radon, fbp, ramp_filter
from .recon import fista, sart, sirt, total_variation, wavelet_l1, zero_filled

__all__ = [
    "LinearOperator",
    "Composed",
    "Scaled",
    "conjugate_gradient",
    "inner",
    "Mask",
    "Downsample",
    "SubsampledFourier",
    "fastmri_mask",
    "fftc",
    "ifftc",
    "espirit_maps",
    "Radon",
    "fbp",
    "ramp_filter",
    "zero_filled",
    "sirt",
    "sart",
    "fista",
    "wavelet_l1",
    "total_variation",
]
