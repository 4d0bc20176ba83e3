"""Tiny denoisers, data and trainers shared by test_training.py, test_checkpoints.py and test_ddp.py."""

from __future__ import annotations

import torch

from wavediff.diffusion import Denoiser, EDMProcess
from wavediff.nets import UNet
from wavediff.training import TensorData, Trainer


def _tiny(
    seed: int = 0,
    dims: int = 1,
    in_channels: int = 1,
    cond_channels: int = 0,
    process=None,
    wavelet=None,
    **kw,
) -> Denoiser:
    torch.manual_seed(seed)
    net = UNet(dims=dims, in_channels=in_channels, cond_channels=cond_channels, preset="tiny", **kw)
    return Denoiser(net, process or EDMProcess(sigma_data=1.0), wavelet=wavelet)


def _data(n: int = 64, length: int = 16, seed: int = 123) -> TensorData:
    return TensorData(torch.randn(n, 1, length, generator=torch.Generator().manual_seed(seed)))


def _flat(module: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in module.parameters()])


def _trainer(model: Denoiser, data, **kw) -> Trainer:
    opts = dict(
        batch_size=4, lr=1e-3, warmup_steps=4, ema_decay=0.9, grad_clip=0.5, weight_decay=0.01, seed=5
    )
    opts.update(kw)
    return Trainer(model, data, **opts)
