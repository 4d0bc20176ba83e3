"""MRI files read and written with their geometry kept: NIfTI (nibabel), DICOM series (pydicom) and fastMRI HDF5 (h5py).

:func:`read_mri` gives an :class:`MRImage` (voxels, a RAS+ affine, the source's header); :func:`write_mri`
writes new voxels with that image's geometry, on-disk type and metadata, atomically, never onto an input.

Examples
--------
>>> import os, tempfile
>>> import nibabel as nib, numpy as np
>>> folder = tempfile.mkdtemp()
>>> affine = np.diag([2.0, 2.0, 3.0, 1.0])
>>> nib.save(nib.Nifti1Image(np.arange(24, dtype=np.int16).reshape(2, 3, 4), affine), os.path.join(folder, "t1.nii.gz"))
>>> image = read_mri(os.path.join(folder, "t1.nii.gz"))
>>> image.source, image.data.shape, image.meta["dtype"]
('nifti', (2, 3, 4), 'int16')
>>> write_mri(image, os.path.join(folder, "denoised.nii.gz"), data=image.data * 0.5).name
'denoised.nii.gz'
>>> back = read_mri(os.path.join(folder, "denoised.nii.gz"))
>>> bool(np.allclose(back.affine, affine)), back.meta["dtype"], float(back.data.max())
(True, 'int16', 11.5)
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from wavediff.errors import (
    CorruptFileError,
    DataNotFoundError,
    InvalidInputError,
    MissingDependencyError,
    NonFiniteError,
    ShapeError,
    UnsupportedFormatError,
)
from wavediff.guards import check_output, warn
from wavediff.modality import atomic_output

from .dicom import is_dicom_file, read_dicom, write_dicom

__all__ = ["MRImage", "read_mri", "write_mri", "FORMATS"]

FORMATS = (".nii", ".nii.gz", ".h5", ".npy")  # and a DICOM folder, or a single DICOM file (.dcm or no suffix)
_FILE_FORMATS = (".nii.gz", ".nii", ".h5", ".npy")
_RECON_KEYS = ("reconstruction_rss", "reconstruction_esc")


@dataclass
class MRImage:
    """An MR image with its geometry.

    Attributes
    ----------
    data : np.ndarray
        Voxels, float. NIfTI: nibabel's axis order ``(x, y, z[, t])``; DICOM: ``(row, column, slice[, volume])``;
        fastMRI: ``(slices, H, W)``, the stored reconstruction or the root-sum-of-squares of the inverse FFT of k-space.
    affine : np.ndarray
        4x4 voxel index -> world mm, RAS+ (nibabel's convention; DICOM's LPS is converted).
    source : str
        ``'nifti'``, ``'dicom'``, ``'fastmri'`` or ``'numpy'``.
    header : Any
        The nibabel header (NIfTI); the pydicom Datasets in ``(volume, slice)`` order without pixel data (DICOM);
        the file's attributes as a dict (fastMRI).
    kspace : np.ndarray or None
        fastMRI: complex k-space ``(slices, [coils,] H, W)`` as stored.
    meta : dict
        On-disk type and scaling, the path, the series description, fastMRI's ``ismrmrd_header`` text.
    """

    data: np.ndarray
    affine: np.ndarray
    source: str
    header: Any = None
    kspace: np.ndarray | None = None
    meta: dict = field(default_factory=dict)


def _kind(path: Path) -> str:
    name = path.name.lower()
    if path.is_dir():
        return "dicom"
    for suffix, kind in ((".nii.gz", "nifti"), (".nii", "nifti"), (".h5", "fastmri"), (".npy", "numpy"), (".dcm", "dicom")):
        if name.endswith(suffix):
            return kind
    if path.suffix == "" or is_dicom_file(path):
        if is_dicom_file(path):
            return "dicom"
        raise UnsupportedFormatError(f"{path} has no suffix and is not a DICOM file; pass a .nii, .nii.gz, .h5, .npy or DICOM file, or a DICOM folder")
    raise UnsupportedFormatError(f"{path.name}: unsupported MRI format {path.suffix!r}; use .nii, .nii.gz, .h5 (fastMRI), .npy, "
                                 "or a DICOM file or folder (convert others to NIfTI with dcm2niix or nibabel)")


def _finite(data: np.ndarray, where: str, what: str = "holds") -> None:
    bad = ~np.isfinite(data)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise NonFiniteError(f"{where} {what} {int(bad.sum())} NaN or infinite voxel(s) (the first at index {first}); "
                             "replace them, e.g. with np.nan_to_num(data), before reading or writing")


def read_mri(path: str | os.PathLike, *, series: str | None = None, strict: bool = False) -> MRImage:
    """Read an MR image with its geometry.

    Parameters
    ----------
    path : path
        ``.nii``/``.nii.gz`` (NIfTI), a folder of DICOM files or one DICOM file (``.dcm`` or no suffix),
        ``.h5`` (fastMRI) or ``.npy`` (no geometry: identity affine).
    series : str, optional
        The SeriesInstanceUID to read when a DICOM folder holds several series.
    strict : bool
        Raise :class:`~wavediff.errors.InvalidInputError` where a :class:`~wavediff.errors.DataWarning` would be
        issued (skipped non-DICOM files, irregular slice spacing, missing geometry).

    Raises
    ------
    DataNotFoundError, UnsupportedFormatError, CorruptFileError, InvalidInputError, NonFiniteError, MissingDependencyError
    """
    p = Path(path)
    if not p.exists():
        raise DataNotFoundError(f"{p} does not exist; check the path (a NIfTI/fastMRI/.npy file or a DICOM folder)")
    kind = _kind(p)
    if kind == "nifti":
        image = _read_nifti(p)
    elif kind == "dicom":
        data, affine, datasets, meta = read_dicom(p, series=series, strict=strict)
        image = MRImage(data, affine, "dicom", datasets, meta=meta)
    elif kind == "fastmri":
        image = _read_fastmri(p)
    else:
        try:
            data = np.load(p, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise CorruptFileError(f"{p}: numpy could not read it ({exc}); the file is truncated or not a plain .npy array") from exc
        if not np.issubdtype(data.dtype, np.number) or np.iscomplexobj(data):
            raise UnsupportedFormatError(f"{p} holds {data.dtype} values; save a real-valued array")
        image = MRImage(data, np.eye(4), "numpy", meta={"path": str(p), "dtype": str(data.dtype),
                                                        "note": "identity affine: a .npy file carries no geometry"})
        warn(f"{p} is a plain array with no geometry: 1 mm voxels and an identity affine are assumed")
    if image.data.size == 0:
        raise CorruptFileError(f"{p} holds no voxels (shape {image.data.shape}); the file was not written completely")
    _finite(image.data, str(p))
    return image


def _read_nifti(path: Path) -> MRImage:
    import nibabel as nib
    from nibabel.filebasedimages import ImageFileError

    try:
        img = nib.load(path)
        on_disk = img.get_data_dtype()
        if on_disk.names is not None or np.issubdtype(on_disk, np.complexfloating):
            raise UnsupportedFormatError(f"{path} stores {on_disk} voxels (RGB or complex); only real-valued images can be read")
        data = img.get_fdata(dtype=np.float64 if on_disk.itemsize >= 8 else np.float32)
    except (ImageFileError, EOFError, zlib.error, OSError, ValueError) as exc:
        raise CorruptFileError(f"{path}: nibabel could not read it ({exc}); the file is truncated or not NIfTI, copy it again") from exc
    hdr = img.header  # nibabel keeps a loaded file's scaling in the array proxy and resets the header's
    slope, inter = (float(getattr(img.dataobj, k, np.nan)) for k in ("slope", "inter"))
    slope, inter = (slope, inter) if np.issubdtype(on_disk, np.integer) or (slope, inter) != (1.0, 0.0) else (None, None)
    meta = {
        "path": str(path), "dtype": str(on_disk), "scl_slope": slope, "scl_inter": inter,
        "qform_code": int(hdr["qform_code"]), "sform_code": int(hdr["sform_code"]),
        "descrip": hdr["descrip"].item().decode("latin-1", "replace") if "descrip" in hdr else "",
    }
    return MRImage(data, np.asarray(img.affine, dtype=float), "nifti", hdr, meta=meta)


def _ismrmrd_affine(text: str, shape: tuple[int, ...], space: str) -> np.ndarray | None:
    """Axis-aligned affine for ``(slices, H, W)`` from the ISMRMRD header's field of view (orientation unknown)."""
    try:
        root = ET.fromstring(text)
        ns = {"m": root.tag[1:].split("}")[0]} if root.tag.startswith("{") else {}
        q = (lambda t: "m:" + t) if ns else (lambda t: t)
        node = root.find(f"{q('encoding')}/{q(space)}", ns)
        fov = [float(node.find(f"{q('fieldOfView_mm')}/{q(a)}", ns).text) for a in "xyz"]
    except (ET.ParseError, AttributeError, TypeError, ValueError):
        return None
    if not all(np.isfinite(fov)) or min(fov) <= 0:
        return None
    affine = np.zeros((4, 4))
    affine[2, 0], affine[1, 1], affine[0, 2], affine[3, 3] = fov[2], fov[1] / shape[1], fov[0] / shape[2], 1.0
    return affine


def _read_fastmri(path: Path) -> MRImage:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            names = list(f.keys())
            attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
            kspace = f["kspace"][()] if "kspace" in f else None
            if kspace is not None and kspace.ndim not in (3, 4):
                raise UnsupportedFormatError(f"{path}: kspace has shape {kspace.shape}; fastMRI stores (slices, [coils,] H, W)")
            order = _RECON_KEYS if kspace is None or kspace.ndim == 4 else _RECON_KEYS[::-1]
            key = next((k for k in order if k in f), None)
            if key is None and kspace is None:
                raise UnsupportedFormatError(f"{path} is not a fastMRI file: no kspace or reconstruction_* dataset "
                                             f"(it holds {', '.join(names) or 'nothing'})")
            recon = f[key][()] if key else None
            others = {k: f[k][()] for k in names if k not in ("kspace", key) and isinstance(f[k], h5py.Dataset)}
    except (OSError, KeyError, ValueError) as exc:
        raise CorruptFileError(f"{path}: h5py could not read it ({exc}); the file is truncated or not HDF5, copy it again") from exc
    text = others.get("ismrmrd_header", b"")
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    meta = {"path": str(path), "reconstruction": key, "datasets": others, "ismrmrd_header": text}
    if recon is None:
        import torch

        from wavediff.operators import ifftc

        coil = ifftc(torch.from_numpy(np.ascontiguousarray(kspace))).abs()
        recon = (coil.square().sum(dim=1).sqrt() if kspace.ndim == 4 else coil).numpy().astype(np.float32)
        meta["reconstruction"] = "rss_of_ifft" if kspace.ndim == 4 else "magnitude_of_ifft"
        meta["note"] = "no stored reconstruction: the root-sum-of-squares (multi-coil) or magnitude of ifftc(kspace), not cropped"
        warn(f"{path} stores no reconstruction: using the {meta['reconstruction'].replace('_', ' ')} (k-space size, not cropped to 320 x 320)")
    affine = _ismrmrd_affine(text, recon.shape, "reconSpace" if key else "encodedSpace")
    meta["affine"] = "axis-aligned from the ISMRMRD field of view; orientation unknown" if affine is not None else "identity (no field of view)"
    if affine is None:
        warn(f"{path}: no field of view in its ISMRMRD header, so the voxel size is unknown: an identity affine is used")
    return MRImage(np.asarray(recon, dtype=np.float32), np.eye(4) if affine is None else affine, "fastmri", attrs, kspace, meta)


def source_paths(image: MRImage) -> list[str]:
    """The files ``image`` was read from (a writer never replaces them)."""
    meta = image.meta or {}
    return [p for p in [meta.get("path"), *meta.get("files", [])] if p]


def write_mri(image: MRImage, path: str | os.PathLike, *, data: np.ndarray | None = None, overwrite: bool = False) -> Path:
    """Write ``data`` (default ``image.data``) with ``image``'s geometry in the format of ``path``.

    ``.nii``/``.nii.gz``: the affine, qform/sform codes, header fields and on-disk type are kept; integer types are
    rescaled (``scl_slope``/``scl_inter``) to fit the new values, or keep the source's scaling when the values fit it.
    A path without suffix: a derived DICOM series in that folder (from a DICOM image only). ``.h5``: the fastMRI
    file's datasets and attributes with the new reconstruction (from a fastMRI image only). ``.npy``: the array.

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``overwrite`` is false.
    OutputError
        ``path`` is the input (or its folder), or its folder is missing.
    ShapeError, NonFiniteError, UnsupportedFormatError
    """
    target = Path(path)
    values = np.asarray(image.data if data is None else data)
    if not np.issubdtype(values.dtype, np.number) or np.iscomplexobj(values):
        raise InvalidInputError(f"cannot write {values.dtype} data as an MR image; pass real numbers")
    if image.source != "numpy" and values.shape != np.shape(image.data):
        raise ShapeError(f"data has shape {values.shape} but the image's geometry is for {np.shape(image.data)}; "
                         "pass data of the image's shape, or build an MRImage with a matching affine")
    _finite(values, "the data to write", "hold")
    name = target.name.lower()
    if target.suffix == "" or target.is_dir():
        if image.source != "dicom":
            raise UnsupportedFormatError(f"output {target}: a DICOM series can be written only from an image read from DICOM "
                                         "(its patient and study tags are needed); write .nii.gz instead")
        return write_dicom(image.header, image.meta, values, target, overwrite=overwrite)
    if name.endswith(".dcm"):
        raise UnsupportedFormatError(f"output {target.name}: DICOM is written as a series into a folder; give a folder name without a suffix")
    check_output(target, formats=_FILE_FORMATS, inputs=source_paths(image), overwrite=overwrite)
    if name.endswith((".nii", ".nii.gz")):
        _write_nifti(image, values, target)
    elif name.endswith(".h5"):
        if image.source != "fastmri":
            raise UnsupportedFormatError(f"output {target}: a fastMRI .h5 can be written only from an image read from one; write .nii.gz instead")
        _write_fastmri(image, values, target)
    else:
        with atomic_output(target) as tmp:
            np.save(tmp, values)
    return target


def _write_nifti(image: MRImage, values: np.ndarray, target: Path) -> None:
    import nibabel as nib

    affine = np.asarray(image.affine, dtype=float)
    if image.source == "nifti" and isinstance(image.header, nib.Nifti1Header):
        hdr = image.header.copy()
        dtype = hdr.get_data_dtype()
        slope, inter = image.meta.get("scl_slope"), image.meta.get("scl_inter")
        info = np.iinfo(dtype) if np.issubdtype(dtype, np.integer) else None
        slope, inter = (1.0 if slope is None else float(slope)), (0.0 if inter is None else float(inter))
        keep = info is not None and slope != 0 and np.isfinite(slope) and np.isfinite(inter)
        if keep:
            q = (values.astype(np.float64) - inter) / slope
            keep = bool(np.all(np.abs(q - np.rint(q)) <= 1e-3) and q.min() >= info.min and q.max() <= info.max)
        cls = nib.Nifti2Image if isinstance(hdr, nib.Nifti2Header) else nib.Nifti1Image
        if keep:  # the values lie on the source's grid: store them with its own scaling, exactly
            img = cls(np.rint(q).astype(dtype), affine, header=hdr)
            img.header.set_slope_inter(slope, inter)
        else:  # nibabel chooses a slope and intercept that fit the values into the on-disk type
            img = cls(values if info is not None else values.astype(dtype), affine, header=hdr)
            img.header.set_data_dtype(dtype)
        if not np.allclose(affine, hdr.get_best_affine()):  # a new affine: both forms take it, codes kept
            img.set_sform(affine, code=int(hdr["sform_code"]) or 2)
            img.set_qform(affine, code=int(hdr["qform_code"]))
    else:
        img = nib.Nifti1Image(values.astype(np.float32), affine)
        code = 1 if image.source == "dicom" else 0  # scanner coordinates, or unknown
        img.set_qform(affine, code=code)
        img.set_sform(affine, code=code or 2)
    try:
        with atomic_output(target) as tmp:
            nib.save(img, tmp)
    except nib.filebasedimages.ImageFileError as exc:  # pragma: no cover - suffix checked above
        raise UnsupportedFormatError(f"nibabel cannot write {target.name}: {exc}") from exc


def _write_fastmri(image: MRImage, values: np.ndarray, target: Path) -> None:
    try:
        import h5py
    except ImportError as exc:  # pragma: no cover - h5py is a dependency of the room
        raise MissingDependencyError("writing fastMRI .h5 needs h5py; pip install h5py") from exc
    meta = image.meta or {}
    key = meta.get("reconstruction")
    if key not in _RECON_KEYS:
        key = "reconstruction_rss" if image.kspace is None or image.kspace.ndim == 4 else "reconstruction_esc"
    with atomic_output(target) as tmp:
        with h5py.File(tmp, "w") as f:
            if image.kspace is not None:
                f.create_dataset("kspace", data=image.kspace)
            f.create_dataset(key, data=values.astype(np.float32))
            for name, value in meta.get("datasets", {}).items():
                if name != key:
                    f.create_dataset(name, data=value)
            for name, value in (image.header or {}).items():
                f.attrs[name] = value
