"""tag-gan quality: are the tags asked for in the picture, the others as often as in training,
and do combinations never seen in training work?

For each variant (trained here, or an exported run given with ``--run NAME=PATH``), samples are
drawn to order through the public API (``gankit.load(run).sample(n, tags=[...])``) and read by
gankit's tag classifier (``gankit.metrics.tags``, trained by ``scripts/train_tag_classifier.py``
on characters of its own seed stream):

- ``requested``: for each of the tags, ``--n`` samples asked for it alone (every other tag drawn
  by its training frequency); the share where the classifier finds it. Mean and minimum over
  tags (bar: mean >= 0.90); ``requested_mean_readable``: the mean over the tags the classifier
  reads at >= 0.95 on the held-out real characters (all but blush).
- ``free_gap``: in those same samples, for every tag whose group was not asked for, the share the
  classifier finds vs the tag's training share; the mean and largest absolute gap over tags
  (pooled over requests). ``real_gap`` is the same gap for the held-out real characters (what
  the classifier's own errors and the sample size give with a perfect generator).
- ``combo``: ``--n`` samples of each held-out combination (never in training: blue hair +
  glasses, pink hair + hat, white hair + twintails, red hair + green eyes), the share where the
  classifier finds every tag of it (bar: >= 0.80, mean over the combinations).
- ``full``: ``--n`` x 4 samples with whole tag vectors drawn from the training frequencies; per-tag
  accuracy of the classifier against the vector (mean) and the share with every tag right.

Variants: ``aux`` (the preset: tag classifier head in D, tag weight 10), ``projection`` (+ a
projection term), ``no-tags`` (``model.tag_weight=0``: G still gets the tags, but nothing teaches
it to use them — the chance level of each figure); and the mechanism's ablations ``input-w1``
(the first preset: tags at G's input only, tag weight 1), ``film-w1`` (tags also FiLM every block
of G), ``input-w10`` (= the preset), ``film-w10``.

    python bench/quality/characters.py --variants aux,no-tags --threads 1 \\
        --run-dir /tmp/chars --grid docs/models/tag-gan.png
    python bench/quality/characters.py --run aux=runs/00012-tag-gan-characters
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import base_parser, load, make_trainer, print_rows  # noqa: E402

import gankit  # noqa: E402
from gankit.data.characters import HELD_COMBOS, HELD_PER_SET, HELD_STREAM, character_set  # noqa: E402
from gankit.metrics.tags import decide, tag_accuracy, tag_classifier_info, tag_probs  # noqa: E402
from gankit.viz import image_grid, png_bytes  # noqa: E402

VARIANTS = {
    "aux": ("tag-characters", []),
    "projection": ("tag-characters", ["model.conditioning=projection"]),
    "no-tags": ("tag-characters", ["model.tag_weight=0"]),
    # the mechanism's ablations: where the tags enter G (input only / FiLM after every
    # normalisation) x the tag loss's weight (1: each of the 21 tags gets 1/21 of one term)
    "input-w1": ("tag-characters", ["model.tag_inject=input", "model.tag_weight=1"]),
    "film-w1": ("tag-characters", ["model.tag_inject=film", "model.tag_weight=1"]),
    "input-w10": ("tag-characters", ["model.tag_inject=input", "model.tag_weight=10"]),
    "film-w10": ("tag-characters", ["model.tag_inject=film", "model.tag_weight=10"]),
}
SHOW = (
    "blue hair, glasses, smile",
    "pink hair, hat",
    "white hair, twintails",
    "red hair, green eyes",
    "blonde hair, long hair, blue eyes",
    "black hair, red eyes, hat",
    "green hair, short hair, blush",
    "brown hair, twintails, purple eyes, smile",
)


def evaluate(G, n: int, seed: int) -> dict:
    tags, groups = G.tags, G.tag_groups
    train_freq = np.array(G.info.tag_freq)
    group_of = {t: next((tuple(g) for g in groups if t in g), (t,)) for t in tags}
    requested, free_hits, free_counts = {}, np.zeros(len(tags)), np.zeros(len(tags))
    for i, t in enumerate(tags):
        x = G.sample(n, seed=seed + i, tags=[t]).numpy()
        found = decide(tag_probs(x), tags, groups)
        requested[t] = float(found[:, i].mean())
        free = np.array([u not in group_of[t] for u in tags])
        free_hits[free] += found[:, free].sum(0)
        free_counts[free] += len(x)
    free_freq = free_hits / np.maximum(free_counts, 1)
    combos = {}
    for j, combo in enumerate(HELD_COMBOS):
        x = G.sample(n, seed=seed + 100 + j, tags=list(combo)).numpy()
        found = decide(tag_probs(x), tags, groups)
        combos[" + ".join(combo)] = float(found[:, [tags.index(t) for t in combo]].all(1).mean())
    vec = G.latent(4 * n, seed + 200)["tags"]
    x = G.sample(4 * n, seed=seed + 200, tags=vec).numpy()
    found = decide(tag_probs(x), tags, groups)
    full = tag_accuracy(found, vec.numpy())
    gap = np.abs(free_freq - train_freq)
    r = list(requested.values())
    return {
        "requested_mean": round(float(np.mean(r)), 4),
        "requested_min": round(float(np.min(r)), 4),
        "requested_min_tag": min(requested, key=requested.get),
        "free_gap_mean": round(float(gap.mean()), 4),
        "free_gap_max": round(float(gap.max()), 4),
        "free_gap_max_tag": tags[int(gap.argmax())],
        "combo_mean": round(float(np.mean(list(combos.values()))), 4),
        "combo_min": round(float(np.min(list(combos.values()))), 4),
        "full_tag_acc": round(float(full.mean()), 4),
        "full_all_right": round(float((found == vec.numpy().astype(bool)).all(1).mean()), 4),
        "requested": {k: round(v, 3) for k, v in requested.items()},
        "combos": {k: round(v, 3) for k, v in combos.items()},
        "free_freq": {t: round(float(f), 3) for t, f in zip(tags, free_freq, strict=True)},
        "train_freq": {t: round(float(f), 3) for t, f in zip(tags, train_freq, strict=True)},
    }


def real_reference(G) -> dict:
    """The classifier on the held-out real characters: accuracy, and the gap between the tag
    shares it reads and the training shares (what a perfect generator would score)."""
    x, truth = character_set(HELD_PER_SET, HELD_STREAM, G.info.shape[-1])
    found = decide(tag_probs(x), G.tags, G.tag_groups)
    gap = np.abs(found.mean(0) - np.array(G.info.tag_freq))
    acc = tag_accuracy(found, truth)
    return {
        "classifier_acc_mean": round(float(acc.mean()), 4),
        "readable": [t for t, a in zip(G.tags, acc, strict=True) if a >= 0.95],
        "real_gap_mean": round(float(gap.mean()), 4),
        "real_gap_max": round(float(gap.max()), 4),
    }


def export_step(run: Path, step: int) -> Path:
    """The sampling (EMA) generator of ``run``'s step-``step`` checkpoint, exported to
    ``run/generator-step<step>/`` (learning rates are constant, so step K of a longer run is a
    K-step run)."""
    from gankit.config import RunConfig
    from gankit.generator import export_generator
    from gankit.train.checkpoint import checkpoint_name, load_checkpoint
    from gankit.train.trainer import Trainer

    cfg = RunConfig.model_validate_json((run / "config.json").read_text())
    trainer = Trainer(cfg, progress=False)
    trainer.load_state_dict(load_checkpoint(run / "checkpoints" / checkpoint_name(step)))
    out = run / f"generator-step{step}"
    G = trainer._sampling_G()
    model_cfg = trainer.family.cfg.model_dump(mode="json")
    export_generator(out, cfg.family, model_cfg, trainer.data.info, G, step)
    return out


def main() -> None:
    p = base_parser(__doc__)
    p.add_argument("--variants", default="aux", help=", ".join(VARIANTS))
    p.add_argument("--run", action="append", default=[], help="NAME=PATH: evaluate this run")
    p.add_argument("--steps", type=int, default=None, help="override the preset's steps")
    p.add_argument("--n", type=int, default=200, help="samples per request")
    p.add_argument(
        "--at-step", type=int, default=None, help="score each --run's step-K checkpoint instead"
    )
    p.add_argument("--grid", type=Path, default=None, help="PNG: 10 samples of each SHOW row")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    jobs: list[tuple[str, Path | None, float, float]] = []
    for spec in args.run:
        name, _, path = spec.partition("=")
        run = Path(path) if args.at_step is None else export_step(Path(path), args.at_step)
        jobs.append((name, run, float("nan"), float("nan")))
    if not args.run:
        for v in [v.strip() for v in args.variants.split(",") if v.strip()]:
            if v not in VARIANTS:
                raise SystemExit(f"unknown variant {v!r}; choose from {', '.join(VARIANTS)}")
            if args.run_dir is None:
                raise SystemExit("training variants needs --run-dir (their exported generators)")
            preset, extra = VARIANTS[v]
            sets = [*extra, *args.set] + ([f"train.steps={args.steps}"] if args.steps else [])
            trainer = make_trainer(preset, sets, args.threads, args.seed, args.run_dir / v)
            c0, t0 = time.process_time(), time.perf_counter()
            trainer.fit()
            jobs.append((v, args.run_dir / v, time.process_time() - c0, time.perf_counter() - t0))
    rows = []
    ref = None
    for name, path, cpu, wall in jobs:
        G = gankit.load(path)
        ref = ref or real_reference(G)
        row = {
            "variant": name,
            "run": str(path),
            "steps": G.meta.get("step"),
            "seed": args.seed,
            **evaluate(G, args.n, seed=1000 + args.seed),
            **ref,
            "train_cpu_s": round(cpu, 1),
            "train_wall_s": round(wall, 1),
            "threads": args.threads,
            "load": load(),
        }
        readable = [row["requested"][t] for t in ref["readable"]]
        row["requested_mean_readable"] = round(float(np.mean(readable)), 4)
        rows.append(row)
        print(json.dumps(row), flush=True)
        if args.grid and name == (args.run[0].partition("=")[0] if args.run else "aux"):
            x = torch.cat([G.sample(10, seed=7, tags=t) for t in SHOW]).numpy()
            args.grid.parent.mkdir(parents=True, exist_ok=True)
            args.grid.write_bytes(png_bytes(image_grid(x, nrow=10)))
            print(f"grid: {args.grid} (one row per request: {' | '.join(SHOW)})")
    info = tag_classifier_info()
    print(f"== tag classifier: held-out accuracy {info['heldout_accuracy_mean']} (mean over tags)")
    keys = [
        "requested_mean",
        "requested_mean_readable",
        "requested_min",
        "free_gap_mean",
        "free_gap_max",
        "real_gap_mean",
        "combo_mean",
        "combo_min",
        "full_tag_acc",
        "train_cpu_s",
    ]
    print_rows(rows, keys, args.out)


if __name__ == "__main__":
    main()
