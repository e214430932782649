"""DCGAN on 4,000 bundled digits: one lever at a time, classifier score against CPU time.

Each configuration starts from the old default (``dcgan-mnist`` before issue 4: batch-norm G
and D, non-saturating loss, Adam 2e-4/(0.5, 0.999), no EMA, no augmentation) and adds one
lever, then the levers together; every run has the same step budget and seed. The table gives
the classifier score (``--n`` samples, 10 splits) at each evaluation and the training CPU time.
Runs go one after the other, so each sees the same machine.

    python bench/quality/dcgan_levers.py --steps 1500 --every 500
    python bench/quality/dcgan_levers.py --only baseline,lr-1e-3
"""

from __future__ import annotations

import json

from common import (
    base_parser,
    classifier_score,
    command_line,
    generate,
    load,
    make_trainer,
    train_with_curve,
)
from digits import train_split

OLD_DEFAULT = [
    "model.g_norm=batch",
    "train.ema=null",
    'model.lr={"G":2e-4,"D":2e-4}',
    "model.clusters=0",
]
LEVERS: dict[str, list[str]] = {
    "baseline": [],
    "ema-0.999": ["train.ema=0.999", "train.ema_start=500"],
    "pixel-norm-G": ["model.g_norm=pixel"],
    "lr-1e-3": ['model.lr={"G":1e-3,"D":1e-3}'],
    "lr-2e-3": ['model.lr={"G":2e-3,"D":2e-3}'],
    "ttur-G1e-4-D4e-4": ['model.lr={"G":1e-4,"D":4e-4}'],
    "hinge+SN": ["model.loss=hinge", "model.spectral_norm=true"],
    "diffaugment": ["model.diffaugment=translation,cutout"],
    "width-48": ["model.g_channels=48", "model.d_channels=48"],
    "batch-32": ["train.batch_size=32"],
    "categorical-latent-10": ["model.n_components=10"],
    "self-conditioning-50": ["model.clusters=50"],
    "pixel + lr 2e-3 + EMA": [
        "model.g_norm=pixel",
        'model.lr={"G":2e-3,"D":2e-3}',
        "train.ema=0.999",
        "train.ema_start=500",
    ],
    "dcgan-mnist (pixel + lr 2e-3 + EMA + 50 clusters)": [
        "model.g_norm=pixel",
        'model.lr={"G":2e-3,"D":2e-3}',
        "train.ema=0.999",
        "train.ema_start=500",
        "model.clusters=50",
    ],
}


def main() -> None:
    p = base_parser(__doc__)
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--every", type=int, default=500)
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--only", default="", help="comma-separated lever names")
    p.set_defaults(threads=1)
    args = p.parse_args()
    print(command_line(), "|", load(), flush=True)
    names = args.only.split(",") if args.only else list(LEVERS)
    table = []
    for name in names:
        sets = OLD_DEFAULT + LEVERS[name] + [f"train.steps={args.steps}"] + args.set
        trainer = make_trainer("dcgan-mnist", sets, args.threads, args.seed, dataset=train_split)
        print(f"== {name}: {' '.join(LEVERS[name]) or '(old default)'}", flush=True)

        def score(tr) -> dict:
            return {"score": round(classifier_score(generate(tr, args.n).numpy()), 3)}

        curve = train_with_curve(trainer, args.steps, args.every, score)
        table.append(
            {"lever": name, "curve": [(r["step"], r["cpu_s"], r["score"]) for r in curve.rows]}
        )
    print("== (step, train CPU s, classifier score) per lever |", load())
    for row in table:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
