"""The ``gankit`` command: parse, validate, call the library. A user mistake is one line, exit 2."""

from __future__ import annotations

import logging
import sys

import typer
from rich.console import Console
from rich.markup import escape

from gankit.cli import (
    compare,
    eval_cmd,
    export,
    inpaint,
    predict,
    resume,
    sample,
    serve,
    synth,
    train,
    translate,
    upscale,
)
from gankit.cli import list as list_cmd
from gankit.errors import GankitError

app = typer.Typer(
    name="gankit",
    help="Train, evaluate, explore and export generative adversarial networks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
console = Console(highlight=False, soft_wrap=True)  # results and progress: stdout
err_console = Console(stderr=True, highlight=False)  # errors: stderr

# Every command, in the order `gankit --help` lists them. A new command's module is imported
# above and registered here, where it should appear.
app.command("train", no_args_is_help=False)(train.train)
app.command("resume")(resume.resume)
app.command("sample")(sample.sample)
synth.register(app)
translate.register(app)
upscale.register(app)
inpaint.register(app)
predict.register(app)
app.command("list")(list_cmd.list_)
eval_cmd.register(app)
compare.register(app)
export.register(app)
serve.register(app)


def fail(message: str) -> None:
    """Print one line and exit 2 (a user error)."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    raise SystemExit(2)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        app(args=argv, prog_name="gankit", standalone_mode=True)
    except GankitError as e:
        fail(str(e))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
