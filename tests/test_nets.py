"""Tests of :class:`wavediff.nets.UNet` and of the :class:`~wavediff.diffusion.Denoiser` wrapped around it.

References used: the EDM preconditioning formulas (Karras et al. 2022, table 1) written out by hand,
the parameter counts stated in the module's documentation, the wavelet transform's own forward/inverse
composed by hand, per-item independence of a batch (GroupNorm normalises each item separately), and
float16 rounding of the weights done by hand. Nothing is compared with the code's own earlier output.
"""

from __future__ import annotations

import json
import math

import pytest
import torch

from wavediff import errors
from wavediff.diffusion import Denoiser, EDMProcess, ResidualProcess
from wavediff.nets import PRESETS, UNet, count_parameters
from wavediff.wavelets import WaveletTransform


@pytest.fixture(autouse=True, scope="module")
def _single_thread():
    """Tensors here are tiny: one intra-op thread avoids OpenMP oversubscription on busy CI cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# Spatial sizes that are NOT multiples of 2**(len(channels) - 1) = 4 for the presets, so the
# pad-and-crop path runs (one size per axis, several residues mod 4).
ODD_SIZES = {1: (37,), 2: (13, 10), 3: (5, 7, 6)}


def _perturb(module: torch.nn.Module, scale: float = 0.05, seed: int = 0) -> None:
    """Add small Gaussian noise to every parameter (the zero head makes F = 0 at initialisation)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn(p.shape, generator=g, dtype=p.dtype))


def _edm_coefficients(sigma: torch.Tensor, sd: float) -> tuple[torch.Tensor, ...]:
    """EDM table 1 written out in float64: c_skip, c_out, c_in, c_noise."""
    s = sigma.to(torch.float64)
    c_skip = sd**2 / (s**2 + sd**2)
    c_out = s * sd / torch.sqrt(s**2 + sd**2)
    c_in = 1 / torch.sqrt(sd**2 + s**2)
    c_noise = torch.log(s) / 4
    return c_skip, c_out, c_in, c_noise


def _col(t: torch.Tensor, ndim: int) -> torch.Tensor:
    return t.reshape(-1, *([1] * (ndim - 1)))


# ---------------------------------------------------------------------- shapes


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("cond_channels", [0, 2])
@pytest.mark.parametrize("preset", ["tiny", "small"])
def test_output_shape_for_sizes_that_need_padding(dims, cond_channels, preset):
    torch.manual_seed(0)
    size = ODD_SIZES[dims]
    net = UNet(dims=dims, in_channels=3, out_channels=2, cond_channels=cond_channels, preset=preset)
    assert any(n % net.factor for n in size)  # the padding path really runs
    x = torch.randn(2, 3, *size)
    cond = torch.randn(2, cond_channels, *size) if cond_channels else None
    with torch.no_grad():
        out = net(x, torch.randn(2), cond)
    assert out.shape == (2, 2, *size)
    assert out.dtype == x.dtype


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_output_shape_for_multiples_and_out_channels_default(dims):
    torch.manual_seed(0)
    size = {1: (32,), 2: (8, 12), 3: (4, 8, 4)}[dims]
    net = UNet(dims=dims, in_channels=2, preset="tiny")
    with torch.no_grad():
        out = net(torch.randn(3, 2, *size), torch.zeros(3))
    assert out.shape == (3, 2, *size)  # out_channels defaults to in_channels


def test_scalar_c_noise_is_broadcast_to_the_batch():
    torch.manual_seed(0)
    net = UNet(dims=1, in_channels=1, preset="tiny")
    _perturb(net)
    x = torch.randn(4, 1, 24)
    with torch.no_grad():
        a = net(x, torch.tensor(0.3))
        b = net(x, torch.full((4,), 0.3))
    torch.testing.assert_close(a, b, rtol=0, atol=0)


# ---------------------------------------------------------------------- initialisation and gradients


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("cond_channels", [0, 1])
def test_output_is_exactly_zero_at_initialisation(dims, cond_channels):
    torch.manual_seed(1)
    size = ODD_SIZES[dims]
    net = UNet(dims=dims, in_channels=1, cond_channels=cond_channels, preset="tiny")
    x = torch.randn(3, 1, *size)
    cond = torch.randn(3, 1, *size) if cond_channels else None
    with torch.no_grad():
        out = net(x, torch.randn(3), cond)
    assert torch.count_nonzero(out) == 0


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("sd", [0.5, 1.0])
def test_denoiser_at_initialisation_is_c_skip_times_x(dims, sd):
    """F = 0, so D(x, sigma) = c_skip(sigma) x with c_skip = sd^2 / (sigma^2 + sd^2)."""
    torch.manual_seed(2)
    size = ODD_SIZES[dims]
    D = Denoiser(UNet(dims=dims, in_channels=1, preset="tiny"), EDMProcess(sigma_data=sd))
    x = torch.randn(4, 1, *size)
    sigma = torch.tensor([0.002, 0.3, 1.0, 80.0])
    with torch.no_grad():
        out = D(x, sigma)
    c_skip = sd**2 / (sigma.double() ** 2 + sd**2)
    expected = _col(c_skip, x.ndim) * x.double()
    torch.testing.assert_close(out.double(), expected, rtol=1e-6, atol=1e-7)
    # a scalar sigma is one level for the whole batch
    with torch.no_grad():
        out = D(x, 0.7)
    torch.testing.assert_close(out.double(), sd**2 / (0.49 + sd**2) * x.double(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("preset", ["tiny", "small"])
def test_gradients_reach_every_parameter(dims, preset):
    """After perturbing every parameter (the zero head would block the gradient), all get a gradient."""
    torch.manual_seed(3)
    size = ODD_SIZES[dims]
    net = UNet(dims=dims, in_channels=2, cond_channels=1, preset=preset)
    _perturb(net)
    x = torch.randn(2, 2, *size)
    cond = torch.randn(2, 1, *size)
    net(x, torch.randn(2), cond).square().sum().backward()
    for name, p in net.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        assert p.grad.abs().max() > 0, name
    # the Fourier frequencies are a fixed buffer, not trained
    assert "embed.freqs" not in dict(net.named_parameters())
    assert "embed.freqs" in dict(net.named_buffers())


def test_gradient_through_denoiser_reaches_the_net_and_the_input():
    torch.manual_seed(4)
    D = Denoiser(UNet(dims=2, in_channels=1, preset="tiny"), EDMProcess(sigma_data=0.5))
    _perturb(D)
    x = torch.randn(2, 1, 12, 9, requires_grad=True)
    D(x, torch.tensor([0.5, 2.0])).sum().backward()
    assert x.grad is not None and x.grad.abs().max() > 0
    assert all(p.grad is not None and p.grad.abs().max() > 0 for p in D.parameters())


# ---------------------------------------------------------------------- noise level and condition


def test_noise_level_embedding_changes_the_output():
    torch.manual_seed(5)
    net = UNet(dims=1, in_channels=1, preset="tiny")
    _perturb(net)
    x = torch.randn(1, 1, 40)
    with torch.no_grad():
        outs = [net(x, torch.tensor([c])) for c in (-1.0, 0.0, 0.25, 1.0)]
    for i in range(len(outs)):
        for j in range(i + 1, len(outs)):
            assert (outs[i] - outs[j]).abs().max() > 1e-4


def test_batch_items_are_independent_and_get_their_own_noise_level():
    """GroupNorm and attention act per item: item i of a batch equals item i computed alone."""
    torch.manual_seed(6)
    net = UNet(dims=2, in_channels=1, preset="small")  # with attention
    _perturb(net)
    net = net.double()  # float64: batched and single-item kernels then agree to ~1e-15
    x = torch.randn(3, 1, 10, 13, dtype=torch.float64)
    c = torch.tensor([-1.0, 0.0, 1.0], dtype=torch.float64)
    with torch.no_grad():
        batch = net(x, c)
        for i in range(3):
            torch.testing.assert_close(
                batch[i : i + 1], net(x[i : i + 1], c[i : i + 1]), rtol=1e-10, atol=1e-12
            )
        # the same input with a different level per item gives different outputs
        same = net(x[:1].expand(3, -1, -1, -1), c)
    assert (same[0] - same[1]).abs().max() > 1e-4 and (same[1] - same[2]).abs().max() > 1e-4


@pytest.mark.parametrize("dims", [1, 2])
def test_attention_block_is_permutation_equivariant(dims):
    """Self-attention without positional encoding commutes with any permutation of the positions."""
    from wavediff.nets import Attention

    torch.manual_seed(16)
    att = Attention(dims, 64, groups=8).double()
    _perturb(att, scale=0.2)
    assert att.heads == 2
    size = (12,) if dims == 1 else (4, 5)
    x = torch.randn(2, 64, *size, dtype=torch.float64)
    n = math.prod(size)
    perm = torch.randperm(n)
    with torch.no_grad():
        out = att(x).reshape(2, 64, n)
        out_perm = att(x.reshape(2, 64, n)[..., perm].reshape(x.shape)).reshape(2, 64, n)
    torch.testing.assert_close(out_perm, out[..., perm], rtol=1e-10, atol=1e-12)
    assert (out - x.reshape(2, 64, n) / math.sqrt(2)).abs().max() > 1e-3  # attention contributes


@pytest.mark.parametrize("dims", [1, 2])
def test_conditional_net_depends_on_cond(dims):
    torch.manual_seed(7)
    size = ODD_SIZES[dims]
    net = UNet(dims=dims, in_channels=1, cond_channels=2, preset="tiny")
    _perturb(net)
    x = torch.randn(2, 1, *size)
    cond = torch.randn(2, 2, *size)
    with torch.no_grad():
        a = net(x, torch.zeros(2), cond)
        b = net(x, torch.zeros(2), cond + torch.randn(cond.shape))
        c = net(x, torch.zeros(2), cond.clone())
    assert (a - b).abs().max() > 1e-4
    torch.testing.assert_close(a, c, rtol=0, atol=0)


def test_shape_and_config_errors():
    torch.manual_seed(8)
    uncond = UNet(dims=1, in_channels=1, preset="tiny")
    cond_net = UNet(dims=1, in_channels=1, cond_channels=1, preset="tiny")
    x = torch.randn(2, 1, 16)
    c = torch.zeros(2)
    with pytest.raises(errors.ShapeError, match="cond_channels=0"):
        uncond(x, c, torch.randn(2, 1, 16))
    with pytest.raises(errors.ShapeError, match="needs cond"):
        cond_net(x, c)
    with pytest.raises(errors.ShapeError):
        cond_net(x, c, torch.randn(2, 2, 16))  # wrong cond channel count
    with pytest.raises(errors.ShapeError):
        cond_net(x, c, torch.randn(2, 1, 15))  # cond not shaped like x
    with pytest.raises(errors.ShapeError, match="expects"):
        uncond(torch.randn(2, 3, 16), c)  # wrong input channel count
    with pytest.raises(errors.ShapeError):
        uncond(torch.randn(2, 1, 16, 16), c)  # 2-D input for a 1-D net
    with pytest.raises(errors.ShapeError):
        uncond(torch.randn(1, 16), c)
    # ShapeError is an InvalidInputError is a ValueError
    assert issubclass(errors.ShapeError, ValueError)

    for bad in (0, 4, "2"):
        with pytest.raises(errors.ConfigError, match="dims"):
            UNet(dims=bad)
    with pytest.raises(errors.ConfigError, match="preset"):
        UNet(dims=1, preset="huge")
    with pytest.raises(errors.ConfigError):
        UNet(dims=1, in_channels=0, preset="tiny")
    with pytest.raises(errors.ConfigError):
        UNet(dims=1, cond_channels=-1, preset="tiny")
    with pytest.raises(errors.ConfigError):
        UNet(dims=1, channels=(), preset="tiny")
    with pytest.raises(errors.ConfigError):
        UNet(dims=1, blocks=0, preset="tiny")


def test_denoiser_shape_errors():
    torch.manual_seed(9)
    D = Denoiser(UNet(dims=1, in_channels=1, cond_channels=1, preset="tiny"), EDMProcess())
    x = torch.randn(3, 1, 16)
    with pytest.raises(errors.ShapeError, match="sigma"):
        D(x, torch.ones(2), torch.randn(3, 1, 16))
    with pytest.raises(errors.ShapeError, match="cond"):
        D(x, 1.0, torch.randn(2, 1, 16))
    with pytest.raises(errors.ShapeError, match="cond"):
        D(x, 1.0, torch.randn(3, 1, 17))
    with pytest.raises(errors.ShapeError):
        D(x, 1.0)  # the net needs a condition


# ---------------------------------------------------------------------- presets and config

# The counts written in the module comment and in the UNet docstring, in millions, with the number of
# decimals they are written with (in_channels = out_channels = 1, no condition).
DOCUMENTED_COUNTS = {
    "tiny": ((0.14, 0.29, 0.74), 2),
    "small": ((0.55, 1.15, 2.96), 2),
    "base": ((4.7, 10.3, 27.2), 1),
}


@pytest.mark.parametrize("preset", sorted(DOCUMENTED_COUNTS))
def test_preset_parameter_counts_match_the_documentation(preset):
    import wavediff.nets as nets_module

    counts, decimals = DOCUMENTED_COUNTS[preset]
    for dims, documented in zip((1, 2, 3), counts):
        net = UNet(dims=dims, in_channels=1, preset=preset)
        n = count_parameters(net)
        assert n == sum(p.numel() for p in net.parameters())
        assert round(n / 1e6, decimals) == documented, (preset, dims, n)
    # the figures tested here are the ones the docs state
    written = f"{preset} " + " / ".join(f"{c:.{decimals}f}" for c in counts) + " M"
    assert written in " ".join(nets_module.UNet.__doc__.split())
    assert set(PRESETS) == set(DOCUMENTED_COUNTS)


def test_overrides_replace_preset_values():
    net = UNet(dims=1, in_channels=1, preset="small", channels=(8, 16), blocks=2, attention=False, emb_dim=32)
    assert net.config["channels"] == [8, 16] and net.config["blocks"] == 2
    assert net.config["attention"] is False and net.config["emb_dim"] == 32
    assert net.factor == 2
    assert not any(type(m).__name__ == "Attention" for m in net.modules())
    assert any(type(m).__name__ == "Attention" for m in UNet(dims=1, preset="small").modules())
    with torch.no_grad():
        assert net(torch.randn(2, 1, 11), torch.zeros(2)).shape == (2, 1, 11)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"dims": 1, "in_channels": 2, "preset": "tiny"},
        {"dims": 2, "in_channels": 4, "out_channels": 2, "cond_channels": 3, "preset": "small"},
        {"dims": 3, "in_channels": 1, "preset": "tiny", "channels": (8, 16), "blocks": 2, "dropout": 0.1},
    ],
)
def test_config_rebuilds_an_identical_architecture(kwargs):
    net = UNet(**kwargs)
    config = json.loads(json.dumps(net.config))  # JSON-serialisable as it is stored in checkpoints
    rebuilt = UNet(**config)
    a, b = net.state_dict(), rebuilt.state_dict()
    assert list(a) == list(b)
    assert all(a[k].shape == b[k].shape and a[k].dtype == b[k].dtype for k in a)
    rebuilt.load_state_dict(a)
    assert rebuilt.config == net.config


# ---------------------------------------------------------------------- denoiser: preconditioning, wavelets


def test_denoiser_matches_the_edm_formula_by_hand():
    """D = c_skip x + c_out F(c_in x; c_noise) with the table-1 coefficients computed here."""
    torch.manual_seed(10)
    sd = 0.5
    net = UNet(dims=1, in_channels=1, cond_channels=1, preset="tiny")
    _perturb(net)
    D = Denoiser(net, EDMProcess(sigma_data=sd))
    x = torch.randn(4, 1, 30)
    cond = torch.randn(4, 1, 30)
    sigma = torch.tensor([0.01, 0.4, 2.5, 30.0])
    c_skip, c_out, c_in, c_noise = (_col(c, 3) for c in _edm_coefficients(sigma, sd))
    with torch.no_grad():
        F = net((c_in * x.double()).float(), c_noise.flatten().float(), cond).double()
        expected = c_skip * x.double() + c_out * F
        out = D(x, sigma, cond).double()
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("conditional", [False, True])
def test_wavelet_denoiser_matches_manual_computation(conditional):
    torch.manual_seed(11)
    sd = 1.0
    wt = WaveletTransform("haar", 1, dims=2)
    net = UNet(dims=2, in_channels=4, cond_channels=4 if conditional else 0, preset="tiny")
    _perturb(net)
    D = Denoiser(net, EDMProcess(sigma_data=sd), wavelet=wt)
    x = torch.randn(3, 1, 16, 24)
    cond = torch.randn(3, 1, 16, 24) if conditional else None
    sigma = torch.tensor([0.05, 0.7, 5.0])
    c_skip, c_out, c_in, c_noise = (_col(c, 4) for c in _edm_coefficients(sigma, sd))
    with torch.no_grad():
        packed = wt.forward((c_in * x.double()).float())
        assert packed.shape == (3, 4, 8, 12)
        F = net(packed, c_noise.flatten().float(), None if cond is None else wt.forward(cond))
        expected = c_skip * x.double() + c_out * wt.inverse(F).double()
        out = D(x, sigma, cond)
    assert out.shape == x.shape
    torch.testing.assert_close(out.double(), expected, rtol=1e-5, atol=1e-5)
    # the wavelet path is not the identity: F in the data domain differs from F on coefficients
    assert (wt.inverse(F) - F.reshape(3, 1, 16, 24)).abs().max() > 1e-3


@pytest.mark.parametrize("conditional", [False, True])
def test_wavelet_denoiser_pads_and_crops_back(conditional):
    """30 x 34 with haar level 2 pads to 32 x 36 (packed 8 x 9, itself padded inside the UNet)."""
    torch.manual_seed(12)
    wt = WaveletTransform("haar", 2, dims=2)
    net = UNet(dims=2, in_channels=16, cond_channels=16 if conditional else 0, preset="tiny")
    _perturb(net)
    D = Denoiser(net, EDMProcess(sigma_data=0.5), wavelet=wt)
    x = torch.randn(2, 1, 30, 34)
    cond = torch.randn(2, 1, 30, 34) if conditional else None
    sigma = torch.tensor([0.3, 3.0])
    c_skip, c_out, c_in, c_noise = (_col(c, 4) for c in _edm_coefficients(sigma, 0.5))
    with torch.no_grad():
        out = D(x, sigma, cond)
        packed = wt.forward((c_in * x.double()).float())
        assert packed.shape == (2, 16, 8, 9)  # 30 x 34 padded to 32 x 36, then / 4
        F = net(packed, c_noise.flatten().float(), None if cond is None else wt.forward(cond))
        expected = c_skip * x.double() + c_out * wt.inverse(F, size=(30, 34)).double()
    assert out.shape == x.shape
    torch.testing.assert_close(out.double(), expected, rtol=1e-5, atol=1e-5)


def test_wavelet_denoiser_at_initialisation_is_c_skip_times_x():
    torch.manual_seed(13)
    D = Denoiser(
        UNet(dims=1, in_channels=2, preset="tiny"),
        EDMProcess(sigma_data=1.0),
        wavelet=WaveletTransform("haar", 1, dims=1),
    )
    x = torch.randn(3, 1, 50)
    sigma = torch.tensor([0.1, 1.0, 10.0])
    with torch.no_grad():
        out = D(x, sigma)
    torch.testing.assert_close(
        out.double(), _col(1 / (sigma.double() ** 2 + 1), 3) * x.double(), rtol=1e-6, atol=1e-7
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda: Denoiser(UNet(dims=1, in_channels=1, preset="tiny"), EDMProcess(sigma_data=0.7, P_mean=-0.5)),
        lambda: Denoiser(
            UNet(dims=2, in_channels=4, cond_channels=8, preset="tiny", channels=(8, 16)),
            ResidualProcess(sigma_max=0.8),
            wavelet=WaveletTransform("db2", 1, dims=2, pad_mode="replicate"),
            amp=False,
        ),
    ],
)
def test_denoiser_config_round_trip(make):
    torch.manual_seed(14)
    D = make()
    _perturb(D)
    config = json.loads(json.dumps(D.config()))
    rebuilt = Denoiser.from_config(config)
    assert rebuilt.config() == D.config()
    assert type(rebuilt.process) is type(D.process) and rebuilt.process == D.process
    assert rebuilt.amp == D.amp
    rebuilt.load_state_dict(D.state_dict())
    D.eval()
    rebuilt.eval()
    cond_ch = D.net.config["cond_channels"]
    n_sub = 1 if D.wavelet is None else D.wavelet.n_subbands
    shape = (3, 1, 20) if D.net.dims == 1 else (3, 1, 14, 18)
    x = torch.randn(shape)
    cond = torch.randn(shape[0], cond_ch // n_sub, *shape[2:]) if cond_ch else None
    sigma = torch.tensor([0.05, 0.5, 0.79])
    with torch.no_grad():
        a, b = D(x, sigma, cond), rebuilt(x, sigma, cond)
    assert torch.equal(a, b)


# ---------------------------------------------------------------------- CUDA


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_bf16_autocast_keeps_skip_path_in_full_precision():
    torch.manual_seed(15)
    sd = 0.5
    D = Denoiser(UNet(dims=2, in_channels=1, preset="tiny"), EDMProcess(sigma_data=sd)).cuda()
    x = torch.randn(4, 1, 30, 22, device="cuda")
    sigma = torch.tensor([0.01, 0.3, 1.0, 20.0], device="cuda")
    with torch.no_grad():
        out = D(x, sigma)
    # F = 0 at initialisation: D = c_skip x, in float32 although the net runs in bf16
    assert out.dtype == torch.float32
    expected = _col(sd**2 / (sigma.double() ** 2 + sd**2), 4) * x.double()
    torch.testing.assert_close(out.double(), expected, rtol=1e-6, atol=1e-7)

    _perturb(D)
    cpu = Denoiser.from_config(D.config())
    cpu.load_state_dict({k: v.cpu() for k, v in D.state_dict().items()})
    with torch.no_grad():
        gpu_out = D(x, sigma)
        ref = cpu(x.cpu(), sigma.cpu())
    assert gpu_out.dtype == torch.float32 and torch.isfinite(gpu_out).all()
    c_skip = _col(sd**2 / (sigma.cpu() ** 2 + sd**2), 4)
    F_part = ref - c_skip * x.cpu()
    # bfloat16 keeps 8 significant bits (2^-8 ~ 3.9e-3 relative); a few dozen layers stay within 5e-2
    err = (gpu_out.cpu() - ref).abs().max()
    assert err <= 5e-2 * F_part.abs().max()
    # with amp=False the CUDA net runs in float32 (TF32 convolutions allowed: ~1e-3 relative)
    D.amp = False
    with torch.no_grad():
        fp32_out = D(x, sigma)
    assert (fp32_out.cpu() - ref).abs().max() <= 1e-2 * F_part.abs().max()
    assert math.isfinite(float(err))
