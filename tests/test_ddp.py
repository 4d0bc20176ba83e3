"""Tests of :class:`wavediff.training.Trainer` under DistributedDataParallel (two CPU processes).

Reference used: a single-process replay of a two-process DDP run with gradients averaged by hand.
Nothing is compared with the code's own earlier output.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest
import torch
from _threads import _single_thread  # noqa: F401
from _training_helpers import _flat
from safetensors.torch import load_file

from wavediff.diffusion import Denoiser, EDMProcess
from wavediff.nets import UNet
from wavediff.training import TensorData

# ---------------------------------------------------------------------- DDP

DDP_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    import torch
    import torch.distributed as dist
    from safetensors.torch import save_file
    from wavediff.diffusion import Denoiser, EDMProcess
    from wavediff.nets import UNet
    from wavediff.training import TensorData, Trainer

    out = sys.argv[1]
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = Denoiser(UNet(dims=1, in_channels=1, preset="tiny"), EDMProcess(sigma_data=1.0))
    init = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    data = TensorData(torch.randn(256, 1, 32, generator=torch.Generator().manual_seed(1)))
    states = []

    def recorded(generator, batch_size):
        states.append(generator.get_state().clone())  # to replay this rank's randomness in the test
        return data(generator, batch_size)

    trainer = Trainer(model, recorded, batch_size=8, lr=1e-3, grad_clip=1.0, ema_decay=0.999)
    trainer.fit(3, progress=False)
    params = torch.cat([p.detach().flatten() for p in trainer.model.parameters()])
    ema = torch.cat([p.detach().flatten() for p in trainer.ema.parameters()])
    tensors = {"params": params, "init": init, "ema": ema}
    tensors.update({f"state{k}": s for k, s in enumerate(states)})
    save_file(tensors, os.path.join(out, f"rank{trainer.rank}.safetensors"))
    with open(os.path.join(out, f"rank{trainer.rank}.json"), "w") as f:
        json.dump({"rank": trainer.rank, "world_size": trainer.world_size, "history": trainer.history,
                   "initialized": dist.is_initialized(), "wrapped": type(trainer._train_model).__name__}, f)
    """
)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed is unavailable")
def test_ddp_two_processes_average_gradients(tmp_path):
    script = tmp_path / "ddp_train.py"
    script.write_text(DDP_SCRIPT)
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for key in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--master_addr", "127.0.0.1", "--master_port", str(_free_port()), str(script), str(out)]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    info = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    tensors = [load_file(str(out / f"rank{r}.safetensors")) for r in (0, 1)]
    assert [i["rank"] for i in info] == [0, 1]
    assert all(i["world_size"] == 2 and i["initialized"] for i in info)
    assert all(i["wrapped"] == "DistributedDataParallel" for i in info)
    assert torch.equal(tensors[0]["params"], tensors[1]["params"])
    assert torch.equal(tensors[0]["ema"], tensors[1]["ema"])
    assert not torch.equal(tensors[0]["params"], tensors[0]["init"])
    assert info[0]["history"] != info[1]["history"]  # each rank saw its own batches and noise

    # replay in one process: each step's gradient is the mean of the two ranks' gradients (one thread,
    # as in the ranks, so that the kernels sum in the same order)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _replay_ddp(tensors, info)
    finally:
        torch.set_num_threads(threads)


def _replay_ddp(tensors, info) -> None:
    torch.manual_seed(0)
    model = Denoiser(UNet(dims=1, in_channels=1, preset="tiny"), EDMProcess(sigma_data=1.0))
    assert torch.equal(_flat(model), tensors[0]["init"])
    data = TensorData(torch.randn(256, 1, 32, generator=torch.Generator().manual_seed(1)))
    params = list(model.parameters())
    opt = torch.optim.AdamW(params, lr=1e-3, betas=(0.9, 0.999), weight_decay=0.0)
    model.train()
    for k in range(3):
        grads = []
        for r in (0, 1):
            g = torch.Generator()
            g.set_state(tensors[r][f"state{k}"])
            x0, cond = data(g, 8)
            torch.randint(0, 2**62, (1,), generator=g)  # the trainer's per-step seed for dropout
            loss = model.process.loss(model, x0, cond, generator=g)
            assert float(loss.detach()) == info[r]["history"][k]
            opt.zero_grad()
            loss.backward()
            grads.append([p.grad.clone() for p in params])
        for p, g0, g1 in zip(params, *grads):
            p.grad = (g0 + g1) / 2
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
    torch.testing.assert_close(_flat(model), tensors[0]["params"], rtol=0, atol=0)
