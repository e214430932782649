"""`gankit eval`, evaluation during training (best checkpoint, early stop) and held-out data."""

from __future__ import annotations

import json

import numpy as np
import torch

from gankit.data import DataConfig, load_dataset, split_holdout
from gankit.presets import resolve
from gankit.registry import METRICS, register_metric
from gankit.train import checkpoint as ckpt
from gankit.train.evaluation import evaluate_run
from gankit.train.trainer import Trainer

RING = ["mlp-gan", "--data", "ring", "--set", "model.hidden=[16,16]", "-q"]


def test_holdout_is_disjoint_from_training_data():
    ds = load_dataset(DataConfig(name="digits"))
    train, held = split_holdout(ds, 100, seed=0)
    assert len(train) == len(ds) - 100 and len(held) == 100
    rows = {bytes(r) for r in ds.x.flatten(1).numpy()}
    assert len(rows) > 1700  # digits are (almost) all distinct, so bytes identify samples
    train_rows = {bytes(r) for r in train.x.flatten(1).numpy()}
    held_rows = {bytes(r) for r in held.x.flatten(1).numpy()}
    assert len(train_rows & held_rows) <= 2
    cfg = resolve(family="dcgan", flags={"data": {"name": "digits", "holdout": 100}})
    trainer = Trainer(cfg, progress=False)
    assert len(trainer.data) == len(ds) - 100 and torch.equal(trainer.heldout.x, held.x)


def test_eval_cli_on_a_run_and_on_a_sample_file(run_gankit, tmp_path):
    assert run_gankit("train", *RING, "--steps", "20").returncode == 0
    run_dir = next((tmp_path / "runs").iterdir())
    res = run_gankit("eval", str(run_dir), "--n", "2500")
    assert res.returncode == 0, res.stderr
    assert "modes-covered" in res.stdout and "jsd" in res.stdout
    rec = json.loads((run_dir / "metrics.jsonl").read_text().splitlines()[-1])
    assert rec["source"] == "eval" and 0 <= rec["jsd"] <= np.log(2) + 1e-9
    passport = rec["results"][0]["passport"]
    assert passport["n_fake"] == 2500 and passport["gankit_version"]
    # A sample file against a named dataset.
    run_gankit("sample", str(run_dir), "--n", "2500", "--out", "s.npz")
    res = run_gankit("eval", "s.npz", "--data", "ring", "--metrics", "modes")
    assert res.returncode == 0, res.stderr
    assert "modes-covered" in res.stdout and "jsd" not in res.stdout


def test_sample_and_eval_draw_the_same_samples_for_a_seed(run_gankit, tmp_path):
    # A conditional run and more samples than one chunk of 1024: noise seeds and class labels
    # cross a chunk border.
    tiny = ["--batch-size", "16", "--set", "model.g_channels=8", "--set", "model.d_channels=8"]
    res = run_gankit("train", "cgan", "--data", "digits", *tiny, "--steps", "2", "-q")
    assert res.returncode == 0, res.stderr
    run_dir = next((tmp_path / "runs").iterdir())
    n, seed = 1500, 7
    res = run_gankit("sample", str(run_dir), "--n", str(n), "--seed", str(seed), "--out", "s.npz")
    assert res.returncode == 0, res.stderr
    seen = []  # what `gankit eval`'s metrics are given, through a metric of this test's own

    @register_metric("test-samples-seen")
    def samples_seen(ctx):
        seen.append((ctx.fake, ctx.fake_labels))
        return []

    try:
        evaluate_run(run_dir, ["test-samples-seen"], n, seed)
    finally:
        METRICS.unregister("test-samples-seen")
    ((fake, labels),) = seen
    with np.load(tmp_path / "s.npz") as z:
        assert z["images"].shape == fake.shape == (n, 1, 8, 8)
        assert np.array_equal(z["images"], fake)
        assert np.array_equal(z["labels"], labels)
    assert labels.tolist() == [i % 10 for i in range(n)]
    res = run_gankit("sample", str(run_dir), "--n", "4", "--seed", "8", "--out", "t.npz")
    assert not np.array_equal(np.load(tmp_path / "t.npz")["images"], fake[:4])  # seeds matter


def test_eval_bad_input(run_gankit, tmp_path):
    assert run_gankit("train", *RING, "--steps", "5").returncode == 0
    run_dir = next((tmp_path / "runs").iterdir())
    res = run_gankit("eval", str(run_dir), "--metrics", "fid,nosuch")
    assert res.returncode == 2 and "unknown metric 'nosuch'" in res.stderr
    res = run_gankit("eval", "missing.npz")
    assert res.returncode == 2 and "--data" in res.stderr
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    res = run_gankit("eval", "bad.npz", "--data", "ring")
    assert res.returncode == 2 and "bad.npz" in res.stderr
    assert not (run_dir / "metrics.jsonl").exists()


def test_eval_every_keeps_best_and_stops_early(tmp_path):
    cfg = resolve(
        family="mlp-gan",
        flags={
            "data": {"name": "ring"},
            "model": {"hidden": [16, 16], "lr": {"G": 1e-9, "D": 1e-9}},  # learns nothing
            "train": {
                "steps": 100,
                "batch_size": 32,
                "eval_every": 5,
                "eval_n": 500,
                "eval_metric": "jsd",
                "early_stop": 2,
                "log_every": 5,
            },
        },
    )
    trainer = Trainer(cfg, progress=False)
    trainer.run_dir = tmp_path
    trainer.fit()
    records = [json.loads(l) for l in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert trainer.step < 100, "early stopping did not trigger"
    assert [r["step"] for r in records] == list(range(5, trainer.step + 1, 5))
    best = ckpt.load_checkpoint(tmp_path / "checkpoints" / "best.pt")
    best_info = json.loads(best["best"])  # best.pt carries the record that made it best
    assert best_info == trainer.best
    assert trainer.best["metric"] == "jsd"
    assert trainer.best["value"] == min(r["jsd"] for r in records[: len(records)])
    assert best["step"] == best_info["step"] == trainer.best["step"]
    status = json.loads((tmp_path / "status.json").read_text())
    assert status["state"] == "finished" and status.get("early_stopped") is True


def test_compare_runs_warns_on_different_passports(run_gankit, tmp_path):
    for name in ("a", "b"):
        assert run_gankit("train", *RING, "--steps", "10", "--name", name).returncode == 0
    for run in ("0", "1"):
        res = run_gankit("eval", run, "--n", "2500")
        assert res.returncode == 0, res.stderr
    res = run_gankit("compare", "0", "1")
    assert res.returncode == 0, res.stderr
    assert "modes-covered" in res.stdout and "not comparable" not in res.stderr
    res = run_gankit("eval", "1", "--n", "1000")  # a different sample size warns
    assert res.returncode == 0, res.stderr
    assert "not comparable" in res.stderr and "n_fake differs (2500 vs 1000)" in res.stderr
    res = run_gankit("compare", "0", "1")
    assert "jsd" in res.stderr and "n_fake differs" in res.stderr
    res = run_gankit("compare", "0")
    assert res.returncode == 2 and "two or more" in res.stderr


def test_early_stop_at_the_last_step_still_finishes_the_run(tmp_path):
    """Early stopping that fires on the last step's evaluation saves, exports and says
    'finished' like any other stop (the checkpoint tick comes after the evaluation)."""
    from gankit.metrics.evaluate import Result
    from gankit.train.trainer import write_config

    cfg = resolve(
        family="mlp-gan",
        flags={
            "data": {"name": "ring", "limit": 256},
            "train": {
                "steps": 4,
                "batch_size": 16,
                "eval_every": 2,
                "eval_metric": "score",
                "early_stop": 1,
                "checkpoint_every": 100,
                "device": "cpu",
            },
        },
        overrides=[{"model": {"hidden": [8, 8]}}],
    )
    write_config(tmp_path, cfg)

    def flat(trainer):  # the same value at every evaluation: no improvement after the first
        return [Result("score", "score", 1.0, better="higher")]

    trainer = Trainer(cfg, run_dir=tmp_path, progress=False, evaluator=flat)
    trainer.fit()
    assert trainer.step == 4
    status = json.loads((tmp_path / "status.json").read_text())
    assert status["state"] == "finished" and status["early_stopped"] is True
    assert status["step"] == 4
    assert [s for s, _ in ckpt.list_checkpoints(tmp_path / "checkpoints")] == [4]
    exported = json.loads((tmp_path / "generator" / "config.json").read_text())
    assert exported["step"] == 4
