"""MRI room adapter: NIfTI, DICOM series, fastMRI HDF5 and numpy volumes in, the same kind out.

* I/O through :mod:`.files` (:class:`~.files.MRImage`: voxels with their affine, header and source).
* Tensors: each volume (4-D data volume by volume) is scaled by its 0 and 99.5th percentiles and
  clipped at 1 (cWDM), the clipped excess kept (:func:`.preprocess.normalise`); cut into 2-D slices
  along the slice axis (the largest voxel spacing, :func:`.preprocess.slice_axis`), each padded by
  reflection to a multiple of ``[data] multiple``. A second channel holds the noise level, the
  Rician sigma in the same units, given (``sigma=``, in the image's units) or estimated from the
  background (:func:`.degrade.estimate_sigma`; the MAD estimate when the image has no background).
  The inverse crops, restacks and undoes the scaling with the excess added back, so an unchanged
  tensor gives the volume back exactly (and sets values a model pushed below zero to zero).
* Degradations (:mod:`.degrade`): Rician noise at a fraction of the maximum; single-coil k-space
  undersampling with fastMRI masks.
* Metrics (:mod:`.metrics`): fastMRI's PSNR, SSIM and NMSE per volume, and within the foreground.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from wavediff.errors import InvalidInputError, OutputExistsError, ShapeError
from wavediff.modality import Modality, register_modality
from wavediff.operators import ifftc

from . import degrade as _degrade
from .files import MRImage, read_mri, source_paths, write_mri
from .preprocess import (
    crop_to,
    denormalise,
    from_slices,
    normalise,
    pad_to,
    slice_axis,
    stack_volumes,
    to_slices,
    volumes,
)
from .volume3d import blend, cubes

__all__ = ["MRI"]


def _zooms(obj: Any) -> tuple[float, ...]:
    if isinstance(obj, MRImage):
        from nibabel.affines import voxel_sizes

        return tuple(float(z) for z in voxel_sizes(np.asarray(obj.affine)))
    return (1.0, 1.0, 1.0)


@register_modality
class MRI(Modality):
    """Magnetic resonance imaging: Rician denoising of magnitude images (2-D slices of volumes, or 3-D cubes).

    Parameters
    ----------
    channels : int, optional
        Image channels per slice (1: the magnitude).
    context_channels : int, optional
        1: the noise level map is the model's second input; 3: the map, then the slices on either side
        along the slice axis (2.5-D, the volume's third dimension; the slice itself at the edges); 0:
        blind. Default: the recipe's.
    multiple : int, optional
        Slices are padded by reflection to a multiple of this (recipe: 16).
    dims : int, optional
        2 (recipe default): slices for a 2-D (or, with context 3, 2.5-D) model; 3: overlapping cubes of
        ``cube`` voxels for a 3-D model on cWDM's packing (:mod:`.volume3d`; context 0 or 1).
    cube : int, optional
        The cubes' side in the 3-D layout (a multiple of ``multiple``; recipe: 48). They overlap by a
        quarter; any side restores with any 3-D model.

    Examples
    --------
    >>> import numpy as np
    >>> from wavediff import get_modality
    >>> mri = get_modality("mri")
    >>> vol = np.random.default_rng(0).rayleigh(0.05, (40, 36, 5)); vol[8:32, 8:28] += 1.0
    >>> tensor, ctx = mri.to_tensor(vol)
    >>> tuple(tensor.shape), ctx["report"].split(";")[0]  # 5 slices of 40 x 36 padded to 48 x 48: slice, level, neighbours
    ((5, 4, 48, 48), 'noise sigma 0.0499 (estimated from the background)')
    >>> bool(np.allclose(mri.from_tensor(tensor, ctx), vol, rtol=0, atol=1e-12))
    True
    """

    name = "mri"
    description = "MRI Rician denoising; NIfTI, DICOM series, fastMRI h5 and numpy volumes in and out"
    spatial_dims = 2
    extensions = (".nii", ".nii.gz", ".dcm", ".h5", ".npy")
    reads_folders = True  # a DICOM series is a folder of files
    free_settings = ("cube",)  # how cubes tile a volume; any side restores with any 3-D model

    def __init__(
        self,
        channels: int | None = None,
        context_channels: int | None = None,
        multiple: int | None = None,
        dims: int | None = None,
        cube: int | None = None,
    ):
        data = self.default_recipe().get("data", {})
        self.dims = int(data.get("dims", 2) if dims is None else dims)
        if self.dims not in (2, 3):
            raise InvalidInputError(f"dims={self.dims}: use 2 (slices) or 3 (cubes for a 3-D model)")
        self.spatial_dims = self.dims
        self.channels = int(data.get("channels", 1) if channels is None else channels)
        default_context = 1 if self.dims == 3 else data.get("context_channels", 1)
        self.context_channels = int(default_context if context_channels is None else context_channels)
        self.multiple = int(data.get("multiple", 16) if multiple is None else multiple)
        self.cube = int(data.get("cube", 48) if cube is None else cube)
        if self.channels != 1:
            raise InvalidInputError(
                f"channels={self.channels}: the MRI room restores magnitude images (1 channel)"
            )
        if self.context_channels not in (0, 1, 3):
            raise InvalidInputError(
                f"context_channels={self.context_channels}: use 1 (noise level map), 3 (the map and the "
                "slices on either side) or 0 (blind)"
            )
        if self.multiple < 1 or self.multiple & (self.multiple - 1):
            raise InvalidInputError(
                f"multiple={self.multiple} must be a power of two (the wavelet's and U-Net's strides)"
            )
        if self.dims == 3 and self.context_channels == 3:
            raise InvalidInputError("context_channels=3 (neighbouring slices) is the 2-D layout's; a 3-D model takes 0 or 1")
        if self.cube < self.multiple or self.cube % self.multiple:
            raise InvalidInputError(f"cube={self.cube} must be a positive multiple of multiple={self.multiple}")

    def settings(self) -> dict[str, Any]:
        return {
            "channels": self.channels,
            "context_channels": self.context_channels,
            "multiple": self.multiple,
            "dims": self.dims,
            "cube": self.cube,
        }

    @classmethod
    def weights_3d_path(cls) -> Path:
        """The 3-D model trained with ``recipe3d.toml`` (``Restorer(MRI(dims=3), model=MRI.weights_3d_path())``)."""
        return cls.weights_path().with_name("weights3d.safetensors")

    # ------------------------------------------------------------------ I/O
    def read(self, path: str | os.PathLike, series: str | None = None, strict: bool = False) -> MRImage:
        """An :class:`~.files.MRImage` from NIfTI, a DICOM file or folder (``series=`` UID), fastMRI h5 or .npy."""
        return read_mri(path, series=series, strict=strict)

    def write(self, obj: Any, path: str | os.PathLike) -> Path:
        """Write ``obj`` (an MRImage, or an array for .npy/.nii) to ``path``: the format follows the suffix,
        a name without one writes a derived DICOM series there."""
        image = obj if isinstance(obj, MRImage) else MRImage(np.asarray(obj), np.eye(4), "numpy")
        return write_mri(
            image, path, overwrite=True
        )  # check_output has refused an existing file unless asked

    def check_output(
        self, path: str | os.PathLike, *, inputs: Any = (), overwrite: bool = False, label: str = "output"
    ) -> Path:
        """Files: the engine's checks; a folder (a DICOM series): :func:`~.dicom.write_dicom` checks it."""
        p = Path(path)
        if p.suffix == "" or p.is_dir():
            if p.exists() and not overwrite:
                raise OutputExistsError(
                    f"{label} {p} exists; pass overwrite=True (--overwrite) to replace it"
                )
            return p
        return super().check_output(path, inputs=inputs, overwrite=overwrite, label=label)

    def source_files(self, obj: Any) -> list[Path]:
        return [Path(p) for p in source_paths(obj)] if isinstance(obj, MRImage) else []

    def accepts(self, obj: Any) -> bool:
        return isinstance(obj, MRImage)

    def describe(self, obj: Any) -> str:
        if isinstance(obj, MRImage):
            zooms = "x".join(f"{z:.3g}" for z in _zooms(obj))
            return f"an MR image ({obj.source}) of shape {tuple(obj.data.shape)}, voxels {zooms} mm"
        return super().describe(obj)

    # ------------------------------------------------------------------ tensors
    def _data(self, obj: Any) -> np.ndarray:
        arr = obj.data if isinstance(obj, MRImage) else obj
        arr = _degrade.magnitude_image(arr, "the MR image")
        if arr.ndim > 4:
            raise ShapeError(
                f"an MR image of shape {arr.shape}: pass a slice, a volume or 4-D data (volumes last)"
            )
        return arr

    def _sigma(self, vol: np.ndarray, sigma: float | None) -> tuple[float, str]:
        if sigma is not None:
            if not np.isfinite(sigma) or sigma < 0:
                raise InvalidInputError(f"sigma={sigma!r}: the Rician noise level in the image's units, >= 0")
            return float(sigma), "given"
        try:
            return _degrade.estimate_sigma(vol, "background"), "estimated from the background"
        except InvalidInputError as first:
            try:
                s = _degrade.estimate_sigma(vol, "mad", mask=vol > 0)  # all but a zeroed background
            except InvalidInputError as second:
                raise InvalidInputError(
                    f"the noise level cannot be estimated ({first}; {second}); pass sigma= (--sigma), the Rician "
                    "noise level in the image's units"
                ) from None
            return s, f"estimated by MAD inside the object: {str(first).split(':')[0]}"

    def to_tensor(
        self, obj: Any, sigma: float | None = None, axis: int | None = None
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        """Slices ``(n, 1 + context_channels, H', W')`` of every volume (``dims=3``: cubes ``(n, 1 +
        context_channels, C, C, C)``); ``sigma`` in the image's units (default: estimated per volume),
        ``axis`` the slice axis (default: the largest voxel spacing; unused by cubes)."""
        arr = self._data(obj)
        four_d = arr.ndim == 4
        vols = [arr[..., None] if arr.ndim == 2 else v for v in (volumes(arr) if four_d else [arr])]
        ax = slice_axis(_zooms(obj)) if axis is None else int(axis)
        if not -3 <= ax < 3:
            raise InvalidInputError(f"axis={axis}: the slice axis of a volume, 0, 1 or 2")
        ax %= 3
        parts, contexts, notes = [], [], []
        for vol in vols:
            scaled, norm = normalise(vol)
            s, how = (
                self._sigma(vol, sigma)
                if self.context_channels
                else (float("nan"), "not used by a blind model")
            )
            level = np.float32(s / (norm["high"] - norm["low"]))
            if self.dims == 3:
                rows, sizes = cubes(scaled, self.cube, self.cube - self.cube // 4)
            else:
                rows, sizes = pad_to(to_slices(scaled, ax), self.multiple)
            t = torch.from_numpy(np.ascontiguousarray(rows, dtype=np.float32)).unsqueeze(1)
            if self.context_channels:
                t = torch.cat([t, torch.full_like(t, float(level))], dim=1)
            if self.context_channels == 3:  # the neighbours along the slice axis, the slice at the edges
                t = torch.cat(
                    [t, torch.cat([t[:1, :1], t[:-1, :1]]), torch.cat([t[1:, :1], t[-1:, :1]])], dim=1
                )
            parts.append(t)
            contexts.append({"norm": norm, "sizes": sizes, "n": t.shape[0]})
            notes.append(f"noise sigma {s:.3g} ({how})")
        tensor = torch.cat(parts)
        flat = tensor[:, 0].reshape(tensor.shape[0], -1)
        unchanged = (flat.max(1).values == flat.min(1).values).numpy()
        layout = f"{tensor.shape[0]} cube(s) of {self.cube}^3" if self.dims == 3 else f"{tensor.shape[0]} slice(s) along axis {ax}"
        report = "; ".join(dict.fromkeys(notes)) + f"; {layout}"
        ctx = {
            "volumes": contexts,
            "axis": ax,
            "four_d": four_d,
            "two_d": arr.ndim == 2,
            "source": obj,
            "unchanged": unchanged,
            "report": report,
        }
        return tensor, ctx

    def _volumes(self, tensor: torch.Tensor, ctx: dict[str, Any], scale_only: bool) -> np.ndarray:
        data = (
            tensor[:, 0].detach().cpu().double().numpy()
            if tensor.ndim == 2 + self.dims
            else tensor.detach().cpu().double().numpy()
        )
        out, start = [], 0
        for v in ctx["volumes"]:
            block = data[start : start + v["n"]]
            start += v["n"]
            vol = blend(block, v["sizes"]) if self.dims == 3 else from_slices(crop_to(block, v["sizes"]), ctx["axis"])
            norm = v["norm"]
            out.append(vol * (norm["high"] - norm["low"]) if scale_only else denormalise(vol, norm))
        if ctx["four_d"]:
            return stack_volumes(out, True)
        return out[0][..., 0] if ctx["two_d"] else out[0]

    def _native(self, values: np.ndarray, ctx: dict[str, Any]) -> Any:
        src = ctx["source"]
        if isinstance(src, MRImage):
            return dataclasses.replace(src, data=values, meta=dict(src.meta))
        return values

    def from_tensor(self, tensor: torch.Tensor, context: dict[str, Any]) -> Any:
        """The inverse of :meth:`to_tensor`; a model's output below zero is set to zero (a magnitude is not negative)."""
        return self._native(np.maximum(self._volumes(tensor, context, scale_only=False), 0.0), context)

    def uncertainty_from_tensor(self, std: torch.Tensor, context: dict[str, Any]) -> Any:
        """The per-voxel standard deviation in the image's units, as the same kind of object."""
        return self._native(self._volumes(std, context, scale_only=True), context)

    # ------------------------------------------------------------------ evaluation
    def degrade(
        self, clean: Any, rng: np.random.Generator, level: float = 0.05, kind: str = "rician", **options: Any
    ) -> Any:
        """Rician noise with sigma = ``level`` x the maximum (``kind='rician'``), or ``kind='kspace'``:
        single-coil k-space with a smooth random phase undersampled by a fastMRI mask (``acceleration``,
        ``center_fraction``, ``mask='equispaced'|'random'``, ``seed``); its zero-filled magnitude is
        the image and the masked k-space is kept in :attr:`MRImage.kspace` (slices first)."""
        data = self._data(clean)
        if kind == "rician":
            noisy = _degrade.rician(data, level, rng, **options)
            return self._native(noisy, {"source": clean})
        if kind == "kspace":
            vol = data[..., None] if data.ndim == 2 else data
            if vol.ndim != 3:
                raise ShapeError(f"k-space is simulated from a slice or a volume, not shape {data.shape}")
            axis = slice_axis(_zooms(clean))
            slices = to_slices(vol, axis)
            sim = _degrade.simulate_kspace(
                slices, rng, noise=float(level) * float(slices.max()) if level else 0.0
            )
            masked, mask = _degrade.undersample(
                sim["kspace"],
                options.get("acceleration", 4),
                options.get("center_fraction"),
                kind=options.get("mask", "equispaced"),
                seed=options.get("seed", 0),
            )
            zf = ifftc(torch.as_tensor(masked)).abs().numpy()
            image = from_slices(zf, axis)
            image = image[..., 0] if data.ndim == 2 else image
            if isinstance(clean, MRImage):
                meta = {**clean.meta, "mask": mask, "slice_axis": axis}
                return dataclasses.replace(clean, data=image, kspace=masked, meta=meta)
            return {"image": image, "kspace": masked, "mask": mask, "slice_axis": axis}
        raise InvalidInputError(
            f"kind={kind!r}: use 'rician' (magnitude noise) or 'kspace' (undersampled acquisition)"
        )

    def metrics(self, reference: Any, estimate: Any) -> dict[str, float]:
        """fastMRI's PSNR, SSIM and NMSE (the volume's maximum as data range; SSIM over the slices along the slice
        axis) and the same within the reference's foreground mask."""
        from .metrics import foreground_mask, volume_metrics

        ref, est = self._data(reference), self._data(estimate)
        if ref.shape != est.shape:
            raise ShapeError(f"reference {ref.shape} and estimate {est.shape} differ in shape")
        if (
            ref.ndim >= 3
        ):  # slices first, as fastMRI's volumes are (4-D: the first volume's slices, then the next)
            axis = slice_axis(_zooms(reference))
            ref, est = (
                np.concatenate([to_slices(v, axis) for v in volumes(x)])
                if x.ndim == 4
                else to_slices(x, axis)
                for x in (ref, est)
            )
        return volume_metrics(ref, est, foreground_mask(ref))

    # ------------------------------------------------------------------ learning
    def training_data(
        self, recipe: dict[str, Any], seed: int = 0, data: str | os.PathLike | None = None
    ) -> Any:
        """Pairs (clean ``(B, 1, P, P)``, noisy with the level map ``(B, 2, P, P)``) of slice crops (see :mod:`.training`)."""
        from .training import training_batches

        return training_batches(self, recipe, seed=seed, data=None if data is None else Path(data))

    def demo(self, out_dir: str | os.PathLike, seed: int = 0) -> dict[str, Any]:
        from .demo import run_demo

        return run_demo(self, Path(out_dir), seed)
