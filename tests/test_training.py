"""Tests of :class:`wavediff.training.Trainer`: learning, EMA, clipping, warm-up, data and errors.

References used: the closed-form MMSE of Gaussian data (and the Wiener filter applied by hand), the
EMA recursion and the warm-up schedule written out by hand, the first AdamW step in closed form, and
torch's documented gradient-clipping rule. Nothing is compared with the code's own earlier output.
Checkpoints and resume are tested in test_checkpoints.py, DDP in test_ddp.py.
"""

from __future__ import annotations

import math

import pytest
import torch
from _threads import _single_thread  # noqa: F401
from _training_helpers import _data, _flat, _tiny, _trainer

from wavediff import errors
from wavediff.diffusion import EDMProcess, GaussianDenoiser, ResidualProcess, gaussian_mmse
from wavediff.training import TensorData, Trainer, load_denoiser
from wavediff.wavelets import WaveletTransform

# ---------------------------------------------------------------------- learning reaches the closed form

LENGTH = 64


def _gaussian_cov() -> torch.Tensor:
    i = torch.arange(LENGTH, dtype=torch.float64)
    return torch.exp(-((i[:, None] - i[None]) ** 2) / (2 * 4.0**2)) + 0.05 * torch.eye(
        LENGTH, dtype=torch.float64
    )


@pytest.fixture(scope="module")
def gaussian_data():
    S = _gaussian_cov()
    g = torch.Generator().manual_seed(2024)
    prior = GaussianDenoiser(mean=torch.zeros(LENGTH), cov=S)
    train = prior.sample(20000, g).to(torch.float32).reshape(-1, 1, LENGTH)
    test = prior.sample(2000, g).to(torch.float32).reshape(-1, 1, LENGTH)
    return S, train, test


SIGMAS = (0.2, 0.5, 1.0)


def test_gaussian_mmse_is_the_wiener_error(gaussian_data):
    """The reference itself: closed form = eigenvalue formula = empirical error of the Wiener filter."""
    S, _, test = gaussian_data
    lam, _ = torch.linalg.eigh(S)
    x0 = test.reshape(len(test), -1).double()
    g = torch.Generator().manual_seed(7)
    for s in SIGMAS:
        closed = gaussian_mmse(S, s)
        assert closed == pytest.approx(float((lam * s**2 / (lam + s**2)).mean()), rel=1e-10)
        W = S @ torch.linalg.inv(S + s**2 * torch.eye(LENGTH, dtype=torch.float64))  # posterior mean matrix
        x = x0 + s * torch.randn(x0.shape, generator=g, dtype=torch.float64)
        per_example = ((x @ W.T - x0) ** 2).mean(dim=1)
        se = float(per_example.std()) / math.sqrt(len(per_example))
        assert abs(float(per_example.mean()) - closed) <= 4 * se, (s, float(per_example.mean()), closed, se)


def _train_and_check(gaussian_data, *, wavelet: bool, steps: int) -> None:
    S, train, test = gaussian_data
    if wavelet:
        model = _tiny(
            0,
            in_channels=2,
            wavelet=WaveletTransform("haar", 1, dims=1),
            process=EDMProcess(sigma_data=1.0, P_mean=-0.5, P_std=1.0),
        )
    else:
        model = _tiny(0, process=EDMProcess(sigma_data=1.0, P_mean=-0.5, P_std=1.0))
    trainer = Trainer(model, TensorData(train), batch_size=64, lr=2e-3, warmup_steps=100, seed=0)
    trainer.fit(steps, progress=False)
    assert all(math.isfinite(v) for v in trainer.history)
    g = torch.Generator().manual_seed(99)
    ratios = {}
    with torch.no_grad():
        for s in SIGMAS:
            x = test + s * torch.randn(test.shape, generator=g)
            mse = float(((trainer.ema(x, s) - test) ** 2).double().mean())
            ratios[s] = mse / gaussian_mmse(S, s)
    # the criterion: within 10% of the MMSE of the optimal (linear) denoiser at three levels
    assert all(abs(r - 1) <= 0.10 for r in ratios.values()), ratios


@pytest.mark.slow
def test_training_reaches_the_gaussian_mmse(gaussian_data):
    _train_and_check(gaussian_data, wavelet=False, steps=400)


@pytest.mark.slow
def test_training_in_the_wavelet_domain_reaches_the_gaussian_mmse(gaussian_data):
    _train_and_check(gaussian_data, wavelet=True, steps=400)


# ---------------------------------------------------------------------- EMA, clipping, warm-up


def test_ema_follows_the_documented_recursion():
    decay, steps = 0.3, 6
    trainer = _trainer(_tiny(0), _data(), ema_decay=decay, warmup_steps=0)
    assert torch.equal(_flat(trainer.ema), _flat(trainer.model))
    assert not trainer.ema.training and not any(p.requires_grad for p in trainer.ema.parameters())
    params = [_flat(trainer.model).double()]
    trainer.fit(
        steps, progress=False, callback=lambda step, loss: params.append(_flat(trainer.model).double())
    )
    ema = params[0]
    for k in range(steps):  # update k (0-based) uses beta_k = min(decay, (1 + k) / (10 + k))
        beta = min(decay, (1 + k) / (10 + k))
        ema = beta * ema + (1 - beta) * params[k + 1]
    assert min(decay, 1 / 10) == 0.1 and min(decay, 6 / 15) == decay  # both regimes are exercised
    got = _flat(trainer.ema).double()
    torch.testing.assert_close(got, ema, rtol=1e-6, atol=1e-6 * float(ema.abs().max()))
    assert not torch.allclose(got, params[-1])  # the EMA is not just the last weights
    for (name, b_ema), b in zip(trainer.ema.named_buffers(), trainer.model.buffers()):
        assert torch.equal(b_ema, b), name


def _record_grads(trainer: Trainer) -> list[list[torch.Tensor]]:
    grads: list[list[torch.Tensor]] = []

    def hook(optimizer, args, kwargs):
        grads.append([p.grad.detach().clone() for g in optimizer.param_groups for p in g["params"]])

    trainer.optimizer.register_step_pre_hook(hook)
    return grads


def _norm(grads: list[torch.Tensor]) -> float:
    return float(torch.sqrt(sum((g.double() ** 2).sum() for g in grads)))


@pytest.mark.parametrize("clip", [1e-8, 1e-3])
def test_gradient_clipping(clip):
    raw_trainer = _trainer(_tiny(0), _data(), grad_clip=None)
    raw = _record_grads(raw_trainer)
    raw_trainer.fit(1, progress=False)
    clipped_trainer = _trainer(_tiny(0), _data(), grad_clip=clip)
    clipped = _record_grads(clipped_trainer)
    clipped_trainer.fit(3, progress=False)

    raw_norm = _norm(raw[0])
    assert raw_norm > 100 * clip  # clipping really has work to do
    for step_grads in clipped:
        assert _norm(step_grads) <= clip * (1 + 1e-6)
    # step 1 sees the same batch and weights: the clipped gradient is the raw one scaled by
    # max_norm / (norm + 1e-6) (torch.nn.utils.clip_grad_norm_)
    scale = clip / (raw_norm + 1e-6)
    for g_clip, g_raw in zip(clipped[0], raw[0]):
        torch.testing.assert_close(g_clip.double(), g_raw.double() * scale, rtol=1e-5, atol=1e-6 * scale)


def test_large_grad_clip_leaves_gradients_unchanged():
    raw_trainer = _trainer(_tiny(0), _data(), grad_clip=None)
    raw = _record_grads(raw_trainer)
    raw_trainer.fit(2, progress=False)
    big = _trainer(_tiny(0), _data(), grad_clip=1e6)
    seen = _record_grads(big)
    big.fit(2, progress=False)
    for a, b in zip(raw, seen):
        assert all(torch.equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("warmup", [0, 4])
def test_warmup_schedule_and_first_adamw_step(warmup):
    lr = 1e-3
    trainer = _trainer(_tiny(0), _data(), lr=lr, warmup_steps=warmup, weight_decay=0.0, grad_clip=None)
    used: list[float] = []
    grads = _record_grads(trainer)
    trainer.optimizer.register_step_pre_hook(lambda opt, a, k: used.append(opt.param_groups[0]["lr"]))
    after: list[float] = []
    before = [p.detach().clone() for p in trainer.model.parameters()]
    snapshots: list[list[torch.Tensor]] = []

    def callback(step, loss):
        after.append(trainer.optimizer.param_groups[0]["lr"])
        snapshots.append([p.detach().clone() for p in trainer.model.parameters()])

    trainer.fit(6, progress=False, callback=callback)
    # step k (1-based) uses lr * min(1, k / warmup); without warm-up, lr throughout
    expected = [lr * min(1.0, k / warmup) if warmup else lr for k in range(1, 7)]
    assert used == pytest.approx(expected, rel=1e-12)
    assert after == pytest.approx(expected, rel=1e-12)
    if warmup:
        assert expected[0] == pytest.approx(lr / 4) and expected[3:] == pytest.approx([lr] * 3)
    # first AdamW step in closed form: m_hat = g, v_hat = g^2, so delta = -lr_1 g / (|g| + eps)
    eps = 1e-8
    for p0, p1, g in zip(before, snapshots[0], grads[0]):
        delta = (p1 - p0).double()
        ref = -expected[0] * g.double() / (g.double().abs() + eps)
        torch.testing.assert_close(delta, ref, rtol=1e-4, atol=1e-6 * expected[0])


# ---------------------------------------------------------------------- residual process


def test_residual_process_training_path():
    clean = torch.randn(32, 1, 16, generator=torch.Generator().manual_seed(3))
    calls: list[int] = []

    def degrade(x, g):
        calls.append(x.shape[0])
        return x + 0.3 * torch.randn(x.shape, generator=g)

    model = _tiny(0, cond_channels=1, process=ResidualProcess(sigma_max=0.5))
    before = _flat(model).clone()
    trainer = Trainer(model, TensorData(clean, degrade=degrade), batch_size=4, lr=1e-3)
    history = trainer.fit(4, progress=False)
    assert len(history) == 4 and all(math.isfinite(v) for v in history)
    assert calls == [4, 4, 4, 4]  # a fresh degradation every step
    assert not torch.equal(_flat(trainer.model), before)
    # an unconditional residual model cannot be trained: the process needs the observation
    plain = Trainer(_tiny(0, process=ResidualProcess()), TensorData(clean), batch_size=4)
    with pytest.raises(errors.ShapeError):
        plain.fit(1, progress=False)


def test_tensor_data_draws_matching_pairs():
    clean = torch.arange(10.0).reshape(10, 1, 1).expand(10, 1, 4).clone()
    cond = -2 * clean
    x0, c = TensorData(clean, cond=cond)(torch.Generator().manual_seed(0), 7)
    assert x0.shape == (7, 1, 4) and torch.equal(c, -2 * x0)
    x0, c = TensorData(clean)(torch.Generator().manual_seed(0), 3)
    assert c is None and x0.shape == (3, 1, 4)


# ---------------------------------------------------------------------- errors


def test_trainer_argument_errors():
    with pytest.raises(errors.InvalidInputError, match="batch_size"):
        Trainer(_tiny(0), _data(), batch_size=0)
    with pytest.raises(errors.InvalidInputError):
        Trainer(_tiny(0), _data(), batch_size=-3)
    clean = torch.randn(10, 1, 16)
    with pytest.raises(errors.InvalidInputError, match="cond"):
        TensorData(clean, cond=torch.randn(9, 1, 16))
    with pytest.raises(errors.InvalidInputError, match="cond"):
        TensorData(clean, cond=torch.randn(10, 1, 15))
    with pytest.raises(errors.InvalidInputError):
        TensorData(clean, cond=torch.randn(10, 2, 16), degrade=lambda x, g: x)
    with pytest.raises(errors.InvalidInputError):
        TensorData(torch.randn(10, 16))
    with pytest.raises(errors.InvalidInputError):
        TensorData(torch.randn(0, 1, 16))
    TensorData(clean, cond=torch.randn(10, 3, 16))  # other channel counts are fine


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present")
def test_cuda_without_cuda_is_a_device_error():
    with pytest.raises(errors.DeviceError, match="cpu"):
        Trainer(_tiny(0), _data(), device="cuda")
    with pytest.raises(RuntimeError):  # DeviceError is a RuntimeError
        Trainer(_tiny(0), _data(), device="cuda:0")


def test_nan_loss_raises_floating_point_error():
    clean = torch.randn(8, 1, 16)
    clean[3, 0, 5] = float("nan")
    trainer = Trainer(_tiny(0), TensorData(clean[3:4].expand(8, 1, 16).clone()), batch_size=2)
    before = _flat(trainer.model).clone()
    with pytest.raises(FloatingPointError, match=r"nan at step 0.*(lr|data)"):
        trainer.fit(3, progress=False)
    assert trainer.step == 0 and trainer.history == []
    assert torch.equal(_flat(trainer.model), before)  # no update was applied


# ---------------------------------------------------------------------- CUDA


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_training_under_bf16_and_checkpoint_round_trip(tmp_path):
    trainer = _trainer(_tiny(0), _data(), device="cuda", ema_decay=0.5)
    history = trainer.fit(3, progress=False)
    assert all(math.isfinite(v) for v in history)
    assert all(p.is_cuda and p.dtype == torch.float32 for p in trainer.model.parameters())
    path = tmp_path / "gpu.safetensors"
    trainer.save(path)
    loaded = load_denoiser(path)  # on the CPU
    for k, v in trainer.ema.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v.cpu()), k
    resumed = _trainer(_tiny(0), _data(), device="cuda", ema_decay=0.5)
    resumed.load(path)
    assert resumed.step == 3
    resumed.fit(4, progress=False)
    assert math.isfinite(resumed.history[-1])
