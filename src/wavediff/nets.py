"""One UNet for 1-D, 2-D and 3-D data: the raw network ``F(x, c_noise, cond)`` of the EDM denoiser.

Residual blocks with GroupNorm, a noise-level embedding (random Fourier features of ``c_noise =
log(sigma) / 4``, then an MLP) applied to every block by FiLM (per-channel scale and shift), optional
self-attention at the coarsest level, and extra input channels for conditioning (the degraded
observation, masks), concatenated to the input. The convolution dimension is a parameter, so the same
class serves EEG traces, images and volumes, in the sample domain or on packed wavelet coefficients.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .errors import ConfigError, ShapeError

__all__ = ["UNet", "PRESETS"]

# Parameter counts (in_channels = out_channels = 1, no condition), 1-D / 2-D / 3-D:
#   tiny  0.14 M / 0.29 M / 0.74 M   tests, quick CPU experiments
#   small 0.55 M / 1.15 M / 2.96 M   default for shipped room models trained on CPU (a few MB)
#   base  4.7 M  / 10.3 M / 27.2 M   training on a GPU
PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {"channels": (16, 32, 32), "blocks": 1, "attention": False, "emb_dim": 64},
    "small": {"channels": (32, 64, 64), "blocks": 1, "attention": True, "emb_dim": 128},
    "base": {"channels": (64, 128, 192), "blocks": 2, "attention": True, "emb_dim": 256},
}


def _conv(dims: int, cin: int, cout: int, kernel: int = 3, stride: int = 1) -> nn.Module:
    return getattr(nn, f"Conv{dims}d")(cin, cout, kernel, stride=stride, padding=kernel // 2)


def _groups(channels: int, groups: int) -> int:
    g = min(groups, channels)
    while channels % g:
        g -= 1
    return g


class FourierEmbedding(nn.Module):
    """Random Fourier features ``[cos(2 pi f c), sin(2 pi f c)]`` of a scalar per batch item."""

    def __init__(self, n_features: int, scale: float = 16.0, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.register_buffer("freqs", torch.randn(n_features // 2, generator=g) * scale)

    def forward(self, c: torch.Tensor) -> torch.Tensor:
        arg = 2 * math.pi * c[:, None].to(self.freqs.dtype) * self.freqs[None]
        return torch.cat([arg.cos(), arg.sin()], dim=1)


class ResBlock(nn.Module):
    """GroupNorm - SiLU - conv - GroupNorm - FiLM(emb) - SiLU - dropout - conv, plus a skip path."""

    def __init__(self, dims: int, cin: int, cout: int, emb_dim: int, groups: int, dropout: float):
        super().__init__()
        self.norm1 = nn.GroupNorm(_groups(cin, groups), cin)
        self.conv1 = _conv(dims, cin, cout)
        self.film = nn.Linear(emb_dim, 2 * cout)
        self.norm2 = nn.GroupNorm(_groups(cout, groups), cout)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = _conv(dims, cout, cout)
        self.skip = _conv(dims, cin, cout, kernel=1) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.film(emb).chunk(2, dim=1)
        shape = (*scale.shape, *([1] * (x.ndim - 2)))
        h = self.norm2(h) * (1 + scale.reshape(shape)) + shift.reshape(shape)
        h = self.conv2(self.dropout(F.silu(h)))
        return (h + self.skip(x)) / math.sqrt(2)


class Attention(nn.Module):
    """Multi-head self-attention over all positions (used at the coarsest resolution only)."""

    def __init__(self, dims: int, channels: int, groups: int, head_dim: int = 32):
        super().__init__()
        self.heads = max(1, channels // head_dim)
        self.norm = nn.GroupNorm(_groups(channels, groups), channels)
        self.qkv = _conv(dims, channels, 3 * channels, kernel=1)
        self.proj = _conv(dims, channels, channels, kernel=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c = x.shape[:2]
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, self.heads, c // self.heads, -1).unbind(1)
        out = F.scaled_dot_product_attention(q.transpose(-1, -2), k.transpose(-1, -2), v.transpose(-1, -2))
        out = out.transpose(-1, -2).reshape(x.shape)
        return (x + self.proj(out)) / math.sqrt(2)


class UNet(nn.Module):
    """UNet over ``dims`` spatial axes with noise-level FiLM conditioning.

    Parameters
    ----------
    dims : {1, 2, 3}
        Number of spatial axes (convolution dimension).
    in_channels : int
        Channels of the noisy input (packed wavelet channels when used on coefficients).
    out_channels : int, optional
        Defaults to ``in_channels``.
    cond_channels : int
        Extra conditioning channels concatenated to the input (0 for an unconditional prior).
    preset : {'tiny', 'small', 'base'}
        Size preset (see :data:`PRESETS`); ``channels``/``blocks``/``attention``/``emb_dim`` override it.
        Parameters with one input channel (1-D / 2-D / 3-D): tiny 0.14 / 0.29 / 0.74 M,
        small 0.55 / 1.15 / 2.96 M, base 4.7 / 10.3 / 27.2 M.
    channels : tuple of int
        Width at each resolution; the input is downsampled ``len(channels) - 1`` times.
    blocks : int
        Residual blocks per resolution.
    attention : bool
        Self-attention at the coarsest resolution.
    dropout : float
        Dropout inside the residual blocks.

    Sizes that are not multiples of ``2**(len(channels) - 1)`` are padded inside and cropped back.

    Examples
    --------
    >>> net = UNet(dims=1, in_channels=2, cond_channels=2, preset="tiny")
    >>> net(torch.randn(4, 2, 100), torch.zeros(4), torch.randn(4, 2, 100)).shape
    torch.Size([4, 2, 100])
    """

    def __init__(
        self,
        dims: int = 2,
        in_channels: int = 1,
        out_channels: int | None = None,
        cond_channels: int = 0,
        preset: str = "small",
        channels: tuple[int, ...] | list[int] | None = None,
        blocks: int | None = None,
        attention: bool | None = None,
        emb_dim: int | None = None,
        groups: int = 8,
        dropout: float = 0.0,
    ):
        super().__init__()
        if dims not in (1, 2, 3):
            raise ConfigError(f"dims={dims!r}; use 1, 2 or 3")
        if preset not in PRESETS:
            raise ConfigError(f"unknown preset {preset!r}; use one of {sorted(PRESETS)}")
        p = PRESETS[preset]
        channels = tuple(p["channels"] if channels is None else channels)
        blocks = p["blocks"] if blocks is None else int(blocks)
        attention = p["attention"] if attention is None else bool(attention)
        emb_dim = p["emb_dim"] if emb_dim is None else int(emb_dim)
        out_channels = in_channels if out_channels is None else out_channels
        if in_channels < 1 or out_channels < 1 or cond_channels < 0 or not channels or blocks < 1:
            raise ConfigError("in/out channels and blocks must be >= 1, cond_channels >= 0, channels non-empty")
        self.config = {
            "dims": dims, "in_channels": in_channels, "out_channels": out_channels, "cond_channels": cond_channels,
            "preset": preset, "channels": list(channels), "blocks": blocks, "attention": attention,
            "emb_dim": emb_dim, "groups": groups, "dropout": dropout,
        }  # fmt: skip
        self.dims, self.in_channels, self.cond_channels = dims, in_channels, cond_channels
        self.factor = 2 ** (len(channels) - 1)

        self.embed = FourierEmbedding(emb_dim)
        self.emb_mlp = nn.Sequential(nn.Linear(emb_dim, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.stem = _conv(dims, in_channels + cond_channels, channels[0])

        self.down = nn.ModuleList()
        skips = [channels[0]]
        width = channels[0]
        for level, ch in enumerate(channels):
            for _ in range(blocks):
                self.down.append(ResBlock(dims, width, ch, emb_dim, groups, dropout))
                width = ch
                skips.append(width)
            if level < len(channels) - 1:
                self.down.append(_conv(dims, width, width, stride=2))
                skips.append(width)
        self.mid1 = ResBlock(dims, width, width, emb_dim, groups, dropout)
        self.mid_attn = Attention(dims, width, groups) if attention else nn.Identity()
        self.mid2 = ResBlock(dims, width, width, emb_dim, groups, dropout)

        self.up = nn.ModuleList()
        for level, ch in reversed(list(enumerate(channels))):
            for _ in range(blocks + 1):
                self.up.append(ResBlock(dims, width + skips.pop(), ch, emb_dim, groups, dropout))
                width = ch
            if level > 0:
                self.up.append(_Upsample(dims, width))
        self.head = nn.Sequential(nn.GroupNorm(_groups(width, groups), width), nn.SiLU(), _conv(dims, width, out_channels))
        nn.init.zeros_(self.head[-1].weight)  # start as F = 0, i.e. D = c_skip x
        nn.init.zeros_(self.head[-1].bias)

    def forward(self, x: torch.Tensor, c_noise: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        if x.ndim != self.dims + 2 or x.shape[1] != self.in_channels:
            raise ShapeError(
                f"input has shape {tuple(x.shape)}; this UNet expects (batch, {self.in_channels}{', n' * self.dims})"
            )
        if self.cond_channels:
            if cond is None or cond.shape[1] != self.cond_channels or cond.shape[2:] != x.shape[2:]:
                got = None if cond is None else tuple(cond.shape)
                raise ShapeError(f"this UNet needs cond with {self.cond_channels} channels shaped like x; got {got}")
            x = torch.cat([x, cond], dim=1)
        elif cond is not None:
            raise ShapeError("this UNet was built with cond_channels=0 but a condition was passed")
        size = x.shape[2:]
        pads = []
        for n in reversed(size):
            pads += [0, (-n) % self.factor]
        if any(pads):
            x = F.pad(x, pads, mode="replicate")
        emb = self.emb_mlp(self.embed(c_noise.reshape(-1).expand(x.shape[0])))

        h = self.stem(x)
        hs = [h]
        for layer in self.down:
            h = layer(h, emb) if isinstance(layer, ResBlock) else layer(h)
            hs.append(h)
        h = self.mid2(self.mid_attn(self.mid1(h, emb)), emb)
        for layer in self.up:
            h = layer(torch.cat([h, hs.pop()], dim=1), emb) if isinstance(layer, ResBlock) else layer(h)
        out = self.head(h)
        return out[(slice(None), slice(None), *(slice(0, n) for n in size))]


class _Upsample(nn.Module):
    def __init__(self, dims: int, channels: int):
        super().__init__()
        self.conv = _conv(dims, channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
