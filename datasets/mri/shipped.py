"""Real MR images that installed packages ship in their wheels (nothing is downloaded).

* dipy (BSD-3): ``t1_coronal_slice.npy``, a real T1-weighted coronal slice (256 x 256, in [0, 1]);
  ``S0_10slices.nii.gz``, ten slices of a real b=0 diffusion volume.
* nibabel (MIT): ``example4d.nii.gz``, a real EPI fMRI run (128 x 96 x 24, 2 volumes, 2 x 2 x 2.2 mm);
  ``anatomical.nii``, a small real T1 volume (33 x 41 x 25, 2 mm).

Which are present depends on what is installed; :func:`shipped_images` returns those it finds.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

__all__ = ["SHIPPED", "shipped_files", "shipped_images"]

#: name -> (package, path inside the package, licence, what it is)
SHIPPED = {
    "dipy t1_coronal_slice": (
        "dipy",
        "data/files/t1_coronal_slice.npy",
        "BSD-3",
        "real T1 coronal slice, 256 x 256",
    ),
    "dipy S0_10slices": (
        "dipy",
        "data/files/S0_10slices.nii.gz",
        "BSD-3",
        "real b=0 diffusion volume, 10 slices",
    ),
    "nibabel example4d": (
        "nibabel",
        "tests/data/example4d.nii.gz",
        "MIT",
        "real EPI fMRI, 128 x 96 x 24 x 2",
    ),
    "nibabel anatomical": ("nibabel", "tests/data/anatomical.nii", "MIT", "real T1 volume, 33 x 41 x 25"),
}


def shipped_files() -> dict[str, Path]:
    """The files of :data:`SHIPPED` that are installed, by name."""
    out = {}
    for name, (package, rel, _, _) in SHIPPED.items():
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        path = Path(next(iter(spec.submodule_search_locations))) / rel
        if path.is_file():
            out[name] = path
    return out


def shipped_images() -> dict[str, np.ndarray]:
    """The installed images as arrays (NIfTI data through nibabel, voxel order as stored).

    Examples
    --------
    >>> images = shipped_images()
    >>> all(v.ndim >= 2 for v in images.values())
    True
    """
    out = {}
    for name, path in shipped_files().items():
        if path.name.endswith(".npy"):
            out[name] = np.load(path, allow_pickle=False)
        else:
            import nibabel as nib

            out[name] = np.asarray(nib.load(path).dataobj)
    return out
