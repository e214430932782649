"""Run under torchrun by test_distributed.py: train a few steps, report what each rank holds."""

import json
import sys

import torch
import torch.distributed as dist

from gankit.presets import resolve
from gankit.train import distributed as ddp
from gankit.train.trainer import Trainer

out = sys.argv[1]
cfg = resolve(
    family="dcgan",
    flags={
        "data": {"name": "digits"},
        "model": {"g_channels": 8, "d_channels": 8, "z_dim": 8},
        "train": {"steps": 4, "batch_size": 8, "device": "cpu", "threads": 1},
    },
)
trainer = Trainer(cfg, progress=False)
first_batch = trainer.sampler.next().tolist()
trainer.sampler.load_state_dict({"epoch": 0, "position": 0})
trainer.fit()
flat = torch.cat([p.detach().flatten() for p in trainer.family.nets.parameters()])
gathered = [torch.zeros_like(flat) for _ in range(trainer.dist.world)]
dist.all_gather(gathered, flat)
batches = [None] * trainer.dist.world
dist.all_gather_object(batches, first_batch)
if trainer.dist.main:
    with open(out, "w") as f:
        json.dump(
            {
                "world": trainer.dist.world,
                "identical": all(torch.equal(gathered[0], g) for g in gathered),
                "batches": batches,
                "step": trainer.step,
                "images_seen": trainer.images_seen,
            },
            f,
        )
ddp.shutdown(trainer.dist)
ddp.exit_process(0)
