"""Evaluating runs and sample files with ``gankit.metrics``: the code behind ``gankit eval`` and
``--eval-every``. Generated samples are compared with the run's own training data; samples held
out of training (``data.holdout``) are the baseline for the memorisation check."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gankit.config import RunConfig
from gankit.data import DataConfig, load_dataset, split_holdout, to_uint8
from gankit.data.base import ArrayDataset
from gankit.errors import DataError
from gankit.metrics.evaluate import Result, evaluate

# Metrics computed during training when none are named: cheap ones that fit the data.
TRAINING_METRICS = {"images": ["fid", "inception-score"], "points": ["modes", "jsd"]}


def _subset(ds: ArrayDataset, n: int, seed: int) -> ArrayDataset:
    if n >= len(ds):
        return ds
    idx = torch.randperm(len(ds), generator=torch.Generator().manual_seed(seed))[:n]
    return ds.subset(idx)


def _as_numpy_samples(x: torch.Tensor, kind: str) -> np.ndarray:
    return (to_uint8(x) if kind == "images" else x.float().cpu()).numpy()


def flat_record(step: int | None, results: list[Result], source: str) -> dict[str, Any]:
    """One metrics.jsonl line: flat ``name: value`` pairs for charts, full results beside them."""
    rec: dict[str, Any] = {"step": step, "time": time.time(), "source": source}
    for r in results:
        if r.value is not None:
            rec[r.name] = r.value
    rec["better"] = {r.name: r.better for r in results}
    rec["results"] = [r.to_dict() for r in results]
    return rec


def evaluate_samples(
    fake: np.ndarray,
    fake_labels: np.ndarray | None,
    data: ArrayDataset,
    heldout: ArrayDataset | None,
    metrics: list[str] | None,
    seed: int = 0,
    reference: str = "train",
    **kw: Any,
) -> list[Result]:
    """Compare ``fake`` with up to len(fake) training samples; memorisation against held-out."""
    ref = _subset(data, max(len(fake), 2), seed)
    real = ref.x.numpy()
    results = evaluate(
        fake,
        real,
        metrics,
        info=data.info,
        fake_labels=fake_labels,
        real_labels=None if ref.y is None else ref.y.numpy(),
        reference=f"{reference}:{data.info.name} n={len(real)}",
        seed=seed,
        **kw,
    )
    names = {r.metric for r in results}
    if data.info.kind == "images" and "memorization" not in names:
        if metrics is None or "memorization" in metrics:
            # Every image run: against held-out images, or leave-one-out training images when
            # the run held none out.
            loo = heldout is None
            results += evaluate(
                fake,
                real if loo else heldout.x.numpy(),
                ["memorization"],
                info=data.info,
                train=data.x.numpy(),
                reference=(
                    f"leave-one-out:{data.info.name} n={len(data)}"
                    if loo
                    else f"holdout:{data.info.name} n={len(heldout)}"
                ),
                seed=seed,
                options={"memorization": {"baseline": "leave-one-out"}} if loo else None,
            )
    return results


def load_run_data(cfg: RunConfig) -> tuple[ArrayDataset, ArrayDataset | None]:
    return split_holdout(load_dataset(cfg.data, cfg.train.seed), cfg.data.holdout, cfg.train.seed)


def evaluate_run(
    run_dir: Path,
    metrics: list[str] | None = None,
    n: int = 5000,
    seed: int = 0,
    samples: Path | None = None,
    **kw: Any,
) -> list[Result]:
    """Evaluate a run's exported generator (or a sample file) against the run's data."""
    from gankit.generator import load

    cfg = RunConfig.model_validate_json((run_dir / "config.json").read_text())
    data, heldout = load_run_data(cfg)
    G = load(run_dir)
    if G.image_inputs() and samples is None:  # a translation: outputs against held-out targets
        return evaluate_translation(G, heldout if heldout is not None else data, n, seed)
    if samples is not None:
        fake, labels = read_samples(samples)
    else:
        fake_t, labels_t = G.sample_many(n, seed)  # the same draw as `gankit sample`
        fake, labels = fake_t.numpy(), None if labels_t is None else labels_t.numpy()
    return evaluate_samples(fake, labels, data, heldout, metrics, seed, **kw)


def evaluate_translation(G, pairs: ArrayDataset, n: int = 5000, seed: int = 0) -> list[Result]:
    """A translation generator on the (held-out) pairs: L1, PSNR, SSIM, sharpness, and for digit
    targets the classifier's accuracy against the source digit's label and FID."""
    from gankit.metrics.paired import translation_results

    if not isinstance(pairs, ArrayDataset):  # two unpaired domains: their aligned held-out part
        pairs = pairs.as_pairs()
    pairs = _subset(pairs, n, seed)
    spec = G.image_inputs()[0]
    if spec.kind == "frames":  # next-frame prediction: t+1 against the true next frames
        from gankit.metrics.video import next_frame_results

        frames = pairs.inputs[spec.name]
        outputs = G.predict(frames, 1)[:, 0].numpy()
        reference = f"{pairs.info.name}:heldout n={len(pairs)}"
        return next_frame_results(outputs, pairs.x.numpy(), frames[:, -1].numpy(), reference, seed)
    if spec.name in pairs.inputs:
        inputs = pairs.inputs[spec.name]
    else:  # an input the family makes from the clean image (super-resolution's degradation)
        bank, _ = G.family_cls.sample_bank(G.cfg, G.info, len(pairs), pairs)
        inputs = to_uint8(bank[spec.name])
    masks = pairs.inputs["mask"] if G.mask_input() is not None else None  # an inpainting
    other = {} if masks is None else {"mask": masks}
    outputs = G.translate(inputs, **other).numpy()
    labels = None if pairs.y is None else pairs.y.numpy()
    reference = f"{pairs.info.name}:heldout n={len(pairs)}"
    return translation_results(
        outputs,
        pairs.x.numpy(),
        labels,
        reference,
        seed,
        masks=None if masks is None else masks.numpy(),
    )


def read_samples(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """``images`` or ``points`` (and ``labels``) from a ``gankit sample`` .npz file."""
    if not path.is_file():
        raise DataError(f"sample file {str(path)!r} does not exist")
    try:
        with np.load(path, allow_pickle=False) as z:
            key = "images" if "images" in z else "points" if "points" in z else None
            if key is None:
                raise DataError(
                    f"sample file {str(path)!r} has neither 'images' nor 'points' "
                    f"(found: {', '.join(z.files) or 'nothing'})"
                )
            return z[key], (z["labels"] if "labels" in z else None)
    except (OSError, ValueError) as e:
        raise DataError(f"sample file {str(path)!r} is not a readable .npz: {e}") from None


def evaluate_dataset_samples(
    samples: Path, data: DataConfig, metrics: list[str] | None, seed: int = 0, **kw: Any
) -> list[Result]:
    """``gankit eval samples.npz --data NAME``: compare a sample file with a dataset."""
    fake, labels = read_samples(samples)
    ds = load_dataset(data, seed)
    return evaluate_samples(fake, labels, ds, None, metrics, seed, reference="data", **kw)


class TrainingEvaluator:
    """Called by the trainer every ``eval_every`` steps: samples from the current (EMA) generator."""

    def __init__(self, metrics: list[str] | None, n: int, seed: int = 0) -> None:
        self.metrics, self.n, self.seed = metrics, n, seed

    def __call__(self, trainer) -> list[Result]:
        info, fam = trainer.data.info, trainer.family
        g = torch.Generator().manual_seed(self.seed + 777)  # the same noise at every evaluation
        inputs = fam.latent(fam.cfg, info, self.n, generator=g)
        labels = None
        if fam.conditional:
            labels = torch.arange(self.n) % max(info.num_classes, 1)
            inputs["label"] = labels
        fake = _as_numpy_samples(trainer.generate(inputs), info.kind)
        metrics = self.metrics or TRAINING_METRICS[info.kind]
        return evaluate_samples(
            fake,
            None if labels is None else labels.numpy(),
            trainer.data,
            trainer.heldout,
            metrics,
            self.seed,
        )


def write_metrics(run_dir: Path, record: dict[str, Any]) -> None:
    with open(run_dir / "metrics.jsonl", "a") as f:
        f.write(json.dumps(record) + "\n")
