"""Seed files and corruptions for :mod:`benchmarks.robustness` (and ``tests/test_fuzz_readers.py``).

:func:`build_seeds` writes one valid recording per format with MNE; :func:`mutations` is the hypothesis
strategy of corruptions of a format, :data:`EXPLICIT` the header corruptions always tried, and
:func:`apply_mutation` applies one to a copy of the seed files.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

CHANNELS, SFREQ, SECONDS = ("Fp1", "Fp2", "Cz", "O1"), 256.0, 4  # the seed recording
#: format -> its files; the first is the one passed to ``read``.
FORMATS = {
    "edf": ("rec.edf",), "bdf": ("rec.bdf",), "fif": ("rec_raw.fif",), "epochs-fif": ("rec-epo.fif",),
    "brainvision": ("rec.vhdr", "rec.vmrk", "rec.eeg"), "eeglab": ("rec.set",), "eeglab-fdt": ("rec.set", "rec.fdt"),
}  # fmt: skip


@dataclass
class Seeds:
    """The valid files of every format (``root/<format>/``) and where their headers and samples lie."""

    root: Path
    header: dict[str, int] = field(default_factory=dict)  # "fmt/file" -> bytes before the samples
    samples: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # "fmt/file" -> (offset, count, dtype)


def _fif_data(path: Path) -> tuple[int, int]:
    """Offset and number of float32 values of the first data tag (raw buffer or epochs matrix)."""
    from mne._fiff.open import fiff_open

    fid, _, directory = fiff_open(path, verbose="error")
    with fid:
        tag = next(e for e in directory if e.kind in (300, 302))  # FIFF_DATA_BUFFER, FIFF_EPOCH
    return tag.pos + 16, (tag.size - (16 if tag.kind == 302 else 0)) // 4  # a 3-D matrix ends with its dims


def build_seeds(root: str | Path) -> Seeds:
    """Write one valid recording per format under ``root`` (about 1 s), locate headers and samples, read each."""
    import mne
    import scipy.io

    from wavediff import get_modality

    root, seeds = Path(root), Seeds(Path(root))
    data = np.random.default_rng(0).normal(0, 20e-6, (len(CHANNELS), int(SFREQ * SECONDS)))
    raw = mne.io.RawArray(data, mne.create_info(list(CHANNELS), SFREQ, "eeg"), verbose="error")
    for fmt in FORMATS:
        (root / fmt).mkdir(parents=True, exist_ok=True)
    for fmt in ("edf", "bdf", "brainvision", "eeglab"):
        mne.export.export_raw(root / fmt / FORMATS[fmt][0], raw, fmt=fmt, overwrite=True, verbose="error")
    raw.save(root / "fif" / FORMATS["fif"][0], overwrite=True, verbose="error")
    epochs = mne.make_fixed_length_epochs(raw, duration=1.0, preload=True, verbose="error")
    epochs.save(root / "epochs-fif" / FORMATS["epochs-fif"][0], overwrite=True, verbose="error")
    mat = {k: v for k, v in scipy.io.loadmat(root / "eeglab" / "rec.set").items() if not k.startswith("__")}
    mat["data"].T.astype("<f4").tofile(root / "eeglab-fdt" / "rec.fdt")  # .fdt: samples time-major
    scipy.io.savemat(root / "eeglab-fdt" / "rec.set", {**mat, "data": "rec.fdt"}, format="5", appendmat=False)
    for fmt in ("edf", "bdf"):
        seeds.header[f"{fmt}/{FORMATS[fmt][0]}"] = 256 + 256 * int((root / fmt / FORMATS[fmt][0]).read_bytes()[252:256])
    for fmt in ("fif", "epochs-fif"):
        offset, count = _fif_data(root / fmt / FORMATS[fmt][0])
        seeds.header[f"{fmt}/{FORMATS[fmt][0]}"] = offset
        seeds.samples[f"{fmt}/{FORMATS[fmt][0]}"] = (offset, count, ">f4")
    offset = (root / "eeglab" / "rec.set").read_bytes().find(mat["data"][0, 0].astype("<f4").tobytes())
    seeds.header["eeglab/rec.set"], seeds.samples["eeglab/rec.set"] = offset, (offset, data.size, "<f4")
    seeds.samples["brainvision/rec.eeg"] = seeds.samples["eeglab-fdt/rec.fdt"] = (0, data.size, "<f4")
    for fmt, files in FORMATS.items():  # every seed is valid, and the readers' first-call imports are done
        reason = _invalid(get_modality("eeg").read(root / fmt / files[0]))
        if reason:
            raise RuntimeError(f"the {fmt} seed file is invalid: {reason}")
    return seeds


# A mutation is a plain tuple (kind, *parameters): printable, hashable, usable in @example and test ids.
POSITION = st.integers(0, 1 << 24)  # taken modulo the region's length when applied
SPECIAL_BYTES = (b"\x00" * 8, b"\xff" * 8, b"9" * 8, b" " * 8, b"-" * 8, b"\x7f\xc0\x00\x00", b"\r\n=\r\n")
NUMBER_TEXT = st.one_of(
    st.sampled_from(["0", "-1", "-0.5", "0.0001", "1e-30", "1e9", "99999999", "-9999999", "nan", "inf", "-inf", "", "abc"]),
    st.integers(-(10**9), 10**10).map(str),
    st.floats().map(lambda x: f"{x:.6g}"),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=8),
)
EDF_FIELDS = {  # name -> (offset, width) in the fixed 256-byte header
    "version": (0, 8), "patient": (8, 80), "recording": (88, 80), "startdate": (168, 8), "starttime": (176, 8),
    "header_bytes": (184, 8), "reserved": (192, 44), "n_records": (236, 8), "duration": (244, 8), "n_signals": (252, 4),
}  # fmt: skip
EDF_SIGNAL_FIELDS = {  # name -> width; each field holds one entry per signal, in this order
    "label": 16, "transducer": 80, "physical_dim": 8, "physical_min": 8, "physical_max": 8,
    "digital_min": 8, "digital_max": 8, "prefilter": 80, "n_samples": 8, "reserved": 32,
}  # fmt: skip
CHANNEL_LINE = st.builds(
    lambda name, res, unit: f"{name},,{res},{unit}", st.sampled_from(["Fp1", "", "Fp1\\1x"]), NUMBER_TEXT, st.sampled_from(["µV", "", "V", "xx"])
)
VHDR_VALUES = {
    "SamplingInterval": NUMBER_TEXT, "NumberOfChannels": NUMBER_TEXT, "Ch1": CHANNEL_LINE, "Ch4": CHANNEL_LINE,
    "DataFile": st.sampled_from(["missing.eeg", "", "rec.vmrk", "rec.vhdr", "../rec.eeg", "/nonexistent/rec.eeg"]),
    "MarkerFile": st.sampled_from(["missing.vmrk", "", "rec.eeg", "rec.vhdr"]),
    "BinaryFormat": st.sampled_from(["UNKNOWN", "", "INT_16", "UINT_16", "INT_32", "IEEE_FLOAT_64", "ieee_float_32"]),
    "DataOrientation": st.sampled_from(["VECTORIZED", "", "DIAGONAL"]), "DataFormat": st.sampled_from(["ASCII", "", "XML", "BINARYX"]),
    "Codepage": st.sampled_from(["ANSI", "", "EBCDIC"]),
}  # fmt: skip
MARKER_LINE = st.builds(
    lambda kind, pos, size, ch: f"Mk1={kind},S  1,{pos},{size},{ch}", st.sampled_from(["Stimulus", "New Segment", ""]), *[NUMBER_TEXT] * 3
)
SET_FIELDS = ("srate", "nbchan", "pnts", "trials", "xmin", "xmax")
SET_VALUES = st.one_of(
    st.sampled_from([0, -1, 0.5, 3, 5, 1023, 1025, 2048, 2**31, 2**63, 1e12, 1e-12, math.nan, math.inf, -math.inf, "abc", "empty"]),
    st.integers(-(2**40), 2**40) | st.floats(),
)
SET_DATA = ("missing.fdt", "rec.dat", "rec.txt", "", "empty", "transposed", "3 channels", "10 samples", "int16", "complex")


def mutations(fmt: str) -> st.SearchStrategy[tuple]:
    """The hypothesis strategy of the mutations of one format's seed files."""
    files = FORMATS[fmt]
    target, region = st.sampled_from(files), st.sampled_from(["header", "all"])
    flips = st.lists(st.tuples(POSITION, st.integers(0, 7)), min_size=1, max_size=8).map(tuple)
    parts = [
        st.tuples(st.just("truncate"), target, region, POSITION),
        st.tuples(st.just("flip"), target, region, flips),
        st.tuples(st.just("overwrite"), target, region, POSITION, st.binary(min_size=1, max_size=16) | st.sampled_from(SPECIAL_BYTES)),
        st.tuples(st.just("append"), target, st.binary(min_size=1, max_size=64)),
    ]
    if len(files) > 1:
        parts.append(st.tuples(st.just("remove"), st.sampled_from(files[1:])))
    if fmt in ("edf", "bdf"):
        parts.append(st.tuples(st.just("edf_field"), st.sampled_from(sorted(EDF_FIELDS)), NUMBER_TEXT))
        parts.append(st.tuples(st.just("edf_signal"), st.sampled_from(list(EDF_SIGNAL_FIELDS)), st.integers(0, 7), NUMBER_TEXT))
        parts.append(st.tuples(st.just("edf_equal"), st.sampled_from(["physical", "digital"]), st.integers(0, 7)))
    if fmt == "brainvision":
        key = st.sampled_from(list(VHDR_VALUES))
        parts.append(key.flatmap(lambda k: st.tuples(st.just("vhdr_key"), st.just(k), VHDR_VALUES[k])))
        parts += [st.tuples(st.just("vhdr_drop"), key), st.tuples(st.just("vmrk_line"), MARKER_LINE)]
    if fmt.startswith("eeglab"):
        parts.append(st.tuples(st.just("set_field"), st.sampled_from(SET_FIELDS), SET_VALUES))
        parts.append(st.tuples(st.just("set_data"), st.sampled_from(SET_DATA)))
    if fmt not in ("edf", "bdf"):  # the float formats: a NaN or an infinity among the samples
        where = {"brainvision": "rec.eeg", "eeglab-fdt": "rec.fdt"}.get(fmt, files[0])
        parts.append(st.tuples(st.just("nonfinite"), st.just(where), POSITION, st.sampled_from([math.nan, math.inf, -math.inf])))
    return st.one_of(parts)


#: Cases every run tries first (the brief's list of header corruptions), beside hypothesis' draws.
EXPLICIT: dict[str, list[tuple]] = {
    "edf": [("truncate", "rec.edf", "all", 0), ("truncate", "rec.edf", "header", 255), ("truncate", "rec.edf", "all", 5000)]
    + [("edf_field", "n_records", v) for v in ("0", "99999999", "-1")]
    + [("edf_field", "duration", "0"), ("edf_field", "duration", "-1"), ("edf_field", "n_signals", "9999")]
    + [("edf_field", "n_signals", "0"), ("edf_signal", "n_samples", 0, "0"), ("edf_signal", "n_samples", 0, "99999999")]
    + [("edf_equal", "physical", 0), ("edf_equal", "digital", 0)],
    "fif": [("truncate", "rec_raw.fif", "all", 0), ("truncate", "rec_raw.fif", "all", 8000), ("nonfinite", "rec_raw.fif", 0, math.nan)],
    "epochs-fif": [("truncate", "rec-epo.fif", "all", 0), ("truncate", "rec-epo.fif", "all", 9000), ("nonfinite", "rec-epo.fif", 0, math.inf)],
    "brainvision": [("vhdr_key", "SamplingInterval", v) for v in ("0", "-3906.25", "1e308")]
    + [("vhdr_key", "NumberOfChannels", "1000000000"), ("vhdr_key", "DataFile", "missing.eeg"), ("vhdr_key", "BinaryFormat", "UNKNOWN")]
    + [("truncate", "rec.eeg", "all", 0), ("truncate", "rec.eeg", "all", 1001), ("remove", "rec.eeg"), ("remove", "rec.vmrk")]
    + [("nonfinite", "rec.eeg", 5, math.nan)],
    "eeglab": [("truncate", "rec.set", "all", 0), ("set_field", "srate", 0), ("set_field", "srate", -256), ("set_field", "srate", math.nan)]
    + [("set_field", "nbchan", 2**31), ("set_field", "pnts", 0), ("set_data", "empty"), ("nonfinite", "rec.set", 7, math.nan)],
    "eeglab-fdt": [("truncate", "rec.fdt", "all", 0), ("truncate", "rec.fdt", "all", 999), ("remove", "rec.fdt")]
    + [("set_field", "pnts", 2**31), ("set_data", "missing.fdt"), ("nonfinite", "rec.fdt", 3, math.inf)],
}
EXPLICIT["bdf"] = [tuple("rec.bdf" if p == "rec.edf" else p for p in m) for m in EXPLICIT["edf"]]


def apply_mutation(mutation: tuple, case: Path, fmt: str, seeds: Seeds) -> str:
    """Corrupt the copy of the seed files in ``case``; returns the mutation with its concrete offsets."""
    kind, args = mutation[0], mutation[1:]
    if kind.startswith("edf_"):
        return _mutate_edf(case / FORMATS[fmt][0], kind, args)
    if kind in ("vhdr_key", "vhdr_drop", "vmrk_line"):
        return _mutate_brainvision(case, kind, args)
    if kind.startswith("set_"):
        return _mutate_eeglab(case, fmt, kind, args)
    path = case / args[0]
    buf = bytearray(path.read_bytes())
    span = min(len(buf), seeds.header.get(f"{fmt}/{args[0]}", len(buf))) if args[1:2] == ("header",) else len(buf)
    if kind == "truncate":
        path.write_bytes(bytes(buf[: args[2] % (span + 1)]))
        return f"truncate {args[0]} to {args[2] % (span + 1)} of {len(buf)} bytes"
    if kind == "remove":
        path.unlink()
        return f"remove {args[0]}"
    if kind == "append":
        text = f"append {len(args[1])} bytes {args[1][:16]!r} to {args[0]}"
        buf += args[1]
    elif kind == "flip":
        flips = sorted({(pos % max(1, span), bit) for pos, bit in args[2]})
        for pos, bit in flips:
            buf[pos] ^= 1 << bit
        text = f"flip bits (byte, bit) {flips} of {args[0]}"
    elif kind == "overwrite":
        at = args[2] % max(1, span)
        buf[at : at + len(args[3])] = args[3]
        text = f"overwrite {args[0]} at byte {at} with {args[3]!r}"
    elif kind == "nonfinite":
        offset, count, dtype = seeds.samples[f"{fmt}/{args[0]}"]
        at = offset + 4 * (args[1] % count)
        buf[at : at + 4] = np.array(args[2], dtype=dtype).tobytes()
        text = f"sample {args[1] % count} of {args[0]} (byte {at}) set to {args[2]}"
    else:
        raise ValueError(f"unknown mutation {mutation!r}")
    path.write_bytes(bytes(buf))
    return text


def _mutate_edf(path: Path, kind: str, args: tuple) -> str:
    buf = bytearray(path.read_bytes())
    ns = int(buf[252:256])
    names = list(EDF_SIGNAL_FIELDS)

    def where(name: str, i: int) -> tuple[int, int]:  # offset and width of signal i's entry of a field
        before = sum(EDF_SIGNAL_FIELDS[k] for k in names[: names.index(name)])
        return 256 + ns * before + (i % ns) * EDF_SIGNAL_FIELDS[name], EDF_SIGNAL_FIELDS[name]

    def put(offset: int, width: int, text: str) -> None:
        buf[offset : offset + width] = text.encode("latin-1", "replace").ljust(width)[:width]

    if kind == "edf_field":
        put(*EDF_FIELDS[args[0]], args[1])
        text = f"header field {args[0]} = {args[1]!r}"
    elif kind == "edf_signal":
        put(*where(args[0], args[1]), args[2])
        text = f"signal {args[1] % ns} field {args[0]} = {args[2]!r}"
    else:
        (lo, width), (hi, _) = where(f"{args[0]}_min", args[1]), where(f"{args[0]}_max", args[1])
        buf[hi : hi + width] = buf[lo : lo + width]
        text = f"signal {args[1] % ns} {args[0]} max = min = {bytes(buf[lo : lo + width]).decode().strip()!r}"
    path.write_bytes(bytes(buf))
    return text


def _mutate_brainvision(case: Path, kind: str, args: tuple) -> str:
    if kind == "vmrk_line":
        path = case / "rec.vmrk"
        path.write_bytes(path.read_bytes().rstrip(b"\r\n") + b"\n" + args[0].encode() + b"\n")
        return f"vmrk marker line {args[0]!r}"
    path = case / "rec.vhdr"
    pattern = re.compile(rb"^" + re.escape(args[0].encode()) + rb"=.*$", re.MULTILINE)
    new = (args[0] + "=" + args[1]).encode() if kind == "vhdr_key" else b""
    path.write_bytes(pattern.sub(lambda _: new, path.read_bytes(), count=1))
    return f"vhdr {args[0]} = {args[1]!r}" if kind == "vhdr_key" else f"vhdr line {args[0]}= removed"


def _mutate_eeglab(case: Path, fmt: str, kind: str, args: tuple) -> str:
    import scipy.io

    path = case / "rec.set"
    mat = {k: v for k, v in scipy.io.loadmat(path).items() if not k.startswith("__")}
    if kind == "set_field":
        value = args[1]
        mat[args[0]] = np.zeros((0, 0)) if value == "empty" else value if isinstance(value, str) else np.array([[float(value)]])
        text = f"EEG.{args[0]} = {value!r}"
    else:
        data = mat["data"] if fmt == "eeglab" else np.fromfile(case / "rec.fdt", "<f4").reshape(-1, len(CHANNELS)).T
        changed = {"empty": np.zeros((0, 0), np.float32), "transposed": data.T, "3 channels": data[:3], "10 samples": data[:, :10]}
        changed.update({"int16": data.astype(np.int16), "complex": data.astype(np.complex64)})
        mat["data"] = changed.get(args[0], args[0])
        text = f"EEG.data = {args[0]!r}"
    scipy.io.savemat(path, mat, format="5", appendmat=False)
    return text


def _invalid(obj: object) -> str:
    """Why a returned object breaks the contract ('' when it meets it)."""
    import mne

    if not isinstance(obj, (mne.io.BaseRaw, mne.BaseEpochs)):
        return f"returned a {type(obj).__name__}, not Raw or Epochs"
    sfreq = obj.info["sfreq"]
    if not (isinstance(sfreq, (int, float)) and math.isfinite(sfreq) and sfreq > 0):
        return f"sfreq = {sfreq!r}"
    data = obj.get_data()
    if data.size == 0 or data.shape[-1] == 0:
        return f"no samples (data shape {data.shape})"
    if not np.isfinite(data).all():
        return f"{int((~np.isfinite(data)).sum())} non-finite values in data of shape {data.shape}"
    return ""
