"""text2image quality: does a sample show what its caption says?

Each variant trains a preset with extra ``--set`` overrides, then draws one sample for every
caption of the held-out digits (``digit-captions``: the last 100 of each class and every digit of
the held-out attribute combinations — thick 3 leaning left, thin 7 upright, regular 9 leaning
right — 8 captions each, English and Korean) and reports, per language:

- ``digit``: the project's MNIST classifier recognises the digit the caption names;
- ``thickness`` / ``slant``: over the captions that name one, the sample's measured stroke width /
  shear (``gankit.data.captions.measure``, the statistics that wrote the captions) falls in the
  named tercile;
- ``combo_thickness`` / ``combo_slant``: the same over the captions of the held-out combinations.

Variants: ``gan-cls`` (the preset: matching-aware D + GAN-INT), ``no-matching`` (D sees right
pairs only), ``no-int`` (no GAN-INT), ``cgan`` (the class-conditional GAN of ``cgan-mnist`` on the
same training digits, given the named digit only: its attribute match is the chance level).

    python bench/quality/text2image.py --variants gan-cls,no-matching,cgan --threads 1 \\
        --run-dir /tmp/t2i --grid docs/models/text2image.png
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

from gankit.data import to_uint8  # noqa: E402
from gankit.data.captions import HELD_COMBOS, attributes, measure  # noqa: E402
from gankit.metrics.features import predict  # noqa: E402
from gankit.models.text import encode_texts  # noqa: E402
from gankit.train.checkpoint import checkpoint_name, load_checkpoint  # noqa: E402
from gankit.viz import image_grid, png_bytes  # noqa: E402

SLANTS = ("left", "upright", "right")
VARIANTS = {
    "gan-cls": ("text2image-digits", []),
    "no-matching": ("text2image-digits", ["model.matching_aware=false"]),
    "no-int": ("text2image-digits", ["model.interpolate=0"]),
    "cgan": ("cgan-mnist", ["data.name=digit-captions"]),
}
SHOW = (
    "a thick seven leaning right",
    "7, thin and upright",
    "small 3",
    "a thick 3 leaning left",
    "굵은 7",
    "오른쪽으로 기운 얇은 3",
    "왼쪽으로 기운 굵은 삼",
    "thin two leaning left",
    "굵은 숫자 8",
    "a large, thick zero",
)


def draw(trainer, texts: list[str], digits: np.ndarray, seed: int) -> np.ndarray:
    """One sample per caption (text families) or per named digit (cgan), fixed noise."""
    fam, info = trainer.family, trainer.data.info
    g = torch.Generator().manual_seed(seed)
    inputs = fam.latent(fam.cfg, info, len(texts), generator=g)
    if fam.name == "cgan":
        inputs["label"] = torch.as_tensor(digits, dtype=torch.long)
    else:
        inputs["text"] = encode_texts(texts)
    return to_uint8(trainer.generate(inputs)).numpy()


def score(held, samples: np.ndarray) -> dict[str, float]:
    """Digit / thickness / slant agreement per language, and on the held-out combinations."""
    meta = held.meta
    got = attributes(measure(samples))
    pred = predict(samples)
    real = attributes(measure(held.x.numpy()))
    y = held.y.numpy()
    combo = np.array(
        [
            (int(d), t, s) in set(HELD_COMBOS)
            for d, t, s in zip(y, real["thickness"], real["slant"], strict=True)
        ]
    )
    out: dict[str, float] = {}
    for lang in ("en", "ko"):
        is_lang = np.array([m["lang"] == lang for m in meta])
        digit = np.array([int(m["digit"]) for m in meta])
        out[f"{lang}_digit"] = float(np.mean(pred[is_lang] == digit[is_lang]))
        for key in ("thickness", "slant"):
            named = np.array([key in m for m in meta]) & is_lang
            ok = np.array([m.get(key) == g for m, g in zip(meta, got[key], strict=True)])
            out[f"{lang}_{key}"] = float(np.mean(ok[named]))
            out[f"{lang}_combo_{key}"] = float(np.mean(ok[named & combo]))
            out[f"n_{lang}_{key}"] = int(named.sum())
            out[f"n_{lang}_combo_{key}"] = int((named & combo).sum())
    out["real_digit"] = float(np.mean(predict(held.x.numpy()) == y))
    for key, words in (("thickness", ("thin", "regular", "thick")), ("slant", SLANTS)):
        # rows: what the caption names; columns: what is measured on the sample (both languages)
        conf = np.zeros((3, 3), dtype=int)
        for m, g in zip(meta, got[key], strict=True):
            if key in m:
                conf[words.index(m[key]), words.index(g)] += 1
        out[f"confusion_{key}"] = conf.tolist()
    return out


def main() -> None:
    p = base_parser(__doc__)
    p.add_argument("--variants", default="gan-cls,no-matching,cgan", help=", ".join(VARIANTS))
    p.add_argument("--steps", type=int, default=None, help="override the presets' steps")
    p.add_argument("--grid", type=Path, default=None, help="PNG: rows of SHOW captions")
    p.add_argument(
        "--at-step",
        type=int,
        default=None,
        help="evaluate the checkpoint of this step in --run-dir/VARIANT instead of training "
        "(learning rates are constant, so step k of a longer run is a k-step run)",
    )
    args = p.parse_args()
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    for v in names:
        if v not in VARIANTS:
            raise SystemExit(f"unknown variant {v!r}; choose from {', '.join(VARIANTS)}")
    rows = []
    for v in names:
        preset, extra = VARIANTS[v]
        sets = [*extra, *args.set] + ([f"train.steps={args.steps}"] if args.steps else [])
        run_dir = args.run_dir / v if args.run_dir else None
        if args.at_step is not None:
            trainer = make_trainer(preset, sets, args.threads, args.seed)
            path = run_dir / "checkpoints" / checkpoint_name(args.at_step)
            trainer.load_state_dict(load_checkpoint(path))
            trainer.prepare()  # the encoder comes from the checkpoint; embeddings only
            cpu = wall = float("nan")  # training times: from the run's own log
        else:
            trainer = make_trainer(preset, sets, args.threads, args.seed, run_dir)
            c0, t0 = time.process_time(), time.perf_counter()
            trainer.fit()
            cpu, wall = time.process_time() - c0, time.perf_counter() - t0
        held = trainer.heldout
        digits = held.y.numpy()
        samples = draw(trainer, held.captions, digits, seed=1000 + args.seed)
        row = {
            "variant": v,
            "seed": args.seed,
            "steps": trainer.step,
            **{
                k: round(x, 4) if isinstance(x, float) else x
                for k, x in score(held, samples).items()
            },
            "train_cpu_s": round(cpu, 1),
            "train_wall_s": round(wall, 1),
            "threads": args.threads,
            "load": load(),
        }
        if hasattr(trainer.family, "encoder_stats"):
            row.update({k: round(x, 4) for k, x in trainer.family.encoder_stats.items()})
        rows.append(row)
        print(json.dumps(row), flush=True)
        if args.grid and v == "gan-cls":
            n = 10
            texts = [t for t in SHOW for _ in range(n)]
            x = draw(trainer, texts, np.zeros(len(texts)), seed=7 + args.seed)
            args.grid.parent.mkdir(parents=True, exist_ok=True)
            args.grid.write_bytes(png_bytes(image_grid(x, nrow=n)))
            print(f"grid: {args.grid} (one row per caption: {' | '.join(SHOW)})")
    print("== table")
    keys = [
        f"{lang}_{k}"
        for lang in ("en", "ko")
        for k in ("digit", "thickness", "slant", "combo_thickness", "combo_slant")
    ] + ["train_cpu_s"]
    print_rows(rows, keys, args.out)


if __name__ == "__main__":
    main()
