"""Digit bars: classifier score (DCGAN), label accuracy + TSTR (cGAN), code accuracy (InfoGAN).

Every family trains on the 4,000 bundled digits that gankit's classifier trained on
(``bundled_digits("train")``) and is judged against the 1,000 it never saw (``"heldout"``), so
no number here is helped by memorised test digits. Scores are computed every ``--every`` steps
(evaluation time is not counted in the training times).

- ``--preset dcgan-mnist``: classifier score (Inception score with gankit's MNIST classifier,
  10 splits) of ``--n`` samples; at the end also FID and the memorisation check (nearest
  training digit vs held-out). Bar: >= 9.3 within 10 CPU-minutes, no memorised copies.
- ``--preset cgan-mnist``: label accuracy of ``--n`` class-conditioned samples, and TSTR: a fresh
  classifier trained only on 10,000 samples, tested on the held-out real digits. Bars: >= 0.97,
  >= 0.95.
- ``--preset infogan-mnist``: each categorical code value is mapped to the digit gankit's
  classifier sees most often in its samples; Q's code for each held-out real digit, mapped so,
  is its predicted class. Bar: >= 0.95 accuracy (the paper reports 5 % error).
- any other preset (autoencoder, vae, ...): the classifier score, FID on classifier features
  against the held-out digits, and the nearest-neighbour memorisation ratio.

    python bench/quality/digits.py --preset dcgan-mnist --every 500
    python bench/quality/digits.py --every 250 --n 2000 --threads 1   # time to score 9.0 / 9.3
    python bench/quality/digits.py --preset cgan-mnist --set train.steps=3000
"""

from __future__ import annotations

import time

import numpy as np
import torch
from common import (
    base_parser,
    classifier_score,
    command_line,
    finish,
    generate,
    load,
    make_trainer,
    train_with_curve,
)

from gankit.data import load_dataset
from gankit.data.base import ArrayDataset
from gankit.metrics.features import bundled_digits, features, predict


def train_split(cfg) -> ArrayDataset:
    """The classifier's 4,000 training digits as the run's dataset (same info as mnist5k)."""
    info = load_dataset(cfg.data).info
    x, y = bundled_digits("train")
    return ArrayDataset(torch.from_numpy(x), torch.from_numpy(y), info)


def fid_to(fake: np.ndarray, real: np.ndarray) -> float:
    """FID between classifier features of ``fake`` and ``real`` (gankit's digit FID)."""
    from gankit.metrics.fid import fid_from_features

    return fid_from_features(features(fake), features(real))


def make_evaluator(kind: str, n: int, heldout, train_x: np.ndarray, final: bool):
    """The evaluation run at each point of the curve (``final``: the expensive extras too)."""
    xh, yh = heldout

    def dcgan(trainer) -> dict:
        fake = generate(trainer, n).numpy()
        row = {"score": round(classifier_score(fake), 3)}
        if final:
            from gankit.metrics.precision_recall import precision_recall

            row.update(baseline(trainer, fake))
            # diversity: 1,000 samples vs the 1,000 held-out digits (real training digits: 0.91)
            prec, rec = precision_recall(features(xh), features(fake[: len(xh)]))
            row.update(precision=round(prec, 3), recall=round(rec, 3))
        return row

    def cgan(trainer) -> dict:
        from gankit.metrics.conditional import label_accuracy, tstr_accuracy

        labels = torch.arange(n) % 10
        fake = generate(trainer, n, label=labels).numpy()
        row = {
            "label_acc": round(label_accuracy(fake, labels.numpy()), 4),
            "score": round(classifier_score(fake), 3),
        }
        if final:
            fake10k = generate(trainer, 10_000, seed=7, label=torch.arange(10_000) % 10).numpy()
            tstr = tstr_accuracy(fake10k, np.arange(10_000) % 10, xh, yh)
            row["tstr"] = round(tstr, 4)
        return row

    def infogan(trainer) -> dict:
        fam = trainer.family
        k = fam.cfg.n_cat
        per = max(n // k, 10)
        codes = torch.arange(k).repeat_interleave(per)
        fake = generate(trainer, len(codes), c_cat=codes).numpy()
        digit = predict(fake).reshape(k, per)  # (k, per): the classifier's digit per sample
        mapping = np.array([np.bincount(d, minlength=10).argmax() for d in digit])
        purity = float(np.mean(digit == mapping[:, None]))
        real = torch.from_numpy(xh).float().div(127.5).sub(1)  # (1000, 1, 28, 28) in [-1, 1]
        c_hat, _ = fam.predict_codes(real.to(trainer.device))
        acc = float(np.mean(mapping[c_hat.cpu().numpy()] == yh))
        return {
            "code_acc": round(acc, 4),
            "digits_found": int(len(set(mapping.tolist()))),
            "purity": round(purity, 4),
            "score": round(classifier_score(generate(trainer, n).numpy()), 3),
        }

    def baseline(trainer, fake: np.ndarray | None = None) -> dict:
        from gankit.metrics.memorization import memorization_stats

        fake = generate(trainer, n).numpy() if fake is None else fake
        row = {"score": round(classifier_score(fake), 3), "fid": round(fid_to(fake, xh), 3)}
        if final:
            s = memorization_stats(fake[:2000], train_x, xh)
            row["nn_ratio"] = round(float(s.ratio), 3)
            row["copies"] = round(float(s.copies), 4)
            row["exact_copies"] = round(float(s.exact_copies), 4)
        return row

    return {"dcgan": dcgan, "cgan": cgan, "infogan": infogan}.get(kind, baseline)


def main() -> None:
    p = base_parser(__doc__)
    p.add_argument("--preset", default="dcgan-mnist")
    p.add_argument("--every", type=int, default=500)
    p.add_argument("--n", type=int, default=5000, help="samples per evaluation")
    args = p.parse_args()
    print(command_line(), "|", load(), flush=True)
    t0 = time.perf_counter()
    trainer = make_trainer(
        args.preset, args.set, args.threads, args.seed, args.run_dir, train_split, args.resume
    )
    train, heldout = trainer.data, bundled_digits("heldout")
    kind = trainer.cfg.family
    evaluate = make_evaluator(kind, args.n, heldout, train.x.numpy(), final=False)
    curve = train_with_curve(trainer, trainer.tc.steps, args.every, evaluate)
    final = make_evaluator(kind, 10_000, heldout, train.x.numpy(), final=True)(trainer)
    precision = getattr(trainer, "precision", None) or trainer.tc.precision
    note = getattr(trainer, "precision_note", "")
    fields = {"precision": f"{precision} ({note})" if note else precision, **time_to_score(curve)}
    finish(args, curve, t0, **fields, **{"final (10,000 samples)": final})


def time_to_score(curve, bars: tuple[float, ...] = (9.0, 9.3)) -> dict[str, float | None]:
    """Training CPU seconds at the first curve point whose classifier score reaches each bar
    (None: never reached; the resolution is ``--every``)."""
    out = {}
    for bar in bars:
        hit = next((r for r in curve.rows if r.get("score", 0) >= bar), None)
        out[f"cpu_s_to_score_{bar}"] = None if hit is None else hit["cpu_s"]
        out[f"step_to_score_{bar}"] = None if hit is None else hit["step"]
    return out


if __name__ == "__main__":
    main()
