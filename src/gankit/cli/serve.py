"""``gankit serve``: the live web dashboard over a folder of runs."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated

import typer

EXAMPLES = """
**Examples**

- `gankit serve` — the runs in ./runs (or $GANKIT_RUNS_DIR) at http://127.0.0.1:8000/
- `gankit serve ~/experiments/runs --port 8080`
- `gankit serve --port 0` — any free port (the URL is printed)
- `gankit serve --host 0.0.0.0 --allow-host mybox.lan` — reachable from the network (no login!)
"""


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def url_host(host: str) -> str:
    if host in ("0.0.0.0", "::", "[::]"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def serve(
    runs_dir: Annotated[
        Path | None,
        typer.Argument(
            help="folder of runs (default: $GANKIT_RUNS_DIR or ./runs)",
            envvar="GANKIT_RUNS_DIR",
            show_default=False,
        ),
    ] = None,
    host: Annotated[
        str, typer.Option(help="address to listen on; anything but loopback is reachable by others")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="port; 0 picks a free one")] = 8000,
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-host",
            help="another name the server may be reached by (Host header), repeatable",
        ),
    ] = None,
    open_browser: Annotated[
        bool, typer.Option("--open", help="open the dashboard in a web browser")
    ] = False,
) -> None:
    from gankit.cli.main import console
    from gankit.errors import RunError
    from gankit.runs import runs_dir_default
    from gankit.web.app import create_app
    from gankit.web.server import bind, make_server

    runs_dir = runs_dir or runs_dir_default()
    if (runs_dir / "config.json").is_file():  # a single run was given: serve the folder it is in
        console.print(f"{runs_dir} is one run; serving the runs in {runs_dir.parent}")
        runs_dir = runs_dir.parent
    if runs_dir.exists() and not runs_dir.is_dir():
        raise RunError(f"{str(runs_dir)!r} is not a folder of runs")
    try:
        sock = bind(host, port)
    except OSError as e:
        hint = "choose another with --port (0 picks a free one)"
        raise RunError(f"cannot listen on {host}:{port}: {e.strerror or e}; {hint}") from e
    port = sock.getsockname()[1]
    if not is_loopback(host):
        console.print(
            f"[bold yellow]warning:[/] listening on {host}, reachable from other machines. "
            "The dashboard has no login: anyone who can reach this port can see your runs "
            "and run your generators."
            + ("" if allow_host else " Add --allow-host NAME for each name they will use.")
        )
    app = create_app(runs_dir, host=host, port=port, allow_hosts=allow_host or ())
    url = f"http://{url_host(host)}:{port}/"
    if not runs_dir.is_dir():
        console.print(f"no runs in {runs_dir} yet; they will appear when training starts")
    console.print(f"gankit dashboard: [bold]{url}[/]  (runs in {runs_dir.resolve()}; Ctrl-C stops)")
    print(f"serving {url}", flush=True)  # stdout, one line: for scripts and tests
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    server = make_server(app)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


serve.__doc__ = "Serve a live web dashboard of your runs: curves, samples, generation.\n" + EXAMPLES


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
