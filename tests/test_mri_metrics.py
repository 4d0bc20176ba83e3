"""MRI metrics against fastMRI's definitions written out with scikit-image, and the masked variants."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
from wavediff.modalities.mri.metrics import aggregate, foreground_mask, nmse, psnr, ssim, volume_metrics

from wavediff.errors import InvalidInputError, ShapeError


def _pair(seed=0, shape=(4, 32, 24)):
    rng = np.random.default_rng(seed)
    gt = np.abs(rng.normal(size=shape)).cumsum(axis=-1) / 10
    return gt, gt + 0.05 * rng.normal(size=shape)


def test_volume_metrics_are_fastmris_evaluate():
    """fastmri/evaluate.py: psnr/ssim with maxval = gt.max() over the volume, ssim averaged over slices."""
    gt, pred = _pair()
    maxval = gt.max()
    assert psnr(gt, pred) == pytest.approx(peak_signal_noise_ratio(gt, pred, data_range=maxval), rel=1e-12)
    expected_ssim = np.mean([structural_similarity(g, p, data_range=maxval) for g, p in zip(gt, pred)])
    assert ssim(gt, pred) == pytest.approx(expected_ssim, rel=1e-9)
    assert nmse(gt, pred) == pytest.approx(
        np.linalg.norm(gt - pred) ** 2 / np.linalg.norm(gt) ** 2, rel=1e-12
    )
    # the volume's maximum, not each slice's: a dim slice scored alone gets another value
    assert ssim(gt[:1] * 0.5, pred[:1] * 0.5, maxval=maxval) != pytest.approx(
        ssim(gt[:1] * 0.5, pred[:1] * 0.5)
    )


def test_per_volume_then_mean_differs_from_pooling_slices():
    vols = [_pair(s) for s in range(3)]
    vols[1] = (vols[1][0] * 3.0, vols[1][1] * 3.0 + 0.2)  # a brighter volume with a bias
    per_volume = [volume_metrics(g, p) for g, p in vols]
    agg = aggregate(per_volume)
    assert agg["psnr"] == pytest.approx(np.mean([v["psnr"] for v in per_volume]))
    pooled = psnr(np.concatenate([g for g, _ in vols]), np.concatenate([p for _, p in vols]))
    assert abs(pooled - agg["psnr"]) > 0.1


def test_masked_metrics_score_only_the_foreground():
    gt, pred = _pair()
    mask = np.zeros(gt.shape, dtype=bool)
    mask[:, 8:24, 6:18] = True
    worse = pred.copy()
    worse[~mask] += 5.0  # background errors change the whole-volume scores, not the foreground ones
    assert psnr(gt, worse, mask) == pytest.approx(psnr(gt, pred, mask))
    assert nmse(gt, worse, mask) == pytest.approx(nmse(gt, pred, mask))
    assert psnr(gt, worse) < psnr(gt, pred) - 10
    sel = gt[mask], pred[mask]
    assert psnr(gt, pred, mask) == pytest.approx(peak_signal_noise_ratio(*sel, data_range=gt.max()))
    # masked SSIM: the skimage map averaged over masked voxels inside its 3-voxel border
    total = count = 0.0
    for g, p, m in zip(gt, pred, mask):
        _, smap = structural_similarity(g, p, data_range=gt.max(), full=True)
        keep = m.copy()
        keep[:3], keep[-3:], keep[:, :3], keep[:, -3:] = False, False, False, False
        total, count = total + smap[keep].sum(), count + keep.sum()
    assert ssim(gt, pred, mask) == pytest.approx(total / count, rel=1e-9)
    assert volume_metrics(gt, pred, mask)["ssim_fg"] == pytest.approx(total / count, rel=1e-9)


def test_complex_images_are_scored_by_magnitude_and_inputs_untouched():
    gt, pred = _pair()
    phase = np.exp(1j * np.linspace(0, 3, gt.size).reshape(gt.shape))
    g, p = gt * phase, pred * phase
    g0, p0 = g.copy(), p.copy()
    assert psnr(g, p) == pytest.approx(psnr(gt, np.abs(pred)))
    np.testing.assert_array_equal(g, g0)
    np.testing.assert_array_equal(p, p0)


def test_foreground_mask_finds_a_noisy_head_with_a_dark_ventricle():
    zz, yy, xx = np.mgrid[:24, :48, :48]
    head = ((zz - 12) / 10) ** 2 + ((yy - 24) / 20) ** 2 + ((xx - 24) / 16) ** 2 < 1
    img = head * 1.0
    img[10:14, 20:28, 20:28] = 0.05  # CSF-dark inside
    rng = np.random.default_rng(0)
    noisy = np.abs(img + 0.03 * (rng.normal(size=img.shape) + 1j * rng.normal(size=img.shape)))
    m = foreground_mask(noisy)
    iou = (m & head).sum() / (m | head).sum()
    assert iou > 0.9 and m[12, 24, 24]


def test_bad_input_says_what_to_do():
    gt, pred = _pair()
    with pytest.raises(ShapeError, match="volume by volume"):
        psnr(gt[None], pred[None])
    with pytest.raises(ShapeError, match="mask"):
        psnr(gt, pred, np.ones((2, 2), bool))
    with pytest.raises(InvalidInputError, match="selects no voxel"):
        ssim(gt, pred, np.zeros(gt.shape, bool))
    with pytest.raises(InvalidInputError, match="positive reference"):
        psnr(np.zeros(gt.shape), pred)
    with pytest.raises(InvalidInputError, match="same metrics"):
        aggregate([{"psnr": 1.0}, {"ssim": 1.0}])
    with pytest.raises(InvalidInputError, match="constant"):
        foreground_mask(np.ones((8, 8)))
