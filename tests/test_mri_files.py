"""MRI files: NIfTI, DICOM series and fastMRI HDF5 read and written with their geometry, type and metadata kept."""

from __future__ import annotations

import doctest
import gzip
import os
import random
import warnings

import h5py
import nibabel as nib
import numpy as np
import pydicom
import pytest
import wavediff.modalities.mri.files as files
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, JPEGLSLossless, generate_uid
from wavediff.modalities.mri.files import MRImage, read_mri, write_mri

from wavediff.errors import (
    CorruptFileError,
    DataNotFoundError,
    DataWarning,
    InvalidInputError,
    MissingDependencyError,
    NonFiniteError,
    OutputError,
    OutputExistsError,
    ShapeError,
    UnsupportedFormatError,
)

RNG = np.random.default_rng(0)
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


def test_module_examples_run():
    result = doctest.testmod(files, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


# --------------------------------------------------------------------------------------------- NIfTI
def _oblique_affine() -> np.ndarray:
    c, s = np.cos(0.3), np.sin(0.3)
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]) @ np.array([[1, 0, 0], [0, np.cos(0.2), -np.sin(0.2)], [0, np.sin(0.2), np.cos(0.2)]])
    affine = np.eye(4)
    affine[:3, :3] = rot * [0.9, 1.1, 2.5]
    affine[:3, 3] = [-80.0, -100.0, 40.0]
    return affine


def _scaled_nifti(path, shape=(6, 5, 4)) -> nib.Nifti1Image:
    raw = RNG.integers(-300, 3000, size=shape).astype(np.int16)
    img = nib.Nifti1Image(raw, _oblique_affine())
    img.header.set_data_dtype(np.int16)
    img.header.set_slope_inter(0.5, 10.0)
    img.set_qform(_oblique_affine(), code=1)
    img.set_sform(_oblique_affine(), code=2)
    img.header.set_xyzt_units("mm", "sec")
    img.header["descrip"] = b"wavediff test image"
    if len(shape) == 4:
        img.header["pixdim"][4] = 2.0
    nib.save(img, path)
    return img


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
@pytest.mark.parametrize("shape", [(6, 5, 4), (6, 5, 4, 3)])
def test_nifti_int16_scaled_round_trip(tmp_path, suffix, shape):
    src = tmp_path / f"in{suffix}"
    _scaled_nifti(src, shape)
    image = read_mri(src)
    assert image.source == "nifti" and image.data.shape == shape and image.meta["dtype"] == "int16"
    assert (image.meta["scl_slope"], image.meta["scl_inter"]) == (0.5, 10.0)
    new = image.data + RNG.normal(0, 3, size=shape)  # denoised values, off the source's grid
    out = tmp_path / f"out{suffix}"
    write_mri(image, out, data=new)
    back = read_mri(out)
    a, b = nib.load(src), nib.load(out)
    np.testing.assert_allclose(back.affine, image.affine, atol=1e-6)
    assert (int(b.header["qform_code"]), int(b.header["sform_code"])) == (1, 2)
    np.testing.assert_allclose(b.header.get_qform(), a.header.get_qform(), atol=1e-6)
    np.testing.assert_allclose(b.header.get_zooms(), a.header.get_zooms())
    assert b.get_data_dtype() == np.int16 and b.header.get_xyzt_units() == ("mm", "sec")
    assert b.header["descrip"].item() == b"wavediff test image"
    slope = b.dataobj.slope  # nibabel moves a loaded file's scaling from the header into the array proxy
    assert np.max(np.abs(back.data - new)) <= slope / 2 + 1e-4 * np.abs(new).max()


def test_nifti_values_on_the_source_grid_keep_its_scaling_exactly(tmp_path):
    _scaled_nifti(tmp_path / "in.nii")
    image = read_mri(tmp_path / "in.nii")
    write_mri(image, tmp_path / "out.nii")
    back = read_mri(tmp_path / "out.nii")
    assert (back.meta["scl_slope"], back.meta["scl_inter"]) == (0.5, 10.0)
    np.testing.assert_array_equal(back.data, image.data)


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
def test_nifti_float32_is_exact(tmp_path, suffix):
    data = RNG.normal(size=(5, 4, 3, 2)).astype(np.float32)
    nib.save(nib.Nifti1Image(data, _oblique_affine()), tmp_path / f"in{suffix}")
    image = read_mri(tmp_path / f"in{suffix}")
    new = (data * 2).astype(np.float32)
    write_mri(image, tmp_path / f"out{suffix}", data=new)
    back = read_mri(tmp_path / f"out{suffix}")
    assert back.meta["dtype"] == "float32" and back.data.shape == (5, 4, 3, 2)
    np.testing.assert_array_equal(back.data, new)
    np.testing.assert_allclose(back.affine, image.affine, atol=1e-6)


def test_new_affine_is_written_with_codes_kept(tmp_path):
    _scaled_nifti(tmp_path / "in.nii")
    image = read_mri(tmp_path / "in.nii")
    image.affine = image.affine.copy()
    image.affine[:3, 3] += 5
    write_mri(image, tmp_path / "out.nii")
    out = nib.load(tmp_path / "out.nii")
    np.testing.assert_allclose(out.affine, image.affine, atol=1e-5)
    assert (int(out.header["qform_code"]), int(out.header["sform_code"])) == (1, 2)


def test_writer_leaves_input_alone_and_refuses_to_replace(tmp_path):
    src = tmp_path / "in.nii.gz"
    _scaled_nifti(src)
    before, mtime = src.read_bytes(), os.stat(src).st_mtime_ns
    image = read_mri(src)
    write_mri(image, tmp_path / "out.nii.gz", data=image.data * 2)
    assert src.read_bytes() == before and os.stat(src).st_mtime_ns == mtime
    with pytest.raises(OutputError, match="input"):
        write_mri(image, src, overwrite=True)
    with pytest.raises(OutputExistsError, match="overwrite"):
        write_mri(image, tmp_path / "out.nii.gz")
    write_mri(image, tmp_path / "out.nii.gz", overwrite=True)
    np.testing.assert_allclose(read_mri(tmp_path / "out.nii.gz").data, image.data, atol=0.26)
    assert src.read_bytes() == before and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_numpy_and_cross_format(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(24.0).reshape(2, 3, 4))
    with pytest.warns(DataWarning, match="no geometry"):
        image = read_mri(tmp_path / "a.npy")
    assert image.source == "numpy" and np.array_equal(image.affine, np.eye(4)) and "identity" in image.meta["note"]
    write_mri(image, tmp_path / "a.nii.gz")
    np.testing.assert_array_equal(read_mri(tmp_path / "a.nii.gz").data, image.data)
    with pytest.raises(UnsupportedFormatError, match="DICOM"):
        write_mri(image, tmp_path / "series")
    with pytest.raises(UnsupportedFormatError, match="fastMRI"):
        write_mri(image, tmp_path / "a.h5")


# --------------------------------------------------------------------------------------------- DICOM
ROW = np.array([np.cos(0.4), np.sin(0.4), 0.0])  # IOP[:3], oblique
COL = np.array([-np.sin(0.4) * np.cos(0.3), np.cos(0.4) * np.cos(0.3), -np.sin(0.3)])  # IOP[3:]
NORMAL = np.cross(COL, ROW)  # the slice axis: nibabel's slice_normal (the opposite of DICOM's ROW x COL)
ORIGIN = np.array([-60.0, -80.0, 20.0])


def _dicom_slice(k, pixels, *, series_uid, study_uid, description="T1 axial", position=None, slope=None, inter=0.0, instance=1):
    meta = FileMetaDataset()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.PatientName, ds.PatientID, ds.Modality = "Test^Patient", "P001", "MR"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, series_uid
    ds.SeriesDescription, ds.SeriesNumber, ds.InstanceNumber = description, 7, instance
    ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "ND"]
    ds.ImageOrientationPatient = [float(f"{v:.6f}") for v in (*ROW, *COL)]
    pos = ORIGIN + 3.0 * k * NORMAL if position is None else position
    ds.ImagePositionPatient = [float(f"{v:.4f}") for v in pos]
    ds.PixelSpacing, ds.SliceThickness = [0.8, 0.6], 3.0
    ds.Rows, ds.Columns = pixels.shape
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    if slope is not None:
        ds.RescaleSlope, ds.RescaleIntercept = slope, inter
    ds.PixelData = pixels.astype(np.uint16).tobytes()
    return ds


def _series(folder, n=5, shape=(12, 10), slope=None, inter=0.0, description="T1 axial", shuffle=True):
    """``n`` oblique slices written under shuffled names with shuffled InstanceNumbers; returns (pixels, datasets)."""
    folder.mkdir(exist_ok=True)
    series_uid, study_uid = generate_uid(), generate_uid()
    pixels = [np.full(shape, 100 * (k + 1), dtype=np.uint16) + np.arange(shape[1], dtype=np.uint16) for k in range(n)]
    order = list(range(n))
    names = [f"img{i:03d}.dcm" for i in range(n)]
    if shuffle:
        random.Random(1).shuffle(order)
        random.Random(2).shuffle(names)
    datasets = []
    for k in range(n):
        ds = _dicom_slice(k, pixels[k], series_uid=series_uid, study_uid=study_uid, description=description,
                          slope=slope, inter=inter, instance=order[k] + 1)
        ds.save_as(folder / names[k], enforce_file_format=True)
        datasets.append(ds)
    return np.stack(pixels, axis=-1), datasets


def test_dicom_series_sorted_by_position_with_ras_affine(tmp_path):
    pixels, datasets = _series(tmp_path / "s")
    image = read_mri(tmp_path / "s")
    assert image.source == "dicom" and image.data.shape == (12, 10, 5) and image.data.dtype == np.float32
    np.testing.assert_array_equal(image.data, pixels)  # sorted by position, not by name or InstanceNumber
    for k, ds in enumerate(datasets):
        ras = LPS_TO_RAS[:3, :3] @ np.array(ds.ImagePositionPatient, dtype=float)
        np.testing.assert_allclose(image.affine @ [0, 0, k, 1], [*ras, 1], atol=1e-3)
        assert image.header[k].SOPInstanceUID == ds.SOPInstanceUID
    # voxel (i, j) moves along the column cosine by PixelSpacing[0] and along the row cosine by PixelSpacing[1]
    np.testing.assert_allclose(image.affine[:3, 0], LPS_TO_RAS[:3, :3] @ COL * 0.8, atol=1e-5)
    np.testing.assert_allclose(image.affine[:3, 1], LPS_TO_RAS[:3, :3] @ ROW * 0.6, atol=1e-5)
    np.testing.assert_allclose(image.meta["slice_spacing"], 3.0, atol=1e-3)


def test_dicom_affine_is_nibabels_lps_affine_flipped(tmp_path):
    """nibabel's DICOM wrapper indexes (row, column, slice) like us but maps into DICOM's LPS space, with the
    slice axis along its ``slice_normal`` = cross(IOP[3:], IOP[:3]); so ours is diag(-1, -1, 1, 1) @ nibabel's."""
    with warnings.catch_warnings():  # nibabel warns on import that its DICOM readers are experimental
        warnings.simplefilter("ignore", UserWarning)
        from nibabel.nicom.dicomwrappers import wrapper_from_data
    _series(tmp_path / "s", n=1)
    image = read_mri(next((tmp_path / "s").iterdir()))
    assert image.data.shape == (12, 10, 1)
    nib_affine = wrapper_from_data(pydicom.dcmread(next((tmp_path / "s").iterdir()))).affine
    np.testing.assert_allclose(image.affine, LPS_TO_RAS @ nib_affine, atol=1e-6)
    _series(tmp_path / "m", n=5)  # several slices: the slice step points along nibabel's normal too
    many = read_mri(tmp_path / "m")
    np.testing.assert_allclose(many.affine[:3, :2], (LPS_TO_RAS @ nib_affine)[:3, :2], atol=1e-5)
    np.testing.assert_allclose(many.affine[:3, 2] / 3.0, LPS_TO_RAS[:3, :3] @ np.cross(COL, ROW), atol=1e-3)


def test_dicom_rescale_applied_and_missing_slope_is_one(tmp_path):
    pixels, _ = _series(tmp_path / "a", slope=0.25, inter=-50.0)
    np.testing.assert_allclose(read_mri(tmp_path / "a").data, pixels * 0.25 - 50.0, rtol=1e-6)
    pixels, _ = _series(tmp_path / "b")
    image = read_mri(tmp_path / "b")
    np.testing.assert_array_equal(image.data, pixels)
    assert image.meta["RescaleSlope"] == [1.0] * 5


def test_dicom_derived_series(tmp_path):
    _series(tmp_path / "s", slope=0.5, inter=10.0)
    image = read_mri(tmp_path / "s")
    new = image.data * 1.7 - 300.0 + RNG.normal(0, 1, size=image.data.shape)  # negative values: a new intercept
    write_mri(image, tmp_path / "out", data=new)
    out = read_mri(tmp_path / "out")
    written = [pydicom.dcmread(p) for p in sorted((tmp_path / "out").iterdir())]
    assert len(written) == 5
    slope = float(written[0].RescaleSlope)
    assert np.max(np.abs(out.data - new)) <= slope / 2 * (1 + 1e-6) + 1e-6 * np.abs(new).max()
    np.testing.assert_allclose(out.affine, image.affine, atol=1e-6)
    originals = {ds.SOPInstanceUID for ds in image.header}
    assert len({ds.SeriesInstanceUID for ds in written}) == 1
    assert written[0].SeriesInstanceUID != image.meta["series_uid"]
    assert not originals & {ds.SOPInstanceUID for ds in written} and len({ds.SOPInstanceUID for ds in written}) == 5
    for ds in written:
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert list(ds.ImageType[:2]) == ["DERIVED", "SECONDARY"]
        assert ds.SeriesDescription == "T1 axial (wavediff)" and ds.SeriesNumber != 7
        assert (ds.BitsAllocated, ds.BitsStored, ds.PixelRepresentation) == (16, 12, 0)
        assert ds.pixel_array.max() <= 4095
        assert ds.SourceImageSequence[0].ReferencedSOPInstanceUID in originals
    src_by_pos = {tuple(d.ImagePositionPatient): d for d in image.header}
    for ds in out.header:
        src = src_by_pos[tuple(ds.ImagePositionPatient)]
        for tag in ("PatientName", "PatientID", "StudyInstanceUID", "ImageOrientationPatient", "PixelSpacing", "SliceThickness"):
            assert ds.get(tag) == src.get(tag), tag
    with pytest.raises(OutputExistsError):
        write_mri(image, tmp_path / "out", data=new)
    write_mri(image, tmp_path / "out", overwrite=True)  # unchanged values keep the source's own scaling
    np.testing.assert_array_equal(read_mri(tmp_path / "out").data, image.data)
    assert float(pydicom.dcmread(next((tmp_path / "out").iterdir())).RescaleSlope) == 0.5
    with pytest.raises(OutputError, match="input"):
        write_mri(image, tmp_path / "s", overwrite=True)
    with pytest.raises(ShapeError):
        write_mri(image, tmp_path / "other", data=image.data[:, :, :3])


def test_dicom_folder_with_two_series(tmp_path):
    _series(tmp_path / "s", description="T1 axial")
    _, second = _series(tmp_path / "t", n=3, description="T2 coronal")
    for p in (tmp_path / "t").iterdir():
        os.replace(p, tmp_path / "s" / f"t2_{p.name}")
    with pytest.raises(InvalidInputError, match="series=") as err:
        read_mri(tmp_path / "s")
    assert "T1 axial" in str(err.value) and "T2 coronal" in str(err.value) and second[0].SeriesInstanceUID in str(err.value)
    image = read_mri(tmp_path / "s", series=second[0].SeriesInstanceUID)
    assert image.data.shape == (12, 10, 3) and image.meta["series_description"] == "T2 coronal"
    with pytest.raises(InvalidInputError, match="no series"):
        read_mri(tmp_path / "s", series="1.2.3")


def test_dicom_non_dicom_files_skipped_with_warning(tmp_path):
    pixels, _ = _series(tmp_path / "s")
    (tmp_path / "s" / "notes.txt").write_text("scanner protocol")
    (tmp_path / "s" / "README").write_bytes(b"\x00" * 300)
    with pytest.warns(DataWarning, match="skipped 2 file"):
        image = read_mri(tmp_path / "s")
    np.testing.assert_array_equal(image.data, pixels)
    with pytest.raises(InvalidInputError, match="strict"):
        read_mri(tmp_path / "s", strict=True)


def test_dicom_truncated_file_is_corrupt(tmp_path):
    _series(tmp_path / "s")
    victim = sorted((tmp_path / "s").iterdir())[2]
    victim.write_bytes(victim.read_bytes()[:-50])
    with pytest.raises(CorruptFileError, match="truncated"):
        read_mri(tmp_path / "s")
    with pytest.raises(CorruptFileError):
        read_mri(victim)


def test_dicom_irregular_spacing_warns_and_mixed_sizes_raise(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    uid, study = generate_uid(), generate_uid()
    for i, offset in enumerate([0.0, 3.0, 6.0, 10.0]):
        _dicom_slice(i, np.ones((8, 8)), series_uid=uid, study_uid=study, position=ORIGIN + offset * NORMAL).save_as(folder / f"{i}.dcm", enforce_file_format=True)
    with pytest.warns(DataWarning, match="irregular slice spacing"):
        image = read_mri(folder)
    assert image.data.shape == (8, 8, 4)
    _dicom_slice(9, np.ones((8, 6)), series_uid=uid, study_uid=study).save_as(folder / "odd.dcm", enforce_file_format=True)
    with pytest.raises(InvalidInputError, match="different sizes"):
        read_mri(folder)


def test_dicom_repeated_positions_make_volumes(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    uid, study = generate_uid(), generate_uid()
    for t in range(2):
        for k in range(3):
            ds = _dicom_slice(k, np.full((4, 4), 10 * t + k), series_uid=uid, study_uid=study, instance=1 + k + 3 * t)
            ds.save_as(folder / f"{t}_{k}.dcm", enforce_file_format=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)  # one image type, regular spacing: nothing to warn about
        image = read_mri(folder)
    assert image.data.shape == (4, 4, 3, 2)
    np.testing.assert_array_equal(image.data[0, 0], [[0, 10], [1, 11], [2, 12]])
    write_mri(image, tmp_path / "out", data=image.data + 1)
    np.testing.assert_array_equal(read_mri(tmp_path / "out").data, image.data + 1)


def test_dicom_compressed_without_plugin_names_the_packages(tmp_path):
    from pydicom.encaps import encapsulate
    from pydicom.pixels import get_decoder

    if get_decoder(JPEGLSLossless).is_available:
        pytest.skip("a JPEG-LS plugin is installed")
    ds = _dicom_slice(0, np.ones((4, 4)), series_uid=generate_uid(), study_uid=generate_uid())
    ds.file_meta.TransferSyntaxUID = JPEGLSLossless
    ds.PixelData = encapsulate([b"\xff\xd8\xff\xd9"])
    ds["PixelData"].VR = "OB"
    ds.save_as(tmp_path / "c.dcm", enforce_file_format=True)
    with pytest.raises(MissingDependencyError, match="pylibjpeg.*gdcm"):
        read_mri(tmp_path / "c.dcm")


def test_dicom_enhanced_multiframe(tmp_path):
    meta = FileMetaDataset()
    meta.TransferSyntaxUID, meta.MediaStorageSOPClassUID = ExplicitVRLittleEndian, "1.2.840.10008.5.1.4.1.1.4.1"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID, ds.SeriesInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID, generate_uid()
    ds.Rows, ds.Columns, ds.NumberOfFrames = 4, 3, 3
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    shared = Dataset()
    orient, measures = Dataset(), Dataset()
    orient.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    measures.PixelSpacing, measures.SliceThickness = [1.0, 1.0], 2.0
    shared.PlaneOrientationSequence, shared.PixelMeasuresSequence = [orient], [measures]
    ds.SharedFunctionalGroupsSequence = [shared]
    groups = []
    for z in (-4.0, 0.0, -2.0):  # frames stored out of order; the slice axis runs along LPS -z here
        group, pos = Dataset(), Dataset()
        pos.ImagePositionPatient = [0.0, 0.0, z]
        group.PlanePositionSequence = [pos]
        groups.append(group)
    ds.PerFrameFunctionalGroupsSequence = groups
    ds.PixelData = np.stack([np.full((4, 3), z) for z in (4, 0, 2)]).astype(np.uint16).tobytes()
    ds.save_as(tmp_path / "enh.dcm", enforce_file_format=True)
    image = read_mri(tmp_path / "enh.dcm")
    assert image.data.shape == (4, 3, 3) and list(image.data[0, 0]) == [0, 2, 4]
    np.testing.assert_allclose(image.affine @ [0, 0, 2, 1], [0, 0, -4, 1])
    with pytest.raises(UnsupportedFormatError, match="NIfTI"):
        write_mri(image, tmp_path / "out")


# --------------------------------------------------------------------------------------------- fastMRI
HEADER = (b'<?xml version="1.0"?><ismrmrdHeader xmlns="http://www.ismrm.org/ISMRMRD"><encoding>'
          b"<encodedSpace><matrixSize><x>32</x><y>24</y><z>1</z></matrixSize><fieldOfView_mm><x>320</x><y>240</y><z>3</z></fieldOfView_mm></encodedSpace>"
          b"<reconSpace><matrixSize><x>24</x><y>32</y><z>1</z></matrixSize><fieldOfView_mm><x>240</x><y>320</y><z>3</z></fieldOfView_mm></reconSpace>"
          b"</encoding></ismrmrdHeader>")


def _fastmri(path, with_recon=True):
    kspace = (RNG.normal(size=(5, 4, 32, 24)) + 1j * RNG.normal(size=(5, 4, 32, 24))).astype(np.complex64)
    with h5py.File(path, "w") as f:
        f.create_dataset("kspace", data=kspace)
        if with_recon:
            f.create_dataset("reconstruction_rss", data=RNG.random((5, 32, 24)).astype(np.float32))
        f.create_dataset("ismrmrd_header", data=HEADER)
        f.attrs["acquisition"], f.attrs["max"], f.attrs["norm"], f.attrs["patient_id"] = "CORPD_FBK", 0.5, 2.5, "abc123"
    return kspace


def _rss_of_ifft(kspace):
    image = np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(kspace, axes=(-2, -1)), norm="ortho"), axes=(-2, -1))
    return np.sqrt((np.abs(image) ** 2).sum(axis=1))


def test_fastmri_read_and_write(tmp_path):
    kspace = _fastmri(tmp_path / "a.h5")
    image = read_mri(tmp_path / "a.h5")
    assert image.source == "fastmri" and image.meta["reconstruction"] == "reconstruction_rss"
    with h5py.File(tmp_path / "a.h5") as f:
        np.testing.assert_array_equal(image.data, f["reconstruction_rss"][()])
    np.testing.assert_array_equal(image.kspace, kspace)
    assert image.header == {"acquisition": "CORPD_FBK", "max": 0.5, "norm": 2.5, "patient_id": "abc123"}
    assert "ismrmrdHeader" in image.meta["ismrmrd_header"]
    np.testing.assert_allclose(np.diag(image.affine[[2, 1, 0]][:, :3]), [3.0, 10.0, 10.0])  # from reconSpace
    new = image.data * 3
    write_mri(image, tmp_path / "b.h5", data=new)
    with h5py.File(tmp_path / "b.h5") as f:
        assert set(f.keys()) == {"kspace", "reconstruction_rss", "ismrmrd_header"}
        np.testing.assert_array_equal(f["reconstruction_rss"][()], new)
        np.testing.assert_array_equal(f["kspace"][()], kspace)
        assert f["kspace"].dtype == np.complex64 and f["ismrmrd_header"][()] == HEADER
        assert dict(f.attrs) == {"acquisition": "CORPD_FBK", "max": 0.5, "norm": 2.5, "patient_id": "abc123"}


def test_fastmri_without_reconstruction_uses_rss_of_ifft(tmp_path):
    kspace = _fastmri(tmp_path / "a.h5", with_recon=False)
    with pytest.warns(DataWarning, match="stores no reconstruction: using the rss of ifft"):
        image = read_mri(tmp_path / "a.h5")
    assert image.meta["reconstruction"] == "rss_of_ifft" and image.data.shape == (5, 32, 24)
    np.testing.assert_allclose(image.data, _rss_of_ifft(kspace), rtol=1e-4, atol=1e-5)
    write_mri(image, tmp_path / "b.h5")
    with h5py.File(tmp_path / "b.h5") as f:
        np.testing.assert_allclose(f["reconstruction_rss"][()], image.data)


# --------------------------------------------------------------------------------------------- errors
def test_errors_missing_unknown_truncated_nonfinite(tmp_path):
    with pytest.raises(DataNotFoundError, match="does not exist"):
        read_mri(tmp_path / "nothing.nii.gz")
    (tmp_path / "scan.mha").write_bytes(b"x")
    with pytest.raises(UnsupportedFormatError, match="unsupported MRI format"):
        read_mri(tmp_path / "scan.mha")
    _scaled_nifti(tmp_path / "a.nii.gz", (20, 20, 20))
    blob = (tmp_path / "a.nii.gz").read_bytes()
    (tmp_path / "cut.nii.gz").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(CorruptFileError, match="truncated"):
        read_mri(tmp_path / "cut.nii.gz")
    (tmp_path / "cut.nii").write_bytes(gzip.decompress(blob)[:1000])
    with pytest.raises(CorruptFileError):
        read_mri(tmp_path / "cut.nii")
    _fastmri(tmp_path / "a.h5")
    blob = (tmp_path / "a.h5").read_bytes()
    (tmp_path / "cut.h5").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(CorruptFileError, match="truncated"):
        read_mri(tmp_path / "cut.h5")
    image = read_mri(tmp_path / "a.nii.gz")
    bad = image.data.copy()
    bad[1, 2, 3] = np.nan
    with pytest.raises(NonFiniteError, match=r"\(1, 2, 3\)"):
        write_mri(image, tmp_path / "nan.nii.gz", data=bad)
    assert not (tmp_path / "nan.nii.gz").exists()
    nib.save(nib.Nifti1Image(bad, np.eye(4)), tmp_path / "nan_in.nii")
    with pytest.raises(NonFiniteError):
        read_mri(tmp_path / "nan_in.nii")
    with pytest.raises(UnsupportedFormatError, match="folder name without a suffix"):
        write_mri(image, tmp_path / "out.dcm")
    with pytest.raises(UnsupportedFormatError, match="use one of"):
        write_mri(image, tmp_path / "out.mha")
    with pytest.raises(OutputError, match="does not exist"):
        write_mri(image, tmp_path / "missing" / "out.nii")


def test_image_is_a_dataclass_with_defaults():
    image = MRImage(np.zeros((2, 2, 2)), np.eye(4), "numpy")
    assert image.header is None and image.kspace is None and image.meta == {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert write_mri.__doc__ and read_mri.__doc__
