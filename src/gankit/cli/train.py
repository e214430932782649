"""``gankit train``: resolve a config, load the data, train, and say where the results are."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:  # the command imports torch only when it runs
    from gankit.config import RunConfig
    from gankit.train.session import OnEvent, RunResult

EXAMPLES = """
**Examples**

- `gankit train` — DCGAN on the 5,000 bundled MNIST digits (a few CPU minutes)
- `gankit train mlp-gan --data ring` — the original GAN on 8 Gaussians in a ring
- `gankit train dcgan --data ./my_images --image-size 64` — your own folder of images
- `gankit train --preset dcgan-textbook --steps 500` — the seed-004 textbook DCGAN
- `gankit train --set model.loss=hinge --set model.spectral_norm=true` — any config key
- `gankit train --config my.json --dry-run` — print the resolved config and stop

Presets: `gankit list presets`. Every key: `gankit train --dry-run`.
"""


def train(
    family: Annotated[
        str | None, typer.Argument(help="GAN family (see `gankit list families`)")
    ] = None,
    data: Annotated[
        str | None, typer.Option("--data", "-d", help="dataset name or image folder")
    ] = None,
    image_size: Annotated[int | None, typer.Option(help="resize images to N x N")] = None,
    preset: Annotated[
        str | None, typer.Option("--preset", "-p", help="start from a preset")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="JSON/TOML config file")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", "-s", help="override any key: train.steps=100 (repeatable)"),
    ] = None,
    steps: Annotated[int | None, typer.Option(help="generator updates")] = None,
    batch_size: Annotated[int | None, typer.Option(help="batch size per process")] = None,
    lr: Annotated[float | None, typer.Option(help="learning rate of G and D")] = None,
    seed: Annotated[int | None, typer.Option(help="random seed")] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu, cuda, cuda:N or mps")] = None,
    precision: Annotated[
        str | None,
        typer.Option(help="auto (default: bf16 where measured faster), fp32, bf16 or fp16 (CUDA)"),
    ] = None,
    ema: Annotated[float | None, typer.Option(help="generator EMA decay, e.g. 0.999")] = None,
    eval_every: Annotated[
        int | None, typer.Option(help="evaluate every K steps (metrics.jsonl)")
    ] = None,
    eval_metric: Annotated[
        str | None, typer.Option(help="keep the best checkpoint by this number, e.g. fid")
    ] = None,
    early_stop: Annotated[
        int | None, typer.Option(help="stop after K evaluations without improvement")
    ] = None,
    name: Annotated[str | None, typer.Option(help="run name (default: FAMILY-DATA)")] = None,
    runs_dir: Annotated[
        Path | None, typer.Option(help="where runs are written", envvar="GANKIT_RUNS_DIR")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="print the resolved config and stop")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
) -> None:
    from gankit.cli.main import console
    from gankit.config import parse_override, read_config_file
    from gankit.data import data_config_from_arg
    from gankit.presets import resolve
    from gankit.train.session import train_run

    flags: dict = {"data": {}, "train": {}, "model": {}}
    if data is not None:
        flags["data"].update(data_config_from_arg(data))
        if flags["data"].get("name") != "folder":
            flags["data"]["path"] = None
    if image_size is not None:
        flags["data"]["image_size"] = image_size
    for key, value in (
        ("steps", steps),
        ("batch_size", batch_size),
        ("seed", seed),
        ("device", device),
        ("precision", precision),
        ("ema", ema),
        ("eval_every", eval_every),
        ("eval_metric", eval_metric),
        ("early_stop", early_stop),
    ):
        if value is not None:
            flags["train"][key] = value
    if lr is not None:
        flags["model"]["lr"] = {"G": lr, "D": lr}
    if name is not None:
        flags["name"] = name
    notes: list[str] = []
    cfg = resolve(
        family=family,
        preset=preset,
        file_cfg=read_config_file(config) if config else None,
        flags=flags,
        overrides=[parse_override(s) for s in set_ or []],
        notes=notes,
    )
    if dry_run:
        for line in notes:  # why this preset (a user's folder: its image count and size)
            console.print(line)
        console.print_json(cfg.model_dump_json())
        return
    for line in notes:
        console.print(line)
    result = train_run(cfg, runs_dir, progress=not quiet, on_event=event_printer(cfg))
    report(result)


def describe(cfg: RunConfig, device: str, world: int) -> str:
    """One line: what is being trained, on what, how long; the full config is in config.json."""
    data = cfg.data.name + (f" {cfg.data.path}" if cfg.data.path else "")
    preset = f", preset {cfg.preset}" if cfg.preset else ""
    batch = f"batch {cfg.train.batch_size}" + (f" x {world} processes" if world > 1 else "")
    return f"{cfg.family} on {data}{preset}: {cfg.train.steps} steps, {batch}, device {device}"


def event_printer(cfg: RunConfig) -> OnEvent:
    """Print what ``train_run`` reports while it runs (rank 0 only)."""
    from gankit.cli.main import console

    def on_event(name: str, **v: Any) -> None:
        if name == "resumed":
            console.print(f"resuming from {v['checkpoint']} (step {v['step']})")
        elif name == "restarted":
            console.print("no checkpoint yet: starting the run again from step 0")
        elif name == "started":
            console.print(
                f"run directory: [bold]{v['run_dir']}[/]  (full config in config.json)\n"
                + describe(cfg, v["device"], v["world"])
                + (f", precision {v['precision']}" if v.get("precision") else "")
                + (f" ({v['precision_note']})" if v.get("precision_note") else "")
            )
        elif name == "interrupted":
            console.print(
                f"\nstopped at step {v['step']}; checkpoint saved. "
                f"Continue with: gankit resume {v['run_dir']}"
            )

    return on_event


def next_command(run_dir: Path) -> str:
    """What to run next with the exported generator, by what it takes (its declared inputs)."""
    import json

    meta_file = run_dir / "generator" / "config.json"
    inputs = json.loads(meta_file.read_text()).get("inputs", []) if meta_file.is_file() else []
    if any(i["kind"] == "mask" for i in inputs):
        return f"gankit inpaint {run_dir} --input IMAGE --mask MASK --out OUT"
    if any(i["kind"] == "frames" for i in inputs):
        return f"gankit predict {run_dir} --input VIDEO.gif --frames 10 --out rollout.gif"
    if any(i["kind"] == "image" for i in inputs):
        return f"gankit translate {run_dir} --input IMAGE_OR_FOLDER --out OUT --grid pairs.png"
    if any(i["kind"] == "text" for i in inputs):
        return (
            f"gankit sample {run_dir} --text 'A CAPTION' --n 16 --out samples.npz --grid grid.png"
        )
    if any(i["kind"] == "tags" for i in inputs):
        return (
            f"gankit sample {run_dir} --tags 'blue hair, glasses, smile' --n 16 "
            "--out samples.npz --grid grid.png"
        )
    return f"gankit sample {run_dir} --n 64 --out samples.npz --grid grid.png"


def report(result: RunResult) -> None:
    """Say where the finished run's samples and generator are; end a torchrun worker."""
    from gankit.cli.main import console

    if result.run_dir is not None:
        run_dir, last = result.run_dir, result.last
        keys = ("loss/D", "loss/G", "D(x)", "D(G(z))", "acc/D")
        # and each network's, for families with several generators or discriminators
        keys += tuple(k for k in last if k.startswith(("loss/D_", "loss/G_", "acc/D_")))
        shown = [k for k in keys if isinstance(last.get(k), float)]
        shown = [k for k in shown if not k.endswith(("_real", "_fake"))]
        stats = "  ".join(f"{k} {last[k]:.3f}" for k in shown)
        console.print(f"done: {result.steps} steps in {result.wall_s:.1f} s  {stats}")
        if result.near_copies:
            nc = result.near_copies
            console.print(
                f"near-copies: {nc['copies_pixels']:.1%} of {nc['n_samples']} samples in pixels, "
                f"{nc['copies_features']:.1%} in {nc['feature_space'].split(' (')[0]} features "
                f"(closer to a training image than 99 % of the {nc['n_heldout']} held-out images "
                f"are; a new real image would score {nc['floor_pixels']:.1%} / "
                f"{nc['floor_features']:.1%}); beside their nearest training images: "
                f"{run_dir / 'nearest.png'}"
            )
        console.print(
            f"samples:   {result.samples or run_dir / 'samples'}\n"
            f"generator: {run_dir / 'generator'}  (gankit.load('{run_dir}'))\n"
            f"next:      {next_command(run_dir)}"
        )
    if result.distributed:
        from gankit.train.distributed import exit_process

        exit_process(0)


train.__doc__ = "Train a GAN. With no arguments: DCGAN on the bundled MNIST digits.\n" + EXAMPLES
