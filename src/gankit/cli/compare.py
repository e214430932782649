"""``gankit compare``: the latest evaluation of several runs side by side, with passport checks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def latest_results(run_dir: Path) -> dict[str, dict]:
    """name -> the newest result dict (value + passport) in a run's metrics.jsonl."""
    from gankit.runs import read_jsonl

    out: dict[str, dict] = {}
    for rec in read_jsonl(run_dir / "metrics.jsonl"):
        for r in rec.get("results", []):
            out[r["name"]] = {**r, "step": rec.get("step")}
    return out


def passport_warnings(a: dict[str, dict], b: dict[str, dict], label: str) -> list[str]:
    """Warnings for each metric present in both ``a`` and ``b`` whose passports differ."""
    from gankit.metrics.evaluate import compare_passports

    out = []
    for name in sorted(set(a) & set(b)):
        reasons = compare_passports(a[name], b[name])
        if reasons:
            out.append(f"{name} ({label}) not comparable: " + "; ".join(reasons))
    return out


def compare(
    runs: Annotated[list[str], typer.Argument(help="two or more run folders or numbers")],
    runs_dir: Annotated[Path | None, typer.Option(envvar="GANKIT_RUNS_DIR")] = None,
) -> None:
    """Show the newest evaluation of each run in one table and warn where numbers were computed
    differently (feature extractor, its weights, sample counts, reference set, version).

    **Example**: `gankit eval 3 && gankit eval 4 && gankit compare 3 4`
    """
    from rich.table import Table

    from gankit.cli.main import console, err_console
    from gankit.errors import ConfigError
    from gankit.runs import find_run

    if len(runs) < 2:
        raise ConfigError(f"compare needs two or more runs, got {len(runs)}")
    dirs = [find_run(r, runs_dir) for r in runs]
    results = [latest_results(d) for d in dirs]
    names = sorted(set().union(*results))
    if not names:
        raise ConfigError("none of these runs has been evaluated yet; run `gankit eval RUN` first")
    t = Table(title="latest evaluation per run")
    t.add_column("metric")
    for d in dirs:
        t.add_column(d.name)
    for name in names:
        cells = []
        for r in results:
            v = r.get(name, {}).get("value")
            cells.append("-" if v is None else f"{v:.4g}")
        t.add_row(name, *cells)
    console.print(t)
    for i in range(1, len(dirs)):
        for w in passport_warnings(results[0], results[i], f"{dirs[0].name} vs {dirs[i].name}"):
            err_console.print(f"[yellow]warning:[/] {w}", soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("compare")(compare)
