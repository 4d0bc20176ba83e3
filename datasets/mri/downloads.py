"""Download recipes for the public MRI data sets the MRI room's protocols use: IXI and BrainWeb.

* **IXI** (Imperial College London, CC BY-SA 3.0; https://brain-development.org/ixi-dataset/): nearly 600
  healthy subjects from three hospitals (Guy's: Philips 1.5 T, HH: Philips 3 T, IOP: GE 1.5 T), T1, T2, PD,
  MRA and DTI as NIfTI. :func:`fetch_ixi` downloads one modality's tar (T1: about 4.5 GB) with pooch and
  unpacks it; the MD5 digests are those TorchIO and MONAI pin for the same archives (not recomputed
  here: this project's machines have no network). :func:`ixi_files` lists a folder of IXI NIfTI files
  with their subject, site and modality, so splits can be made by subject or by site.
* **BrainWeb** (McGill, Cocosco et al. 1997; Aubert-Broche et al. 2006): 20 normal anatomical models,
  crisp tissue labels at 0.5 mm (362 x 434 x 362, unsigned 16-bit, gzip). BrainWeb serves them from a
  CGI script and publishes no digest, so :func:`fetch_brainweb` cannot pin one: it records the SHA-256
  of what it downloaded and checks the file's size and labels instead. :func:`load_brainweb` reads the
  labels (:data:`BRAINWEB_LABELS`).

Nothing is downloaded on import or by the tests; the loaders are tested on small files the tests write.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np

from wavediff.errors import CorruptFileError, DataNotFoundError, InvalidInputError, MissingDependencyError
from wavediff.report import sha256sum

__all__ = [
    "IXI_URL",
    "IXI_MD5",
    "IXI_SITES",
    "fetch_ixi",
    "ixi_files",
    "BRAINWEB_SUBJECTS",
    "BRAINWEB_LABELS",
    "BRAINWEB_SHAPE",
    "brainweb_url",
    "fetch_brainweb",
    "load_brainweb",
]

IXI_URL = "http://biomedic.doc.ic.ac.uk/brain-development/downloads/IXI/IXI-{modality}.tar"
#: MD5 of each modality's archive, as pinned by TorchIO's ``IXI`` dataset and MONAI's tutorials
IXI_MD5 = {
    "T1": "34901a0593b41dd19c1a1f746eac2d58",
    "T2": "e3140d78730ecdd32ba92da48c0a9aaa",
    "PD": "88ecd9d1fa33cb4a2278183b42ffd749",
    "MRA": "29be7d2fee3998f978a55a9bdaf3407e",
    "DTI": "636573825b1c8b9e8c78f1877df3ee66",
}
IXI_SITES = {
    "Guys": "Guy's Hospital, Philips 1.5 T",
    "HH": "Hammersmith Hospital, Philips 3 T",
    "IOP": "Institute of Psychiatry, GE 1.5 T",
}
_IXI_NAME = re.compile(
    r"^IXI(?P<subject>\d{3})-(?P<site>Guys|HH|IOP)-(?P<scan>\d{4})-(?P<modality>T1|T2|PD|MRA|DTI)(?:-(?P<volume>\d+))?\.nii(?:\.gz)?$"
)

#: the 20 normal anatomical models
BRAINWEB_SUBJECTS = (
    "04",
    "05",
    "06",
    "18",
    "20",
    "38",
    "41",
    "42",
    "43",
    "44",
    "45",
    "46",
    "47",
    "48",
    "49",
    "50",
    "51",
    "52",
    "53",
    "54",
)
#: crisp label -> tissue (BrainWeb's 20 normal models)
BRAINWEB_LABELS = {
    0: "background",
    1: "CSF",
    2: "grey matter",
    3: "white matter",
    4: "fat",
    5: "muscle",
    6: "muscle/skin",
    7: "skull",
    8: "vessels",
    9: "around fat",
    10: "dura mater",
    11: "bone marrow",
}
BRAINWEB_SHAPE = (362, 434, 362)  # z, y, x at 0.5 mm


def _pooch():
    try:
        import pooch
    except ImportError:
        raise MissingDependencyError("downloads use pooch: pip install 'wavediff[mri]'") from None
    return pooch


def fetch_ixi(modality: str = "T1", path: str | Path | None = None) -> list[Path]:
    """Download (once) and unpack IXI's archive of ``modality``; returns its NIfTI files, sorted.

    ``path`` defaults to ``pooch.os_cache("wavediff") / "ixi"``. pooch checks the archive's MD5 and
    refuses a file that differs.
    """
    if modality not in IXI_MD5:
        raise InvalidInputError(f"modality={modality!r}: IXI has {', '.join(IXI_MD5)}")
    pooch = _pooch()
    folder = Path(pooch.os_cache("wavediff")) / "ixi" if path is None else Path(path)
    members = pooch.retrieve(
        IXI_URL.format(modality=modality),
        known_hash=f"md5:{IXI_MD5[modality]}",
        fname=f"IXI-{modality}.tar",
        path=folder,
        processor=pooch.Untar(extract_dir=f"IXI-{modality}"),
        progressbar=True,
    )
    return sorted(Path(m) for m in members if str(m).endswith((".nii", ".nii.gz")))


def ixi_files(folder: str | Path, modality: str | None = None) -> list[dict]:
    """IXI NIfTI files under ``folder`` with ``subject``, ``site`` (Guys, HH, IOP), ``scanner`` and
    ``modality`` parsed from IXI's names (``IXI002-Guys-0828-T1.nii.gz``), sorted by subject.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("IXI012-HH-1211-T1.nii.gz", "IXI002-Guys-0828-T1.nii.gz", "notes.txt"):
    ...     _ = (d / name).write_bytes(b"")
    >>> [(f["subject"], f["site"]) for f in ixi_files(d)]
    [('002', 'Guys'), ('012', 'HH')]
    """
    root = Path(folder)
    if not root.is_dir():
        raise DataNotFoundError(f"{root}: no such folder; pass the folder IXI's archive was unpacked into")
    out = []
    for p in sorted(root.rglob("IXI*.nii*")):
        m = _IXI_NAME.match(p.name)
        if m is None or (modality is not None and m["modality"] != modality):
            continue
        out.append(
            {
                "path": p,
                "subject": m["subject"],
                "site": m["site"],
                "scanner": IXI_SITES[m["site"]],
                "modality": m["modality"],
            }
        )
    if not out:
        raise DataNotFoundError(
            f"{root} holds no IXI NIfTI files{f' of {modality}' if modality else ''} (named like IXI002-Guys-0828-T1.nii.gz)"
        )
    return sorted(out, key=lambda f: (f["subject"], f["modality"], f["path"].name))


def brainweb_url(subject: str) -> str:
    """The CGI address of BrainWeb's crisp labels of one normal model (raw 16-bit, gzip)."""
    if subject not in BRAINWEB_SUBJECTS:
        raise InvalidInputError(
            f"subject={subject!r}: BrainWeb's normal models are {', '.join(BRAINWEB_SUBJECTS)}"
        )
    return (
        "http://brainweb.bic.mni.mcgill.ca/cgi/brainweb1?do_download_alias=subject"
        f"{subject}_crisp&format_value=raw_short&zip_value=gnuzip&download_for_real=%5BStart+download%21%5D"
    )


def fetch_brainweb(subject: str = "04", path: str | Path | None = None) -> tuple[Path, str]:
    """Download (once) BrainWeb's crisp labels of ``subject``; returns the file and its SHA-256.

    BrainWeb publishes no digest, so none is pinned: record the returned SHA-256 with your results.
    The file is checked by :func:`load_brainweb` (size and label values) before it is used.
    """
    url = brainweb_url(subject)
    pooch = _pooch()
    folder = Path(pooch.os_cache("wavediff")) / "brainweb" if path is None else Path(path)
    file = Path(
        pooch.retrieve(
            url, known_hash=None, fname=f"subject{subject}_crisp.rawb.gz", path=folder, progressbar=True
        )
    )
    load_brainweb(file)  # refuse an error page or a truncated download now
    return file, sha256sum(file)


def load_brainweb(path: str | Path) -> np.ndarray:
    """BrainWeb crisp labels ``(362, 434, 362)`` (z, y, x, 0.5 mm) as uint8 keys of :data:`BRAINWEB_LABELS`.

    Some mirrors store the labels shifted by 4 bits (label x 16); those are shifted back.

    Examples
    --------
    >>> import gzip, tempfile, pathlib, numpy as np
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "s.rawb.gz"
    >>> labels = np.zeros(BRAINWEB_SHAPE, np.uint16); labels[100:200, 100:300, 100:200] = 3
    >>> _ = f.write_bytes(gzip.compress(labels.tobytes(), compresslevel=1))
    >>> int(load_brainweb(f).max()), load_brainweb(f).shape
    (3, (362, 434, 362))
    """
    p = Path(path)
    if not p.is_file():
        raise DataNotFoundError(f"{p}: no such file; download it with fetch_brainweb()")
    try:
        with gzip.open(p) as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        raise CorruptFileError(
            f"{p} is not a complete gzip file ({exc}); delete it and download it again"
        ) from None
    expected = int(np.prod(BRAINWEB_SHAPE)) * 2
    if len(raw) != expected:
        raise CorruptFileError(
            f"{p} holds {len(raw)} bytes, not the {expected} of 362 x 434 x 362 16-bit labels "
            "(an error page or a truncated download); delete it and download it again"
        )
    labels = np.frombuffer(raw, dtype="<u2").reshape(BRAINWEB_SHAPE)
    top = int(labels.max())
    if top > 11 and not (labels % 16).any():
        labels = labels // 16
        top //= 16
    if top > 11:
        raise CorruptFileError(
            f"{p} holds label {top}; BrainWeb's crisp labels are 0-11. Is it a fuzzy model?"
        )
    return labels.astype(np.uint8)
