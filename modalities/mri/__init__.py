"""MRI room: magnitude-image denoising (Rician noise) and undersampled k-space reconstruction.

:mod:`.files` reads and writes NIfTI (nibabel), DICOM series (pydicom, through :mod:`.dicom`) and
fastMRI HDF5 (h5py) with their geometry kept; :mod:`.metrics` holds fastMRI's PSNR, SSIM and NMSE (per
volume, the volume's maximum as data range) with foreground-masked variants; :mod:`.degrade` simulates
Rician noise and undersampled single- and multi-coil k-space and estimates the noise level;
:mod:`.preprocess` normalises (percentile clipping, exact inverse), slices, pads and splits 4-D data;
:mod:`.baselines` holds the field's classical methods (dipy NLM, MP-PCA, Patch2Self, wavelet shrinkage,
BM3D/BM4D when installed, zero-filling and sigpy's compressed sensing).
"""
