"""3-D shape quality of a voxel-gan and a voxel-vae-gan run (docs/models/voxel-gan.md).

(a) No collapse: a 3-D classifier trained here on the procedural training shapes (its held-out
    accuracy is printed) names the class of ``--n`` generated grids (threshold 0.5): class
    coverage and histogram, the share of all-empty / all-full grids, occupancy vs the data's.
(b) The paper's probe, scaled down: a linear classifier (logistic regression) on D's features
    (every block max-pooled to 2³) of 10 labelled training shapes per class, scored on the
    held-out shapes, against the same probe on a randomly initialised D of the same shape; the
    mean over ``--probe-draws`` draws of the labelled shapes. Two protocols: ``aligned`` (the
    shapes as trained on: a random D already separates them at ~97 %, a ceiling) and ``posed``
    (labelled and held-out shapes alike turned about the vertical axis by a random angle, shrunk
    to 60-80 % and shifted up to 2 voxels: ``pose``), a task that differs from the training
    data as the paper's ModelNet probe differs from its ShapeNet training set.
(c) Image -> shape on the held-out shapes: the voxel-vae-gan's grid from each held-out view
    against the true grid (IoU at threshold 0.5), next to a nearest-neighbour baseline (the
    training shape whose view is closest to the input view in pixels).

The runs are trained by the CLI (their CPU time measured there, e.g. with /usr/bin/time):

    gankit train voxel-gan --data shapes --set train.threads=1
    gankit train voxel-vae-gan --data shapes --set train.threads=1
    python bench/quality/voxel.py --gan runs/00001-voxel-gan-shapes \\
        --vae runs/00002-voxel-vae-gan-shapes --threads 1 --out voxel.json --figures docs/models
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
from common import command_line, load  # noqa: E402

from gankit.config import RunConfig  # noqa: E402
from gankit.data import DataConfig, load_dataset, split_holdout  # noqa: E402
from gankit.data.shapes import (  # noqa: E402
    CLASSES,
    shapes_info,  # noqa: E402
    turntable,
)
from gankit.generator import Generator  # noqa: E402
from gankit.generator import load as load_generator  # noqa: E402
from gankit.models.voxel import VoxelDiscriminator, occupancy  # noqa: E402
from gankit.registry import MODELS  # noqa: E402
from gankit.train import checkpoint as ckpt  # noqa: E402
from gankit.viz import image_grid, png_bytes  # noqa: E402

EMPTY, FULL = 0.001, 0.9  # occupancy below / above which a grid counts as all-empty / all-full


class ShapeClassifier(nn.Module):
    """A small 3-D CNN on grids max-pooled to 16³: (N, 32, 32, 32) in {0, 1} -> class logits."""

    def __init__(self, classes: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv3d(1, 16, 3, 1, 1),
            nn.ReLU(True),
            nn.MaxPool3d(2),  # 8³
            nn.Conv3d(16, 32, 3, 1, 1),
            nn.ReLU(True),
            nn.MaxPool3d(2),  # 4³
            nn.Flatten(),
            nn.Linear(32 * 64, classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(F.max_pool3d(x.float().unsqueeze(1), 2))


def train_classifier(x: np.ndarray, y: np.ndarray, steps: int, seed: int) -> ShapeClassifier:
    """The classifier on occupancy grids ``x`` (N, 32, 32, 32) with labels ``y``."""
    torch.manual_seed(seed)
    clf = ShapeClassifier(len(CLASSES))
    opt = torch.optim.Adam(clf.parameters(), 1e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        idx = torch.randint(0, len(xt), (64,), generator=g)
        loss = F.cross_entropy(clf(xt[idx]), yt[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return clf.eval()


@torch.no_grad()
def predict(clf: nn.Module, x: np.ndarray) -> np.ndarray:
    xt = torch.from_numpy(x)
    return torch.cat([clf(xt[i : i + 256]).argmax(1) for i in range(0, len(xt), 256)]).numpy()


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-grid intersection over union of occupancy grids (N, X, Y, Z)."""
    a, b = a.reshape(len(a), -1).astype(bool), b.reshape(len(b), -1).astype(bool)
    union = (a | b).sum(1)
    return np.where(union > 0, (a & b).sum(1) / np.maximum(union, 1), 1.0)


def run_state(run: Path) -> dict:
    """A checkpoint's state: a ``.pt`` file, or a run's newest checkpoint."""
    if run.suffix == ".pt":
        return ckpt.load_checkpoint(run)
    return ckpt.load_latest(run / "checkpoints")[1]


def run_generator(run: Path) -> Generator:
    """The sampling generator of a checkpoint file, or a run's exported generator."""
    if run.suffix != ".pt":
        return load_generator(run)
    state = run_state(run)
    cfg = RunConfig.model_validate_json(state["config"])
    family = MODELS.get(cfg.family)
    model_cfg = family.Config.model_validate(cfg.model)
    module = family.build_generator(model_cfg, shapes_info())
    module.load_state_dict(state["ema"] or state["nets"]["G"])
    meta = {"family": cfg.family, "step": int(state["step"])}
    return Generator(family, model_cfg, shapes_info(), module, meta)


def run_discriminator(run: Path) -> VoxelDiscriminator:
    """D from a checkpoint file, or a run's newest checkpoint."""
    state = run_state(run)
    cfg = RunConfig.model_validate_json(state["config"])
    D = VoxelDiscriminator(
        cfg.model["d_channels"],
        cfg.model.get("spectral_norm", False),
        cfg.model.get("clusters", 0),
    )
    D.load_state_dict(state["nets"]["D"])
    return D.eval()


def pose(grids: np.ndarray, seed: int, scale=(0.6, 0.8), shift: float = 2.0) -> np.ndarray:
    """Occupancy grids (N, 32, 32, 32) each turned about the vertical (y) axis by an angle in
    [0, 360°), shrunk by a factor in ``scale`` towards the floor's centre and shifted up to
    ``shift`` voxels in x and z (trilinear resampling, solid above 0.5): the posed probe set."""
    rng = np.random.default_rng(seed)
    out = np.empty_like(grids)
    mid = grids.shape[1] / 2
    for n, g in enumerate(grids):
        t, s = rng.uniform(0, 2 * np.pi), rng.uniform(*scale)
        dx, dz = rng.uniform(-shift, shift, 2)
        c, si = np.cos(t), np.sin(t)
        A = np.array([[c, 0, -si], [0, 1, 0], [si, 0, c]]) / s  # output -> input coordinates
        centre_out, centre_in = np.array([mid + dx, 0, mid + dz]), np.array([mid, 0, mid])
        offset = A @ (0.5 - centre_out) + centre_in - 0.5  # voxel centres at index + 0.5
        moved = ndimage.affine_transform(g.astype(np.float32), A, offset, order=1)
        out[n] = moved > 0.5
    return out


@torch.no_grad()
def features(D: VoxelDiscriminator, grids: np.ndarray) -> np.ndarray:
    x = torch.from_numpy(grids).float().mul(2).sub(1)  # occupancy -> [-1, 1], as D was trained
    return torch.cat([D.features(x[i : i + 128]) for i in range(0, len(x), 128)]).numpy()


def probe(train_f, train_y, test_f, test_y, per_class: int, draws: int, seed: int) -> list:
    """Held-out accuracy of a logistic regression on ``per_class`` labelled shapes of each class,
    one value per draw of the labelled shapes."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(seed)
    accs = []
    for _ in range(draws):
        idx = np.concatenate(
            [rng.choice(np.flatnonzero(train_y == c), per_class, replace=False) for c in range(6)]
        )
        scaler = StandardScaler().fit(train_f[idx])
        lr = LogisticRegression(C=0.1, max_iter=2000).fit(
            scaler.transform(train_f[idx]), train_y[idx]
        )
        accs.append(float((lr.predict(scaler.transform(test_f)) == test_y).mean()))
    return accs


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--gan", type=Path, help="a voxel-gan run directory or checkpoint (.pt)")
    p.add_argument("--vae", type=Path, help="a voxel-vae-gan run directory or checkpoint (.pt)")
    p.add_argument("--n", type=int, default=600, help="generated shapes for (a)")
    p.add_argument("--classifier-steps", type=int, default=300)
    p.add_argument("--probe-draws", type=int, default=5)
    p.add_argument("--limit", type=int, default=None, help="objects per class (a quick check)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    p.add_argument("--figures", type=Path, default=None, help="write PNG figures to this folder")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.process_time()
    data = load_dataset(DataConfig(name="shapes", limit=args.limit))
    train, held = split_holdout(data, 0)
    train_x, held_x = (
        (train.x.numpy() > 127).astype(np.uint8),
        (held.x.numpy() > 127).astype(np.uint8),
    )
    train_y, held_y = train.y.numpy(), held.y.numpy()
    report: dict = {"command": command_line(), "load": load(), "threads": args.threads}
    print(f"data: {len(train_x)} training, {len(held_x)} held-out shapes", flush=True)

    if args.gan:
        clf = train_classifier(train_x, train_y, args.classifier_steps, args.seed)
        clf_acc = float((predict(clf, held_x) == held_y).mean())
        G = run_generator(args.gan)
        gen = occupancy(G.sample_many(args.n, seed=args.seed)[0].numpy())
        occ_gen, occ_data = (
            gen.reshape(len(gen), -1).mean(1),
            train_x.reshape(len(train_x), -1).mean(1),
        )
        hist = np.bincount(predict(clf, gen), minlength=len(CLASSES)) / len(gen)
        a = {
            "classifier_heldout_acc": clf_acc,
            "class_histogram": dict(zip(CLASSES, np.round(hist, 3).tolist(), strict=True)),
            "classes_covered": int((hist > 0).sum()),
            "min_class_share": float(hist.min()),
            "max_class_share": float(hist.max()),
            "histogram_entropy_ratio": float(
                -(hist[hist > 0] * np.log(hist[hist > 0])).sum() / np.log(len(CLASSES))
            ),
            "share_empty": float((occ_gen < EMPTY).mean()),
            "share_full": float((occ_gen > FULL).mean()),
            "occupancy_generated": [float(occ_gen.mean()), float(occ_gen.std())],
            "occupancy_data": [float(occ_data.mean()), float(occ_data.std())],
            "step": G.meta["step"],
        }
        report["collapse"] = a
        print("(a)", json.dumps(a), flush=True)

        D = run_discriminator(args.gan)
        torch.manual_seed(args.seed)
        D0 = VoxelDiscriminator(D.blocks[0][0].out_channels).eval()
        sets = {
            "aligned": (train_x, held_x),
            "posed": (pose(train_x, args.seed + 1), pose(held_x, args.seed + 2)),
        }
        report["probe"] = {}
        for protocol, (px, hx) in sets.items():
            res = {}
            for name, net in (("trained_D", D), ("random_D", D0)):
                accs = probe(
                    features(net, px),
                    train_y,
                    features(net, hx),
                    held_y,
                    10,
                    args.probe_draws,
                    args.seed,
                )
                res[name] = {"mean": float(np.mean(accs)), "draws": accs}
            res["gain_points"] = 100 * (res["trained_D"]["mean"] - res["random_D"]["mean"])
            report["probe"][protocol] = res
            print(f"(b) {protocol}", json.dumps(res), flush=True)

    if args.vae:
        G = run_generator(args.vae)
        pred = occupancy(G.translate(held.inputs["image"]).numpy())
        ious = iou(pred, held_x)
        tv = train.inputs["image"].numpy().reshape(len(train_x), -1).astype(np.float32)
        hv = held.inputs["image"].numpy().reshape(len(held_x), -1).astype(np.float32)
        d = (hv**2).sum(1)[:, None] - 2 * hv @ tv.T + (tv**2).sum(1)[None]
        nn_ious = iou(train_x[d.argmin(1)], held_x)
        per_class = {
            c: [float(ious[held_y == k].mean()), float(nn_ious[held_y == k].mean())]
            for k, c in enumerate(CLASSES)
        }
        c = {
            "mean_iou": float(ious.mean()),
            "nearest_neighbour_iou": float(nn_ious.mean()),
            "per_class_model_vs_nn": per_class,
            "step": G.meta["step"],
        }
        report["image_to_shape"] = c
        print("(c)", json.dumps(c), flush=True)
        if args.figures:
            args.figures.mkdir(parents=True, exist_ok=True)
            pick = np.arange(0, len(held_x), len(held_x) // 12)[:12]
            rows = []
            for i in pick:
                view = held.inputs["image"][i].numpy()
                pair = turntable(np.stack([pred[i], held_x[i]]), 3, size=32)
                rows.append(np.concatenate([view[None], pair]))
            (args.figures / "voxel-vae-gan-views.png").write_bytes(
                png_bytes(image_grid(np.concatenate(rows), nrow=7))
            )
    report["bench_cpu_s"] = time.process_time() - t0
    print(f"bench CPU {report['bench_cpu_s']:.0f} s, {load()}", flush=True)
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
