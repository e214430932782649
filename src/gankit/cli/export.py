"""``gankit export``: write a run's generator in a format other runtimes read (ONNX).

``gankit export RUN --onnx model.onnx`` traces the exported generator (``generator/``, or
cyclegan's ``generator_BA/`` with ``--direction BA``) into an ONNX model with a dynamic batch
axis, checks it against PyTorch in onnxruntime and writes it atomically. The inputs are named as
the generator declares them (``gankit.onnx_export`` lists them); images are float32 in [-1, 1].
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def export(
    run: Annotated[str, typer.Argument(help="run folder, run number, or generator/ folder")],
    onnx: Annotated[Path, typer.Option("--onnx", help="the .onnx file to write")],
    direction: Annotated[
        str, typer.Option(help="AB, or BA: a two-way run's B -> A generator (cyclegan)")
    ] = "AB",
    opset: Annotated[int, typer.Option(help="ONNX opset version")] = 17,
    check: Annotated[
        bool,
        typer.Option(
            "--check/--no-check", help="run the model in onnxruntime and compare with PyTorch"
        ),
    ] = True,
    runs_dir: Annotated[Path | None, typer.Option(envvar="GANKIT_RUNS_DIR")] = None,
) -> None:
    """Export a run's generator as an ONNX model (dynamic batch; inputs named as the generator
    declares them: `z`, codes, `label`, `source`/`image`, `mask`, `text`, `frames`).

    **Examples**: `gankit export 3 --onnx digits.onnx`,
    `gankit export runs/00007-cyclegan-digits2mnist --onnx b2a.onnx --direction BA`
    """
    from rich.markup import escape

    from gankit.cli.main import console
    from gankit.onnx_export import export_onnx
    from gankit.runs import find_run

    path = Path(run)
    if not (path / "config.json").is_file():
        path = find_run(run, runs_dir)
    result = export_onnx(path, onnx, direction=direction, opset=opset, check=check)

    def dims(d: dict) -> str:
        return f"{d['name']} {d['dtype']} ({', '.join(str(x) for x in d['shape'])})"

    console.print(f"wrote {escape(str(result.path))} (ONNX opset {result.opset})")
    console.print("  inputs: " + "; ".join(dims(d) for d in result.inputs))
    console.print("  output: " + dims(result.output) + " (as the PyTorch generator returns it)")
    if result.max_abs_diff is not None:
        console.print(
            f"  onnxruntime matches PyTorch: max |difference| {result.max_abs_diff:.1e} "
            f"on a batch of {result.checked_batch}"
        )


def register(app: typer.Typer) -> None:
    app.command("export")(export)
