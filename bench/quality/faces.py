"""The user-folder preset on few-shot data: the 100 LFW faces and crops of the bundled photos.

Each configuration trains on the data's training part and is scored on its held-out part
(faces: 25 of the 100 faces; photos: the crops of coffee and flower, held out by whole photo):

- near-copies: the share of 500 samples closer to a training image than 99 % of held-out
  images are, in pixels and in HOG features (``metrics/memorization.py``); bar <= 5 %;
- c2st: a small CNN's cross-validated accuracy telling held-out reals from samples
  (``metrics/c2st.py``; 0.5 is best);
- fid / kid / recall / coverage on gankit's MNIST-classifier features (the project's only
  feature network; grey 28 px), against all the data's images (fid, recall, coverage) and the
  held-out ones (kid);
- the training CPU time (``time.process_time``).

Configurations (``--only``): ``folder`` (the preset ``gankit train --data faces`` picks),
``folder-no-diffaugment``, ``folder-no-r1``, ``no-levers`` (the same networks with none of the
limited-data levers: batch-norm D, no DiffAugment, no EMA, no R1) and ``mnist-preset`` (the
``dcgan-mnist`` preset that `--data` folders used to get). The EMA lever is measured on the
``folder`` run itself: its raw generator is scored as ``folder-no-ema``.

    python bench/quality/faces.py --threads 1 --only folder --out faces-folder.json
    python bench/quality/faces.py --data photos --only folder,mnist-preset --steps 1000
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from common import command_line, load, make_trainer

from gankit.data import to_uint8
from gankit.metrics.evaluate import evaluate
from gankit.train.nearest import near_copy_report, nearest_grid_png

PRESET = {"faces": "dcgan-faces", "photos": "dcgan-folder-thousands"}
DATA = {
    "faces": [],
    "photos": ['data={"name":"photos","image_size":32,"holdout":0}'],
}
CONFIGS: dict[str, tuple[str | None, list[str]]] = {
    "folder": (None, []),
    "folder-no-diffaugment": (None, ['model.diffaugment=""']),
    "folder-no-r1": (None, ["model.r1=0"]),
    "no-levers": (
        None,
        ['model.diffaugment=""', "model.r1=0", "model.d_batchnorm=true", "train.ema=null"],
    ),
    "mnist-preset": ("dcgan-mnist", []),
}


def sample(trainer, n: int, raw: bool = False) -> np.ndarray:
    fam, info = trainer.family, trainer.data.info
    g = torch.Generator().manual_seed(12345)
    inputs = fam.latent(fam.cfg, info, n, generator=g)
    if raw:  # the generator being trained, not its EMA
        ema, trainer.ema = trainer.ema, None
        try:
            return to_uint8(trainer.generate(inputs)).numpy()
        finally:
            trainer.ema = ema
    return to_uint8(trainer.generate(inputs)).numpy()


def score(fake: np.ndarray, train: np.ndarray, held: np.ndarray, seed: int) -> dict:
    out = near_copy_report(fake, train, held, seed)
    everything = np.concatenate([train, held])
    rows = evaluate(
        fake,
        everything,
        ["fid", "precision-recall", "density-coverage"],
        extractor="mnist-classifier",
        seed=seed,
    )
    rows += evaluate(
        fake,
        held,
        ["kid", "c2st"],
        extractor="mnist-classifier",
        seed=seed,
        options={"kid": {"subset_size": min(len(held), 100)}},
    )
    for r in rows:
        out[r.name] = r.value
        if r.std is not None:
            out[r.name + "_std"] = r.std
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--data", choices=sorted(PRESET), default="faces")
    p.add_argument("--only", default=",".join(CONFIGS))
    p.add_argument("--steps", type=int, default=None, help="default: the preset's")
    p.add_argument(
        "--set-extra", action="append", default=[], help="KEY=VALUE for every configuration"
    )
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n", type=int, default=500, help="samples scored")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--grids", type=Path, default=None, help="folder for nearest-face grids")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    results = {}
    for name in args.only.split(","):
        preset, sets = CONFIGS[name]
        preset = preset or PRESET[args.data]
        overrides = DATA[args.data] + sets
        if preset == "dcgan-mnist":  # the same images seen as the folder preset's run
            overrides = DATA[args.data] or ['data={"name":"faces","image_size":32}']
            overrides = [*overrides, "train.steps=1000"]  # batch 64: the images the folder sees
        if args.steps:
            overrides = [*overrides, f"train.steps={args.steps}"]
        overrides = [*overrides, *args.set_extra]
        trainer = make_trainer(preset, overrides, args.threads, args.seed)
        steps = trainer.cfg.train.steps
        c0, w0 = time.process_time(), time.perf_counter()
        trainer.fit(steps)
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        train = trainer.data.x.numpy()
        held = trainer.heldout.x.numpy()
        variants = {name: sample(trainer, args.n)}
        if name == "folder":
            variants["folder-no-ema"] = sample(trainer, args.n, raw=True)
        for vname, fake in variants.items():
            row = {
                "preset": preset,
                "overrides": overrides,
                "steps": steps,
                "batch_size": trainer.cfg.train.batch_size,
                "train_cpu_s": round(cpu, 1),
                "train_wall_s": round(wall, 1),
                **score(fake, train, held, args.seed),
            }
            results[vname] = row
            print(json.dumps({vname: row}), flush=True)
            if args.grids:
                args.grids.mkdir(parents=True, exist_ok=True)
                png = nearest_grid_png(fake, train, 24)
                (args.grids / f"{args.data}-{vname}-nearest.png").write_bytes(png)
                np.savez_compressed(args.grids / f"{args.data}-{vname}-samples.npz", images=fake)
    meta = {"command": command_line(), "seed": args.seed, "threads": args.threads, "load": load()}
    print(json.dumps(meta))
    if args.out:
        args.out.write_text(json.dumps({**meta, "results": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()
