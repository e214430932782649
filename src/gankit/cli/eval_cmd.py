"""``gankit eval``: metrics for a run or a sample file, printed as a table and logged."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def eval_(
    target: Annotated[str, typer.Argument(help="run folder / number, or a samples .npz file")],
    metrics: Annotated[
        str | None, typer.Option(help="comma-separated metric names (default: those that fit)")
    ] = None,
    n: Annotated[int, typer.Option("--n", "-n", min=2, max=200_000, help="samples to draw")] = 5000,
    data: Annotated[
        str | None, typer.Option("--data", "-d", help="dataset to compare a .npz with")
    ] = None,
    samples: Annotated[
        Path | None, typer.Option(help="evaluate this .npz instead of sampling the run")
    ] = None,
    seed: Annotated[int, typer.Option(help="sampling and subset seed")] = 0,
    extractor: Annotated[str, typer.Option(help="auto, mnist-classifier or inception-v3")] = "auto",
    inception_weights: Annotated[
        Path | None,
        typer.Option(help="pt_inception-2015-12-05 weights", envvar="GANKIT_INCEPTION_WEIGHTS"),
    ] = None,
    runs_dir: Annotated[Path | None, typer.Option(envvar="GANKIT_RUNS_DIR")] = None,
) -> None:
    """Evaluate generated samples: FID/KID/classifier score/precision-recall for digits, mode
    coverage and JSD for 2-D toys, memorisation against held-out data.

    **Examples**: `gankit eval 3`, `gankit eval 3 --metrics fid,kid --n 10000`,
    `gankit eval samples.npz --data mnist5k`
    """
    from gankit.cli.main import console
    from gankit.data import data_config_from_arg
    from gankit.data.base import DataConfig
    from gankit.errors import ConfigError
    from gankit.metrics.evaluate import format_table
    from gankit.registry import METRICS
    from gankit.runs import find_run
    from gankit.train import evaluation as ev

    names = [m.strip() for m in metrics.split(",") if m.strip()] if metrics else None
    for name in names or []:
        METRICS.get(name)
    kw = {
        "extractor": extractor,
        "inception_weights": str(inception_weights) if inception_weights else None,
    }
    path = Path(target)
    if path.suffix == ".npz":
        if data is None:
            raise ConfigError(f"evaluating {target!r} needs --data NAME to compare with")
        cfg = DataConfig(**data_config_from_arg(data))
        results = ev.evaluate_dataset_samples(path, cfg, names, seed, **kw)
        run_dir = None
    else:
        run_dir = find_run(target, runs_dir)
        results = ev.evaluate_run(run_dir, names, n, seed, samples, **kw)
    console.print(format_table(results))
    if run_dir is not None:
        import json

        from gankit.runs import read_jsonl

        status = run_dir / "status.json"
        step = json.loads(status.read_text()).get("step") if status.is_file() else None
        if step is None:  # no status: the step of the last logged tick, else 0
            stats = read_jsonl(run_dir / "stats.jsonl")
            step = stats[-1].get("step", 0) if stats else 0
        from gankit.cli.compare import latest_results, passport_warnings
        from gankit.cli.main import err_console

        before = latest_results(run_dir)
        now = {r.name: r.to_dict() for r in results}
        for w in passport_warnings(before, now, "vs this run's previous evaluation"):
            err_console.print(f"[yellow]warning:[/] {w}", soft_wrap=True)
        ev.write_metrics(run_dir, ev.flat_record(step, results, "eval"))
        console.print(f"appended to {run_dir / 'metrics.jsonl'}")


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_)
