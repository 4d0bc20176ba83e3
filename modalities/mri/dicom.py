"""DICOM series for the MRI room: slices ordered by position, rescaled to float, with a RAS+ affine; and
derived series written back with new UIDs, every patient, study and geometry tag kept.

Axis convention: the array is indexed ``(row, column, slice[, volume])``, as pydicom's ``pixel_array``
gives a slice. Voxel ``(i, j, k)`` lies at ``IPP_0 + i * dr * C + j * dc * R + k * s`` in DICOM's LPS
patient space, where ``R`` = ImageOrientationPatient[:3] (the direction of growing column index),
``C`` = ImageOrientationPatient[3:], ``(dr, dc)`` = PixelSpacing and ``s`` the step between slice
positions. Slices are sorted along ``C x R``, which is nibabel's ``slice_normal``, so the LPS affine is
nibabel's ``wrapper_from_data(ds).affine`` and the returned RAS+ affine is ``diag(-1, -1, 1, 1)`` times it.
"""

from __future__ import annotations

import copy
import os
import secrets
import shutil
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid
from pydicom.valuerep import format_number_as_ds

from wavediff.errors import (
    CorruptFileError,
    DataNotFoundError,
    InvalidInputError,
    MissingDependencyError,
    OutputError,
    OutputExistsError,
    ShapeError,
    UnsupportedFormatError,
)
from wavediff.guards import same_file, warn

__all__ = ["read_dicom", "write_dicom", "is_dicom_file", "LPS_TO_RAS"]

LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
_POSITION_TOL = 0.01  # mm: images closer than this along the normal are at one slice position
_CONVERT = "convert the series to NIfTI with dcm2niix (https://github.com/rordenlab/dcm2niix) and read the .nii.gz"


def is_dicom_file(path: Path) -> bool:
    """Whether ``path`` starts with a DICOM preamble (``DICM`` at byte 128)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(128)
            return fh.read(4) == b"DICM"
    except OSError:
        return False


def _note(message: str, strict: bool) -> None:
    """Warn (a DataWarning), or raise InvalidInputError when ``strict``."""
    if strict:
        raise InvalidInputError(message + " (strict=True turns this warning into an error)")
    warn(message)


def _floats(value: Any, n: int, what: str, where: str) -> np.ndarray:
    try:
        out = np.array([float(v) for v in value], dtype=float)
    except (TypeError, ValueError):
        out = np.zeros(0)
    if out.shape != (n,) or not np.all(np.isfinite(out)):
        raise CorruptFileError(f"{where}: {what} is {value!r}, not {n} numbers; the header is damaged")
    return out


def _read_one(path: Path) -> Dataset | None:
    """The dataset in ``path``, or None if it is not a DICOM image (skipped by the caller)."""
    try:
        ds = pydicom.dcmread(path)
    except InvalidDicomError:
        return None
    except (EOFError, OSError, struct.error, ValueError, KeyError, AttributeError) as exc:
        raise CorruptFileError(f"{path}: pydicom could not read it ({exc}); the file is truncated or damaged, copy it again") from exc
    if "PixelData" not in ds:
        if "Rows" in ds and "Columns" in ds:
            raise CorruptFileError(f"{path}: an image header without pixel data; the file is truncated, copy it again")
        return None  # DICOMDIR, structured report, presentation state
    if "TransferSyntaxUID" not in getattr(ds, "file_meta", Dataset()):
        raise CorruptFileError(f"{path}: the file meta header has no transfer syntax; the file is truncated or damaged")
    return ds


def _pixels(ds: Dataset, path: Path) -> np.ndarray:
    ts = ds.file_meta.TransferSyntaxUID
    if ts.is_compressed:
        from pydicom.pixels import get_decoder

        try:
            available = get_decoder(ts).is_available
        except NotImplementedError:
            available = False
        if not available:
            raise MissingDependencyError(
                f"{path}: its pixel data are compressed as {ts.name}, which pydicom decodes only with a plugin; "
                "install one with pip install pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg (or pip install python-gdcm)"
            )
    if int(ds.get("SamplesPerPixel", 1)) != 1:
        raise UnsupportedFormatError(f"{path}: a colour image ({ds.get('PhotometricInterpretation')}); only greyscale MR images can be read")
    try:
        return np.asarray(ds.pixel_array)
    except (ValueError, EOFError, struct.error, AttributeError) as exc:
        raise CorruptFileError(f"{path}: its pixel data cannot be decoded ({exc}); the file is truncated or damaged") from exc
    except (RuntimeError, NotImplementedError) as exc:
        raise MissingDependencyError(f"{path}: pydicom cannot decode {ts.name} ({exc}); pip install pylibjpeg python-gdcm") from exc


def _num(value: Any, default: float) -> float:
    try:
        return float(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


class _Frame:
    """One 2-D image with its geometry and scaling: a classic file or one frame of an enhanced file."""

    def __init__(self, pixels, pos, iop, spacing, thickness, slope, inter, key, index):
        self.pixels, self.pos, self.iop, self.spacing, self.thickness = pixels, pos, iop, spacing, thickness
        self.slope, self.inter, self.key, self.index = slope, inter, key, index


def _classic_frames(ds: Dataset, path: Path, index: int, strict: bool) -> list[_Frame]:
    where = str(path)
    if "MOSAIC" in [str(v).upper() for v in ds.get("ImageType", [])]:
        raise UnsupportedFormatError(f"{where}: a Siemens mosaic (slices tiled into one image); {_CONVERT}")
    pixels = _pixels(ds, path)
    if pixels.ndim != 2:
        raise UnsupportedFormatError(f"{where}: a multi-frame image ({pixels.shape[0]} frames) without per-frame positions; {_CONVERT}")
    spacing = _floats(ds.get("PixelSpacing", [1, 1]), 2, "PixelSpacing", where)
    if "ImageOrientationPatient" in ds and "ImagePositionPatient" in ds:
        iop = _floats(ds.ImageOrientationPatient, 6, "ImageOrientationPatient", where)
        pos = _floats(ds.ImagePositionPatient, 3, "ImagePositionPatient", where)
    else:
        _note(f"{where} has no ImageOrientationPatient/ImagePositionPatient; the affine is axis-aligned at the origin", strict)
        iop, pos = np.array([1.0, 0, 0, 0, 1, 0]), np.zeros(3)
    thickness = _num(ds.get("SpacingBetweenSlices"), _num(ds.get("SliceThickness"), 1.0))
    key = tuple(int(_num(ds.get(k), 0)) for k in ("TemporalPositionIdentifier", "AcquisitionNumber", "InstanceNumber")) + (index,)
    slope, inter = _num(ds.get("RescaleSlope"), 1.0), _num(ds.get("RescaleIntercept"), 0.0)
    return [_Frame(pixels, pos, iop, spacing, thickness, slope, inter, key, index)]


def _enhanced_frames(ds: Dataset, path: Path) -> list[_Frame]:
    """The frames of an enhanced multi-frame file with their per-frame (or shared) functional groups."""
    pixels = _pixels(ds, path)
    n = int(ds.NumberOfFrames)
    pixels = pixels.reshape(n, *pixels.shape[-2:])
    shared = ds.SharedFunctionalGroupsSequence[0] if ds.get("SharedFunctionalGroupsSequence") else Dataset()

    def item(group: Dataset, name: str) -> Dataset | None:
        seq = group.get(name) or shared.get(name)
        return seq[0] if seq else None

    frames = []
    for i, group in enumerate(ds.PerFrameFunctionalGroupsSequence):
        where = f"{path} frame {i + 1}"
        position, orient = item(group, "PlanePositionSequence"), item(group, "PlaneOrientationSequence")
        measures, value = item(group, "PixelMeasuresSequence"), item(group, "PixelValueTransformationSequence")
        content = item(group, "FrameContentSequence") or Dataset()
        if position is None or orient is None or measures is None:
            raise UnsupportedFormatError(f"{where}: no plane position, orientation or pixel spacing in its functional groups; {_CONVERT}")
        dims = [int(_num(v, 0)) for v in (content.get("DimensionIndexValues") or [])]
        key = (int(_num(content.get("TemporalPositionIndex"), 0)), *dims, i)
        frames.append(_Frame(
            pixels[i], _floats(position.ImagePositionPatient, 3, "ImagePositionPatient", where),
            _floats(orient.ImageOrientationPatient, 6, "ImageOrientationPatient", where),
            _floats(measures.PixelSpacing, 2, "PixelSpacing", where),
            _num(measures.get("SpacingBetweenSlices"), _num(measures.get("SliceThickness"), 1.0)),
            _num(value.get("RescaleSlope") if value else None, 1.0), _num(value.get("RescaleIntercept") if value else None, 0.0),
            key, i,
        ))
    return frames


def _stack(frames: list[_Frame], where: str, strict: bool) -> tuple[np.ndarray, np.ndarray, list[_Frame], float]:
    """Order frames by position (then by time key), stack them and build the RAS+ affine."""
    sizes = sorted({f.pixels.shape for f in frames})
    if len(sizes) > 1:
        raise InvalidInputError(f"{where}: images of different sizes in one series ({', '.join('x'.join(map(str, s)) for s in sizes)}); "
                                "pass series= for one series, or move the odd images to another folder")
    iop = frames[0].iop
    if any(not np.allclose(f.iop, iop, atol=1e-4) for f in frames):
        raise InvalidInputError(f"{where}: the images have different orientations (ImageOrientationPatient); "
                                "it mixes several stacks, read them separately or " + _CONVERT)
    if any(not np.allclose(f.spacing, frames[0].spacing, rtol=1e-4) for f in frames):
        raise InvalidInputError(f"{where}: the images have different PixelSpacing; read them as separate series")
    row, col = iop[:3] / np.linalg.norm(iop[:3]), iop[3:] / np.linalg.norm(iop[3:])
    normal = np.cross(col, row)  # nibabel's slice_normal
    proj = np.array([f.pos @ normal for f in frames])
    groups: list[list[int]] = []
    for i in np.argsort(proj, kind="stable"):
        if groups and proj[i] - proj[groups[-1][0]] < _POSITION_TOL:
            groups[-1].append(int(i))
        else:
            groups.append([int(i)])
    counts = sorted({len(g) for g in groups})
    if len(counts) > 1:
        raise InvalidInputError(f"{where}: the slice positions hold different numbers of images ({counts[0]} to {counts[-1]}); "
                                "the series is incomplete or mixes stacks: copy it again, or " + _CONVERT)
    nz, nt = len(groups), counts[0]
    ordered = [frames[i] for t in range(nt) for i in [sorted(g, key=lambda j: frames[j].key)[t] for g in groups]]
    rows, cols = sizes[0]
    data = np.empty((rows, cols, nz, nt), dtype=np.float32)
    for n, f in enumerate(ordered):
        data[:, :, n % nz, n // nz] = f.pixels * f.slope + f.inter
    first = ordered[0]
    if nz > 1:
        gaps = np.diff(proj[[g[0] for g in groups]])
        step_vec = (ordered[nz - 1].pos - first.pos) / (nz - 1)
        spacing = float(np.median(gaps))
        if np.max(np.abs(gaps - spacing)) > 0.01 * spacing + 1e-3:
            _note(f"{where}: irregular slice spacing ({gaps.min():.4g} to {gaps.max():.4g} mm); the affine uses the mean "
                  f"step {float(np.mean(gaps)):.4g} mm, so voxel positions between the ends are approximate", strict)
    else:
        spacing = first.thickness
        step_vec = normal * spacing
    lps = np.eye(4)
    lps[:3, 0], lps[:3, 1] = col * first.spacing[0], row * first.spacing[1]
    lps[:3, 2], lps[:3, 3] = step_vec, first.pos
    return (data if nt > 1 else data[..., 0]), LPS_TO_RAS @ lps, ordered, spacing


def read_dicom(path: Path, series: str | None = None, strict: bool = False) -> tuple[np.ndarray, np.ndarray, list, dict]:
    """Read one DICOM series from a folder (or one file): ``(data, affine, datasets, meta)``.

    ``datasets`` are the pydicom Datasets in ``(volume, slice)`` order (volume-major), without their pixel
    data; for an enhanced multi-frame file it is that one Dataset and ``meta['frame_order']`` lists its frames.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    else:
        files = [path]
    found: dict[str, list[tuple[Path, Dataset]]] = {}
    skipped = []
    for p in files:
        ds = _read_one(p)
        if ds is None:
            skipped.append(p.name)
        else:
            found.setdefault(str(ds.get("SeriesInstanceUID", "")), []).append((p, ds))
    if not found:
        if path.is_file():
            raise UnsupportedFormatError(f"{path} is not a DICOM image; pass a DICOM file or a folder of them")
        subs = sorted(p.name for p in path.iterdir() if p.is_dir())
        hint = f"; it has subfolders ({', '.join(subs[:10])}): pass one of them" if subs else ""
        raise DataNotFoundError(f"no DICOM images in folder {path}{hint}")
    if skipped:
        _note(f"{path}: skipped {len(skipped)} file(s) that are not DICOM images ({', '.join(skipped[:5])}{'...' if len(skipped) > 5 else ''})", strict)
    listing = "; ".join(f"{uid} ({items[0][1].get('SeriesDescription', 'no description')!s}, {len(items)} file(s))" for uid, items in found.items())
    if series is None and len(found) > 1:
        raise InvalidInputError(f"{path} holds {len(found)} series: {listing}; pass series=UID to choose one")
    if series is not None and series not in found:
        raise InvalidInputError(f"{path} has no series {series}; it holds {listing}")
    items = found[series if series is not None else next(iter(found))]
    frames: list[_Frame] = []
    enhanced = any(ds.get("PerFrameFunctionalGroupsSequence") for _, ds in items)
    if enhanced and len(items) > 1:
        raise UnsupportedFormatError(f"{path}: {len(items)} enhanced multi-frame files in one series; pass one file, or {_CONVERT}")
    for index, (p, ds) in enumerate(items):
        frames += _enhanced_frames(ds, p) if enhanced else _classic_frames(ds, p, index, strict)
    data, affine, ordered, spacing = _stack(frames, str(path), strict)
    first = items[0][1]
    datasets = [items[0][1]] if enhanced else [items[f.index][1] for f in ordered]
    types = sorted({"\\".join(map(str, ds.get("ImageType", []))) for ds in datasets})
    if len(types) > 1:
        _note(f"{path}: the series mixes image types ({'; '.join(types)}); they are stacked as volumes along the last axis, "
              "check that denoising them together makes sense", strict)
    for ds in datasets:
        del ds.PixelData  # decoded into ``data``; writing encodes new pixel data
    meta = {
        "path": str(path), "files": [str(items[0][0])] if enhanced else [str(items[f.index][0]) for f in ordered],
        "layout": "enhanced" if enhanced else "classic", "series_uid": str(first.get("SeriesInstanceUID", "")),
        "series_description": str(first.get("SeriesDescription", "")), "transfer_syntax": str(first.file_meta.TransferSyntaxUID),
        "BitsAllocated": int(first.get("BitsAllocated", 16)), "BitsStored": int(first.get("BitsStored", first.get("BitsAllocated", 16))),
        "PixelRepresentation": int(first.get("PixelRepresentation", 0)),
        "RescaleSlope": [f.slope for f in ordered], "RescaleIntercept": [f.inter for f in ordered],
        "slice_spacing": spacing, "skipped_files": skipped,
    }
    if enhanced:
        meta["frame_order"] = [f.index for f in ordered]
    return data, affine, datasets, meta


def _quantiser(meta: dict) -> tuple[np.dtype, int, int]:
    bits, stored, signed = meta["BitsAllocated"], min(meta["BitsStored"], meta["BitsAllocated"]), meta["PixelRepresentation"] == 1
    if bits not in (8, 16, 32):
        raise UnsupportedFormatError(f"cannot write {bits}-bit DICOM pixel data; write NIfTI instead")
    dtype = np.dtype(f"{'i' if signed else 'u'}{bits // 8}")
    lo, hi = (-(2 ** (stored - 1)), 2 ** (stored - 1) - 1) if signed else (0, 2**stored - 1)
    return dtype, lo, hi


def _fits(values: np.ndarray, slope: float, inter: float, lo: int, hi: int) -> bool:
    if slope == 0:
        return False
    q = (values.astype(np.float64) - inter) / slope
    return bool(np.all(np.abs(q - np.rint(q)) <= 0.01) and q.min() >= lo - 0.01 and q.max() <= hi + 0.01)


def _new_scaling(data: np.ndarray, lo: int, hi: int) -> tuple[str, str]:
    vmin, vmax = float(data.min()), float(data.max())
    slope = (vmax - vmin) / (hi - lo) if vmax > vmin else 1.0
    slope_s = format_number_as_ds(slope * (1 + 1e-9))  # a hair wider so rounding the strings cannot clip
    return slope_s, format_number_as_ds(vmin - lo * float(slope_s))


def _check_target(target: Path, meta: dict, overwrite: bool) -> None:
    if not target.parent.is_dir():
        raise OutputError(f"output {target}: folder {target.parent} does not exist; create it first")
    for src in [meta.get("path", ""), *meta.get("files", [])]:
        if src and (same_file(target, src) or same_file(target, Path(src).parent)):
            raise OutputError(f"output {target} holds the input {src}; write the derived series to another folder (inputs are never replaced)")
    if target.exists():
        if not overwrite:
            raise OutputExistsError(f"output {target} exists; pass overwrite=True to replace it, or choose another name")
        if not target.is_dir() or any(not (p.is_file() and p.suffix.lower() == ".dcm") for p in target.iterdir()):
            raise OutputError(f"output {target} is not a folder of .dcm files; it is not replaced, choose another name")


def write_dicom(datasets: list, meta: dict, data: np.ndarray, path: Path, overwrite: bool = False) -> Path:
    """Write ``data`` as a derived series into folder ``path``: one file per slice (and volume), new UIDs,
    pixel data re-quantised to the source's bit depth, every other tag kept; the folder appears complete or not at all."""
    target = Path(path)
    if meta.get("layout") != "classic":
        raise UnsupportedFormatError("writing enhanced multi-frame DICOM is not supported; write NIfTI (.nii.gz) instead")
    planes = data.reshape(data.shape[0], data.shape[1], -1, order="F")  # (rows, cols, slice + nz * volume)
    if planes.shape[2] != len(datasets):
        raise ShapeError(f"data of shape {data.shape} has {planes.shape[2]} planes but the series has {len(datasets)} images; "
                         "pass data of the shape read_mri returned")
    _check_target(target, meta, overwrite)
    dtype, lo, hi = _quantiser(meta)
    keep = all(_fits(planes[:, :, i], s, b, lo, hi) for i, (s, b) in enumerate(zip(meta["RescaleSlope"], meta["RescaleIntercept"])))
    new_slope, new_inter = _new_scaling(planes, lo, hi)
    series_uid = generate_uid()
    tmpdir = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
    tmpdir.mkdir()
    try:
        for i, src in enumerate(datasets):
            ds = copy.deepcopy(src)
            slope_s, inter_s = (format_number_as_ds(meta["RescaleSlope"][i]), format_number_as_ds(meta["RescaleIntercept"][i])) if keep else (new_slope, new_inter)
            stored = np.clip(np.rint((planes[:, :, i].astype(np.float64) - float(inter_s)) / float(slope_s)), lo, hi).astype(dtype)
            ds.PixelData = stored.tobytes()
            ds["PixelData"].VR = "OB" if dtype.itemsize == 1 else "OW"
            ds.RescaleSlope, ds.RescaleIntercept = slope_s, inter_s
            for tag in ("SmallestImagePixelValue", "LargestImagePixelValue", "SmallestPixelValueInSeries",
                        "LargestPixelValueInSeries", "ModalityLUTSequence", "PixelPaddingValue"):
                if tag in ds:
                    del ds[tag]
            source = Dataset()
            source.ReferencedSOPClassUID, source.ReferencedSOPInstanceUID = src.SOPClassUID, src.SOPInstanceUID
            ds.SourceImageSequence = [source]
            ds.SeriesInstanceUID = series_uid
            ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
            ds.ImageType = ["DERIVED", "SECONDARY", *list(src.get("ImageType", []))[2:]]
            ds.SeriesDescription = (str(src.get("SeriesDescription", "")) + " (wavediff)").strip()
            ds.SeriesNumber = int(_num(src.get("SeriesNumber"), 0)) + 1000
            ds.DerivationDescription = "denoised with wavediff"
            if ds.file_meta.TransferSyntaxUID not in (ExplicitVRLittleEndian, ImplicitVRLittleEndian):
                ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
            ds.save_as(tmpdir / f"IM{i + 1:05d}.dcm", enforce_file_format=True)
        old = None
        if target.exists():
            old = target.parent / f".{target.name}.{secrets.token_hex(6)}.old"
            os.replace(target, old)
        os.replace(tmpdir, target)
        if old is not None:
            shutil.rmtree(old)
    finally:
        if tmpdir.exists():
            shutil.rmtree(tmpdir)
    return target
