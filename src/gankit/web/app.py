"""``create_app``: the dashboard, a read-only JSON API over run directories and a static page.

The run directory is the only input besides the exported generator (DESIGN.md, "Run directory =
the interface"): the server reads ``config.json``, ``status.json``, ``stats.jsonl``,
``metrics.jsonl``, ``samples/`` and ``generator/``, and never writes into a run.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

import gankit
from gankit.web import generate, runs_api, translate
from gankit.web.generators import GeneratorCache
from gankit.web.security import GENERATION_SLOTS, MAX_BODY, MAX_UPLOAD, Guard, host_names
from gankit.web.store import RunStore

STATIC = Path(__file__).parent / "static"


class StaticNoCache(StaticFiles):
    """The page's files, revalidated on every load (ETag), so an upgrade is never half-applied."""

    def file_response(self, *args, **kwargs) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        return response


def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


def create_app(
    runs_dir: Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    allow_hosts: Iterable[str] = (),
    generation_slots: int = GENERATION_SLOTS,
    max_body: int = MAX_BODY,
    max_upload: int = MAX_UPLOAD,
) -> FastAPI:
    """The dashboard app for the runs in ``runs_dir``, answering to ``host:port`` only."""
    app = FastAPI(
        title="gankit dashboard",
        version=gankit.__version__,
        description="Read-only API over gankit run directories, and a generation playground.",
        docs_url=None,  # Swagger UI would load scripts from a CDN; the schema is enough
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.store = RunStore(Path(runs_dir).resolve())
    app.state.generators = GeneratorCache()
    app.state.generation_slots = threading.BoundedSemaphore(generation_slots)
    hosts = host_names(host, port, allow_hosts)
    app.add_middleware(Guard, hosts=hosts, max_body=max_body, max_upload=max_upload)

    app.add_api_route("/", index, include_in_schema=False)
    app.mount("/static", StaticNoCache(directory=STATIC), name="static")
    for module in (runs_api, generate, translate):
        app.include_router(module.router)
    return app
