"""The EDM-preconditioned denoiser ``D(x, sigma, cond)``.

One module serves as (a) a one-step MMSE denoiser for Gaussian noise of known level, (b) the prior of a
diffusion sampler, (c) a conditional restorer when ``cond`` (the degraded observation, masks, ...) is
given. With a :class:`~wavediff.wavelets.WaveletTransform` the network sees packed wavelet coefficients
of its input and condition; because the transform is orthonormal, noise of level sigma in the data is
noise of level sigma in the coefficients, so nothing else changes: samplers, losses and guidance work on
data-domain tensors whichever domain the network works in.
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch
from torch import nn

from ..errors import ShapeError
from ..wavelets import WaveletTransform
from .process import EDMProcess, process_from_config

__all__ = ["Denoiser"]


class Denoiser(nn.Module):
    """``D(x; sigma, cond) = c_skip x + c_out F(c_in x; c_noise, cond)`` (EDM eq. 7).

    Parameters
    ----------
    net : nn.Module
        Raw network ``F(x, c_noise, cond)`` (e.g. :class:`wavediff.nets.UNet`). In the wavelet domain
        its ``in_channels``/``out_channels``/``cond_channels`` count packed channels.
    process : EDMProcess
        Supplies the preconditioning.
    wavelet : WaveletTransform, optional
        When given, ``F`` runs on packed wavelet coefficients of ``c_in x`` and of ``cond``.
    amp : bool
        Run ``F`` under bfloat16 autocast when on CUDA (the skip path stays in full precision).
    layout : dict, optional
        What the model was trained on, for whoever restores with it: ``{"room": name, "settings":
        {...}}``, the room's layout settings (its recipe's ``[data]`` keys: rate, window, overlap,
        context...). Recorded in :meth:`config`, so a checkpoint rebuilds the room it was made for.

    Examples
    --------
    >>> import torch
    >>> from wavediff.nets import UNet
    >>> from wavediff.diffusion import Denoiser, EDMProcess
    >>> net = UNet(dims=1, in_channels=2, preset="tiny")        # 1 channel x haar level 1
    >>> D = Denoiser(net, EDMProcess(sigma_data=1.0), wavelet=WaveletTransform("haar", 1, dims=1))
    >>> D(torch.randn(3, 1, 64), torch.full((3,), 0.5)).shape
    torch.Size([3, 1, 64])
    """

    def __init__(
        self,
        net: nn.Module,
        process: EDMProcess,
        wavelet: WaveletTransform | None = None,
        amp: bool = True,
        layout: dict[str, Any] | None = None,
    ):
        super().__init__()
        self.net = net
        self.process = process
        self.wavelet = wavelet
        self.amp = amp
        self.layout = None if layout is None else {"room": str(layout["room"]), "settings": dict(layout.get("settings", {}))}

    def forward(self, x: torch.Tensor, sigma: torch.Tensor | float, cond: torch.Tensor | None = None) -> torch.Tensor:
        sigma = torch.as_tensor(sigma, dtype=x.dtype, device=x.device)
        if sigma.ndim == 0:
            sigma = sigma.expand(x.shape[0])
        if sigma.shape != (x.shape[0],):
            raise ShapeError(f"sigma has shape {tuple(sigma.shape)}; pass a scalar or one level per batch item ({x.shape[0]})")
        if cond is not None and (cond.shape[0] != x.shape[0] or cond.shape[2:] != x.shape[2:]):
            raise ShapeError(f"cond has shape {tuple(cond.shape)}; it must match x {tuple(x.shape)} except in channels")
        c_skip, c_out, c_in, c_noise = (c.reshape(-1, *([1] * (x.ndim - 1))) for c in self.process.preconditioning(sigma))
        param = next(self.net.parameters())
        # the network's dtype before the transform: a float64 sampler state costs no float64 wavelet passes
        net_in = (c_in * x).to(param.dtype)
        net_cond = None if cond is None else cond.to(param.dtype)
        if self.wavelet is not None:
            net_in = self.wavelet.forward(net_in)
            net_cond = None if net_cond is None else self.wavelet.forward(net_cond)
        autocast = (
            torch.autocast("cuda", dtype=torch.bfloat16)
            if self.amp and param.is_cuda
            else contextlib.nullcontext()
        )
        with autocast:
            out = self.net(net_in, c_noise.flatten().to(param.dtype), net_cond)
        if self.wavelet is not None:
            out = self.wavelet.inverse(out.to(param.dtype), size=tuple(x.shape[2:]))
        return c_skip * x + c_out * out.to(x.dtype)

    @property
    def data_channels(self) -> int:
        """Channels of ``x`` (the restored signal); ``cond`` may have more (the observation first, then context)."""
        packed = int(self.net.config["in_channels"])
        return packed if self.wavelet is None else packed // (2 ** (self.wavelet.dims * self.wavelet.level))

    @property
    def condition_channels(self) -> int:
        """Channels of ``cond``: the observation (``data_channels``) followed by any context channels."""
        packed = int(self.net.config.get("cond_channels", 0))
        return packed if self.wavelet is None else packed // (2 ** (self.wavelet.dims * self.wavelet.level))

    # ------------------------------------------------------------------ config
    def config(self) -> dict[str, Any]:
        """JSON-serialisable description from which :meth:`from_config` rebuilds the module."""
        wt = self.wavelet
        config = {
            "net": dict(self.net.config),
            "process": self.process.config(),
            "wavelet": None if wt is None else {"wavelet": wt.wavelet.name, "level": wt.level, "dims": wt.dims, "pad_mode": wt.pad_mode},
            "amp": self.amp,
        }
        if self.layout is not None:
            config["layout"] = {"room": self.layout["room"], "settings": dict(self.layout["settings"])}
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Denoiser:
        from ..nets import UNet

        wt = config.get("wavelet")
        if wt is not None and "dim" in wt:  # checkpoints written before the keyword became ``dims``
            wt = {("dims" if k == "dim" else k): v for k, v in wt.items()}
        return cls(
            UNet(**config["net"]),
            process_from_config(config["process"]),
            None if wt is None else WaveletTransform(**wt),
            amp=config.get("amp", True),
            layout=config.get("layout"),
        )
