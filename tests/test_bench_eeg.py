"""benchmarks.eeg (main protocol and sections): each table cell is what it claims, recomputed here.

The sections run on a short seeded recording; each test recomputes one or more cells independently
(the same seeded contamination, the same method called directly) and requires the section to print
exactly that number, or checks a relation a broken section would violate.
"""

from __future__ import annotations

import hashlib
import time

import mne
import numpy as np
import pytest
from scipy.stats import t as student_t
from wavediff.datasets.eeg import simulate_raw
from wavediff.modalities.eeg.adapter import EEG
from wavediff.modalities.eeg.baselines import bandpass_notch, wavelet_denoise
from wavediff.modalities.eeg.cleaners import BANDPASS, CLEANERS, WAVELET

from benchmarks.eeg import __main__ as cli
from benchmarks.eeg import protocol, sections
from wavediff import get_modality
from wavediff.pipeline import Restorer

needs_model = pytest.mark.skipif(not get_modality("eeg").weights_path().is_file(), reason="no shipped EEG model")


@pytest.fixture(scope="module")
def recording():
    return simulate_raw(n_seconds=8.0, sfreq=256.0, rng=3)


def _cells(markdown: str, first: str, second: str | None = None) -> list[str]:
    """The cells after the label(s) of the table row that starts with ``first`` (and ``second``)."""
    for line in markdown.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == first and (second is None or cells[1] == second):
            return cells[1 if second is None else 2 :]
    raise AssertionError(f"no row {first!r} / {second!r} in\n{markdown}")


def test_real_clean_keeps_the_quiet_half_of_the_epochs(tmp_path):
    raw = simulate_raw(n_seconds=40.0, sfreq=160.0, rng=0)
    data = raw.get_data()
    blink = 300e-6 * np.exp(-0.5 * ((np.arange(320) - 160) / 20.0) ** 2)
    for start in range(0, data.shape[1], 4 * 320):  # a blink in every other 2 s epoch, on Fp1/Fp2
        data[:2, start : start + 320] += blink[: data.shape[1] - start]
    raw._data = data
    get_modality("eeg").write(raw, tmp_path / "rec.edf")
    (tmp_path / "notes.txt").write_text("not a recording")
    assert protocol.recording_files(tmp_path) == [tmp_path / "rec.edf"]
    (clean,) = protocol.real_clean(tmp_path)
    assert clean.info["sfreq"] == 256.0 and len(clean.ch_names) == 19
    assert clean.n_times == 10 * 512  # 10 of the 20 epochs, those without a blink
    assert np.ptp(clean.get_data()[:2]) < 150e-6


def test_run_scores_every_method_on_the_same_contaminated_data(recording):
    rows = protocol.run([recording], [-3.0, 2.0], None, seed=0, cleaners={BANDPASS: CLEANERS[BANDPASS]})
    assert [(r["method"], r["artifact"], r["snr_db"]) for r in rows] == [
        (m, a, s) for a in ("eog", "emg") for s in (-3.0, 2.0) for m in (protocol.NOISY, BANDPASS)
    ]
    x, sfreq = recording.get_data(), recording.info["sfreq"]
    cases = protocol.cases([recording], [-3.0, 2.0], seed=0)
    for (*_, noisy), pair in zip(cases, zip(rows[::2], rows[1::2])):
        y = noisy.get_data()
        want_noisy, want_bp = protocol.epoch_metrics(x, y, sfreq), protocol.epoch_metrics(x, bandpass_notch(y, sfreq), sfreq)
        assert {k: pair[0][k] for k in want_noisy} == want_noisy
        assert {k: pair[1][k] for k in want_bp} == want_bp
    eog_bp = [r for r in rows if r["method"] == BANDPASS and r["artifact"] == "eog"]
    assert _cells(protocol.table(rows, "t"), BANDPASS, "EOG")[0] == f"{np.mean([r['RRMSE_t'] for r in eog_bp]):.3f}"
    assert _cells(protocol.per_snr(rows, "emg"), protocol.NOISY) == [f"{r['RRMSE_t']:.3f}" for r in rows if r["method"] == protocol.NOISY and r["artifact"] == "emg"]
    # the noisy input gets worse as the SNR drops: the levels reach the contamination
    by = {(r["artifact"], r["snr_db"]): r["RRMSE_t"] for r in rows if r["method"] == protocol.NOISY}
    assert by[("eog", -3.0)] > by[("eog", 2.0)] and by[("emg", -3.0)] > by[("emg", 2.0)]


def test_cases_are_reproducible_from_the_seed(recording):
    a, b, c = (protocol.cases([recording], [0.0], seed=s) for s in (0, 0, 1))
    np.testing.assert_array_equal(a[1][3].get_data(), b[1][3].get_data())
    assert not np.allclose(a[1][3].get_data(), c[1][3].get_data())


@needs_model
def test_settings_report_the_error_of_each_overlap_and_estimator(recording):
    text = sections.settings([recording], [0.0], seed=0, overlaps=(0.0, 0.25))
    assert [c[0] for c in (_cells(text, "0"), _cells(text, "0.25"))] == ["posterior mean (1 evaluation)"] * 2
    cases = protocol.cases([recording], [0.0], seed=0)
    x, sfreq = recording.get_data(), recording.info["sfreq"]
    for overlap in (0.0, 0.25):
        restorer = Restorer(EEG(overlap=overlap), seed=0)
        want = [protocol.epoch_metrics(x, restorer.restore(noisy).get_data(), sfreq)["RRMSE_t"] for _, _, _, noisy in cases]
        assert _cells(text, f"{overlap:g}", "posterior mean (1 evaluation)")[:2] == [f"{w:.3f}" for w in want]
    draws = Restorer(EEG(overlap=0.25), steps=6, seed=0)
    tensor, ctx = draws.modality.to_tensor(cases[0][3])
    est = draws.modality.from_tensor(draws.restore_tensor(tensor, 4).mean(0), ctx).get_data()
    assert _cells(text, "0.25", "mean of 4 draws, 6 steps")[0] == f"{protocol.epoch_metrics(x, est, sfreq)['RRMSE_t']:.3f}"


class _Timed:
    """A stand-in restorer: takes ``seconds`` per call and records what it was given."""

    def __init__(self, seconds: float):
        self.seconds, self.seen = seconds, []

    def restore(self, raw):
        self.seen.append((len(raw.ch_names), raw.n_times, raw.info["sfreq"]))
        time.sleep(self.seconds)
        return raw


def test_speed_divides_the_measured_time_by_the_duration(tmp_path):
    fake = _Timed(0.2)
    info = mne.create_info([f"EEG {i:03d}" for i in range(8)], 160.0, "eeg")
    raw = mne.io.RawArray(np.random.default_rng(0).normal(0, 1e-5, (8, 25 * 160)), info, verbose="error")
    mne.export.export_raw(tmp_path / "r.edf", raw, fmt="edf", verbose="error")
    text = sections.speed(seed=0, minutes=1.0, repeats=2, restorer=fake, recordings=[tmp_path / "r.edf"])
    # 64 simulated channels, one minute at 160 Hz, twice; then the real file's 8 channels repeated to one minute, twice
    assert fake.seen == [(64, 60 * 160, 160.0)] * 2 + [(8, 60 * 160, 160.0)] * 2
    rows = [line.split(" | ") for line in text.splitlines() if line.startswith("| simulated") or line.startswith("| real")]
    assert [r[0] for r in rows] == ["| simulated", "| real (r.edf, 25 s repeated)"]
    for row in rows:
        median, rtf = float(row[3]), float(row[5].rstrip(" |"))
        assert median >= 0.2 and rtf >= 0.2 / 60 - 5e-5
        assert rtf == pytest.approx(median / 60, abs=0.05 / 60 + 5e-5)  # seconds / 60 s of recording, up to rounding
        assert row[2] == "1 min at 160 Hz"


@needs_model
def test_clean_in_reports_what_each_method_does_to_clean_eeg(recording):
    text = sections.clean_in([recording], seed=0)
    assert [line.split(" | ")[1] for line in text.splitlines() if line.startswith("| simulated")] == [*CLEANERS, "wavediff"]
    x, sfreq = recording.get_data(), recording.info["sfreq"]
    for name, est in ((BANDPASS, bandpass_notch(x, sfreq)), ("wavediff", Restorer("eeg", seed=0).restore(recording).get_data())):
        want = protocol.epoch_metrics(x, est, sfreq)  # recomputed outside the section
        assert _cells(text, "simulated", name)[:2] == [f"{want['RRMSE_t']:.3f}", f"{want['CC']:.3f}"]
    assert float(_cells(text, "simulated", BANDPASS)[0]) > 0.05  # the filter's passband edge does change clean EEG
    # band powers: the 1-40 Hz band-pass keeps alpha and removes most of what lies above 45 Hz... and of delta below 1 Hz
    ratios = [float(v) for v in _cells(text, "simulated", BANDPASS)[2:]]
    assert len(ratios) == len(sections.BANDS) and 0.9 < ratios[2] < 1.1 and ratios[0] < 0.95


@needs_model
def test_generalisation_scores_the_changed_recordings(recording):
    text = sections.generalisation([recording], [0.0], seed=0)
    (eog_clean, _, _, eog_noisy), (emg_clean, _, _, emg_noisy) = protocol.cases([recording], [0.0], seed=0)
    low = [r.copy().resample(128.0, verbose="error") for r in (eog_clean, eog_noisy)]
    want = protocol.epoch_metrics(low[0].get_data(), low[1].get_data(), 128.0)["RRMSE_t"]
    assert _cells(text, "resampled to 128 Hz", protocol.NOISY)[0] == f"{want:.3f}"
    cz = [r.copy().pick(["Cz"]).get_data() for r in (emg_clean, emg_noisy)]
    want = protocol.epoch_metrics(cz[0], wavelet_denoise(cz[1], 256.0), 256.0)["RRMSE_t"]
    assert _cells(text, "single channel (Cz alone)", WAVELET)[1] == f"{want:.3f}"
    anon = sections.anonymous(eog_noisy)
    assert anon.get_montage() is None and anon.ch_names[0] == "EEG 000"
    est = Restorer("eeg", seed=0).restore(anon).get_data()
    want = protocol.epoch_metrics(eog_clean.get_data(), est, 256.0)["RRMSE_t"]
    assert _cells(text, "no montage, anonymous channel names", "wavediff")[0] == f"{want:.3f}"


def test_interval_coverage_of_exact_gaussian_draws_is_nominal():
    """Truth and draws from the same Gaussian: the t intervals hold the nominal share, error / spread = 1."""
    rng = np.random.default_rng(0)
    n, size = 6, 200_000
    mu, sigma = rng.normal(size=size), rng.uniform(0.5, 2.0, size)
    draws = mu + sigma * rng.normal(size=(n, size))
    truth = mu + sigma * rng.normal(size=size)
    inside, ratio = sections.interval_coverage(truth, draws.mean(0), draws.std(0, ddof=1), n)
    for level, fraction in inside.items():
        assert abs(fraction - level) < 0.005
    assert ratio == pytest.approx(1.0, abs=0.01)  # E[(x - mean)^2] = E[s^2] (1 + 1/n)
    overconfident, _ = sections.interval_coverage(truth, draws.mean(0), 0.5 * draws.std(0, ddof=1), n)
    assert overconfident[0.95] < 0.8  # a spread too small is caught
    # the normal quantile instead of t(n - 1) would undercover: the t correction matters at n = 6
    z = np.mean(np.abs(truth - draws.mean(0)) <= 1.96 * draws.std(0, ddof=1) * np.sqrt(1 + 1 / n))
    assert z < 0.93 and student_t.ppf(0.975, n - 1) > 2.5


@needs_model
def test_coverage_section_scores_the_draws_it_made(recording):
    text = sections.coverage([recording], [0.0], seed=0, n_draws=3, steps=(2,), seconds=4.0)
    assert "3 posterior draws of the first 4 s" in text
    rows = [_cells(text, "dpmpp_2m, 2 steps", a) for a in ("EOG", "EMG")]
    assert all(cells[0] == "0 dB" for cells in rows)  # each row says which SNR levels it ran
    rows = [cells[1:] for cells in rows]
    for cells in rows:
        fractions = [float(c) for c in cells[:3]]
        assert fractions == sorted(fractions) and 0 < fractions[-1] <= 1 and float(cells[3]) > 0
    clean, _, _, noisy = protocol.cases([recording], [0.0], seed=0)[0]
    keep = [clean.ch_names.index(c) for c in ("Fp1", "F7", "T7", "Cz", "O1", "O2")]
    mean, std = Restorer("eeg", steps=2, n_draws=3, seed=0).restore(noisy.copy().crop(tmax=4.0), return_std=True)
    inside, ratio = sections.interval_coverage(clean.copy().crop(tmax=4.0).get_data(keep), mean.get_data(keep), std.get_data(keep), 3)
    assert rows[0] == [*(f"{inside[p]:.3f}" for p in sections.COVERAGE_LEVELS), f"{ratio:.2f}"]


def test_input_files_are_the_files_the_report_reads(tmp_path):
    (tmp_path / "eeg").mkdir()
    for name in ("b.fif", "a.edf", "readme.txt"):
        (tmp_path / "eeg" / name).write_bytes(b"x")
    files = cli.input_files(tmp_path / "eeg", tmp_path / "dn")
    assert files == [tmp_path / "eeg" / "a.edf", tmp_path / "eeg" / "b.fif",
                     *(tmp_path / "dn" / f"{k}_all_epochs.npy" for k in ("EEG", "EOG", "EMG"))]  # fmt: skip
    assert cli.input_files(None, None) == []


def test_main_report_opens_with_its_provenance(tmp_path, monkeypatch, recording):
    """The results file: title, then the provenance block naming the command and every data file read."""
    room = type(get_modality("eeg"))
    monkeypatch.setattr(room, "weights_path", classmethod(lambda cls: tmp_path / "absent.safetensors"))
    monkeypatch.setattr(cli, "simulated_clean", lambda seconds, seed: recording)
    monkeypatch.setattr(cli, "real_clean", lambda folder: [recording.copy()])
    calls = []

    def run(recs, snrs, restorer, seed):  # the protocol itself is tested above; here only what main writes
        calls.append((len(recs), snrs, restorer, seed))
        return [{"method": "noisy input", "artifact": a, "snr_db": s, "RRMSE_t": 1.0, "RRMSE_s": 1.0, "CC": 0.5, "rtf": 0.0}
                for a in ("eog", "emg") for s in snrs]  # fmt: skip

    monkeypatch.setattr(cli, "run", run)
    data = tmp_path / "eeg"
    data.mkdir()
    (data / "S001R01.edf").write_bytes(b"recording bytes")
    out = tmp_path / "eeg.md"
    cli.main(["--data", str(data), "--quick", "--out", str(out)])
    text = out.read_text()
    head, rest = text.split("\n\n", 1)
    assert head == "# EEG room benchmark" and rest.startswith("**Provenance.**")
    assert f"- command: `python3 -m benchmarks.eeg --data {data} --quick --out {out}`" in text
    assert f"sha256 `{hashlib.sha256(b'recording bytes').hexdigest()}`" in text and "mne " in text
    assert calls == [(1, [-7.0, -3.0, 0.0, 2.0], None, 12345)] * 2  # simulated and real arms, no model
    assert "No shipped model" in text
