"""``gankit list``: runs, families, datasets, presets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

WHAT = ("all", "runs", "families", "datasets", "presets", "metrics")


def list_(
    what: Annotated[
        str, typer.Argument(help="all, runs, families, datasets, presets, metrics")
    ] = "all",
    runs_dir: Annotated[Path | None, typer.Option(envvar="GANKIT_RUNS_DIR")] = None,
) -> None:
    """List runs (with family, data, state, step and latest losses) and what can be trained."""
    from gankit.errors import ConfigError
    from gankit.presets import PRESETS
    from gankit.registry import DATASETS, METRICS, MODELS
    from gankit.runs import list_runs, runs_dir_default

    if what not in WHAT:
        raise ConfigError(f"unknown list {what!r}; choose one of: {', '.join(WHAT)}")
    out = Console(highlight=False)
    if what in ("all", "runs"):
        rd = runs_dir or runs_dir_default()
        t = Table(title=f"runs in {rd}")
        for col in ("run", "family", "data", "state", "step", "loss/D", "loss/G", "acc/D"):
            t.add_column(col)
        for r in list_runs(rd):
            latest = r.latest

            def f(k: str, latest: dict = latest) -> str:
                if isinstance(latest.get(k), float):
                    return f"{latest[k]:.3f}"
                return per_network(latest, k)

            t.add_row(
                r.path.name,
                r.family,
                r.data,
                r.state,
                f"{r.step}/{r.total_steps}",
                f("loss/D"),
                f("loss/G"),
                f("acc/D"),
            )
        out.print(t)
    if what in ("all", "families"):
        out.print("[bold]families:[/] " + ", ".join(MODELS.names()))
    if what in ("all", "datasets"):
        out.print("[bold]datasets:[/] " + ", ".join(DATASETS.names()))
    if what in ("all", "presets"):
        t = Table(title="presets")
        for col in ("preset", "family", "data", "steps"):
            t.add_column(col)
        for name, p in sorted(PRESETS.items()):
            t.add_row(
                name, p["family"], p["data"]["name"], str(p.get("train", {}).get("steps", ""))
            )
        out.print(t)
    if what in ("all", "metrics") and METRICS.names():
        out.print("[bold]metrics:[/] " + ", ".join(METRICS.names()))


def per_network(latest: dict, key: str) -> str:
    """A family with several generators or discriminators logs ``loss/D_A``, ``loss/D_B``, ...
    in place of ``loss/D``: the column shows each, by network (``D_A 0.251 D_B 0.240``)."""
    kind, _, net = key.partition("/")
    found = [
        (k.partition("/")[2], v)
        for k, v in latest.items()
        if k.startswith(f"{key}_")
        and isinstance(v, float)
        and not k.endswith(("_real", "_fake"))
        and k.count("_") == net.count("_") + 1
    ]
    return " ".join(f"{n} {v:.3f}" for n, v in found) or "-"
