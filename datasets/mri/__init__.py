"""MRI data for the MRI room: procedural phantoms (3-D Shepp-Logan, a BrainWeb-like brain with tissue
classes and T1/T2/PD contrasts) that run offline and are reproducible from a seed (:mod:`.phantoms`),
the real images installed packages ship (:mod:`.shipped`), and download recipes for IXI and BrainWeb
(:mod:`.downloads`, nothing fetched on import)."""

from wavediff.datasets.mri.phantoms import brain_phantom, brain_slices, head_mask, shepp_logan_3d
from wavediff.datasets.mri.shipped import shipped_files, shipped_images

__all__ = ["shepp_logan_3d", "brain_phantom", "brain_slices", "head_mask", "shipped_files", "shipped_images"]
