"""The dashboard's web server: a read-only JSON API over run directories, and a static page.

The run directory is the only input besides the exported generator (DESIGN.md, "Run directory =
the interface"): the server reads ``config.json``, ``status.json``, ``stats.jsonl``,
``metrics.jsonl``, ``samples/`` and ``generator/``, and never writes into a run.

Security, for a server that holds no secrets but runs models on the user's machine:

- loopback by default; the CLI warns when asked to listen anywhere else;
- a request whose ``Host`` is not one of the server's own names gets 400 (DNS rebinding), one
  whose ``Origin`` is not the server's own origin gets 403 (cross-site requests, CSRF);
- request bodies are limited (413), generation is bounded in size (422) and in concurrency (429);
- files are found by run id (a folder name checked against a strict pattern *and* looked up in the
  listing of the runs folder) and by integer step, never by a path taken from the request;
- every response carries a strict Content-Security-Policy and ``nosniff``.
"""

from __future__ import annotations

import json
import math
import os
import re
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import torch
from fastapi import FastAPI, HTTPException, Query
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field

import gankit
from gankit.runs import RUN_NAME, STALE_AFTER_S

STATIC = Path(__file__).parent / "static"

RUN_ID_PATTERN = r"^\d{5}-[A-Za-z0-9_+-][A-Za-z0-9._+-]{0,119}$"
RUN_ID = re.compile(RUN_ID_PATTERN)
SAMPLE_FILE = re.compile(r"^step_(\d{9})\.(png|json)$")
MAX_BODY = 16 * 1024  # bytes of a request body
MAX_N = 256  # samples per generation request
MAX_SEED = 2**31 - 1
MAX_STEP = 10**12
GENERATION_SLOTS = 2  # generation requests running at once; more get 429
GENERATOR_CACHE = 4  # loaded generators kept in memory
CODE_RANGE = 2.0  # sliders for continuous latent codes span [-2, 2] (InfoGAN samples [-1, 1])

CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


# -- response and request models ------------------------------------------------------------------
class ErrorOut(BaseModel):
    detail: str


class HealthEvent(BaseModel):
    step: int
    message: str


class InfoOut(BaseModel):
    name: Literal["gankit"] = "gankit"
    version: str
    runs_dir: str
    max_n: int = Field(description="most samples one generation request may ask for")
    max_seed: int


class LatentInput(BaseModel):
    """A generator input other than the noise ``z``: a code the user can set with sliders."""

    name: str
    size: int = Field(
        description="values a request gives for it: one per dimension (continuous), "
        "or one per category as a one-hot list (categorical)"
    )
    kind: Literal["continuous", "categorical"]
    low: float
    high: float


class GeneratorOut(BaseModel):
    family: str
    kind: Literal["images", "points"]
    shape: list[int]
    step: int | None
    conditional: bool
    num_classes: int
    class_names: list[str]
    z_dim: int | None = Field(description="size of the noise input z, if the generator has one")
    codes: list[LatentInput] = Field(description="latent inputs other than z (InfoGAN codes…)")
    max_n: int


class RunOut(BaseModel):
    id: str = Field(description="the run's folder name, e.g. 00003-dcgan-mnist5k")
    number: int
    family: str
    data: str
    kind: Literal["images", "points"] | None
    state: str = Field(description="running, finished, failed, interrupted, stale or unknown")
    step: int
    total_steps: int
    updated: float | None = Field(description="unix time of the last status update")
    error: str | None = None
    latest: dict[str, float | None] = Field(description="the last logged training scalars")
    metrics: dict[str, float | None] = Field(description="the last evaluation's metrics")
    health: list[HealthEvent] = Field(description="every health warning the trainer logged")
    samples: int = Field(description="number of sample grids")
    has_generator: bool


class RunDetail(RunOut):
    config: dict[str, Any]
    generator: GeneratorOut | None
    sample_steps: list[int]
    toy_steps: list[int]


class Series(BaseModel):
    """Logged records as columns: ``values[key][i]`` was logged at ``steps[i]`` (null: absent)."""

    version: str = Field(description="changes when the file is rewritten (a resumed run)")
    last_step: int | None
    steps: list[int]
    values: dict[str, list[float | None]]
    health: list[HealthEvent]


class SampleList(BaseModel):
    steps: list[int] = Field(description="steps with a sample grid (PNG)")
    toy_steps: list[int] = Field(description="steps with 2-D points and D's surface (JSON)")


class Surface(BaseModel):
    x: list[float]
    y: list[float]
    D: list[list[float | None]] = Field(description="D's output on the grid, (len(y), len(x))")


class ToyFrame(BaseModel):
    step: int
    real: list[tuple[float, float]]
    fake: list[tuple[float, float]]
    surface: Surface | None


RunId = Annotated[
    str, PathParam(pattern=RUN_ID_PATTERN, max_length=126, description="run folder name")
]
Step = Annotated[int, PathParam(ge=0, le=MAX_STEP)]
Seed = Annotated[int, Field(ge=0, le=MAX_SEED)]
Codes = Annotated[
    dict[Annotated[str, Field(max_length=64)], Annotated[list[float], Field(max_length=512)]],
    Field(
        max_length=16,
        description="fixed values for latent inputs other than z, by name "
        "(see the run's generator.codes; one-hot lists for categorical codes)",
    ),
]


class GenerateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: Seed = 0
    n: int = Field(64, ge=1, le=MAX_N)
    label: int | None = Field(None, ge=0, le=100_000, description="class (conditional models)")
    codes: Codes = Field(default_factory=dict)
    nrow: int | None = Field(None, ge=1, le=MAX_N, description="images per row of the grid")


class InterpolateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed_a: Seed = 0
    seed_b: Seed = 1
    steps: int = Field(8, ge=2, le=16, description="images from A to B, both included")
    rows: int = Field(1, ge=1, le=8, description="independent strips (noise drawn per row)")
    spherical: bool = Field(True, description="slerp (for Gaussian noise) instead of lerp")
    label: int | None = Field(None, ge=0, le=100_000)
    codes: Codes = Field(default_factory=dict)


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Host header not accepted"},
    403: {"model": ErrorOut, "description": "cross-origin request refused"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "no such run"}
}
PNG = {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}}
GENERATION_ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorOut, "description": "the generator cannot be loaded or used this way"},
    413: {"model": ErrorOut, "description": f"request body over {MAX_BODY} bytes"},
    429: {"model": ErrorOut, "description": "too many generation requests at once"},
}


# -- reading run directories ----------------------------------------------------------------------
def finite(v: Any) -> float | None:
    """A JSON-safe number: NaN and infinities (a diverged run) become null."""
    return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None


def numbers(record: dict[str, Any], skip: Iterable[str] = ("step",)) -> dict[str, float | None]:
    """The numeric fields of a logged record (bools and strings are not curves)."""
    return {
        k: finite(v)
        for k, v in record.items()
        if k not in skip and isinstance(v, (int, float)) and not isinstance(v, bool)
    }


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        obj = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return obj if isinstance(obj, dict) else None


class JsonlTail:
    """An append-only JSONL file, read incrementally: each call parses only the new lines.

    A replaced file (a resumed run rewrites ``stats.jsonl`` atomically) or a shorter one is read
    again from the start; a torn last line is left for the next call.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.key: tuple[int, int] | None = None
        self.offset = 0
        self.records: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def read(self) -> tuple[str, list[dict[str, Any]]]:
        with self.lock:
            try:
                st = os.stat(self.path)
            except OSError:
                self.key, self.offset, self.records = None, 0, []
                return "none", []
            key = (st.st_dev, st.st_ino)
            if key != self.key or st.st_size < self.offset:
                self.key, self.offset, self.records = key, 0, []
            if st.st_size > self.offset:
                with open(self.path, "rb") as f:
                    f.seek(self.offset)
                    chunk = f.read(st.st_size - self.offset)
                end = chunk.rfind(b"\n") + 1  # complete lines only
                for line in chunk[:end].splitlines():
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(rec, dict) and isinstance(rec.get("step"), int):
                        self.records.append(rec)
                self.offset += end
            return f"{st.st_ino:x}", self.records


class RunStore:
    """Finds runs in one folder by id and reads their files (cached where it pays)."""

    def __init__(self, runs_dir: Path) -> None:
        self.runs_dir = runs_dir
        self._tails: dict[Path, JsonlTail] = {}
        self._lock = threading.Lock()

    def ids(self) -> list[str]:
        try:
            entries = list(os.scandir(self.runs_dir))
        except OSError:
            return []
        return sorted(
            e.name
            for e in entries
            if RUN_ID.match(e.name)
            and RUN_NAME.match(e.name)
            and os.path.isfile(os.path.join(e.path, "config.json"))
        )

    def get(self, run_id: str) -> Path:
        """The run folder named ``run_id``, only if it is in the listing (never a request path)."""
        if not RUN_ID.match(run_id) or run_id not in self.ids():
            raise HTTPException(404, f"no run {run_id!r} in the runs folder")
        return self.runs_dir / run_id

    def tail(self, path: Path) -> tuple[str, list[dict[str, Any]]]:
        with self._lock:
            t = self._tails.get(path)
            if t is None:
                t = self._tails[path] = JsonlTail(path)
        return t.read()

    def stats(self, run_dir: Path) -> tuple[str, list[dict[str, Any]]]:
        return self.tail(run_dir / "stats.jsonl")

    def metrics(self, run_dir: Path) -> tuple[str, list[dict[str, Any]]]:
        return self.tail(run_dir / "metrics.jsonl")

    @staticmethod
    def sample_steps(run_dir: Path) -> tuple[list[int], list[int]]:
        png, toy = [], []
        try:
            entries = list(os.scandir(run_dir / "samples"))
        except OSError:
            return [], []
        for e in entries:
            m = SAMPLE_FILE.match(e.name)
            if m:
                (png if m.group(2) == "png" else toy).append(int(m.group(1)))
        return sorted(png), sorted(toy)

    def summary(self, run_id: str, detail: bool = False) -> RunOut | RunDetail:
        run_dir = self.runs_dir / run_id
        cfg = read_json(run_dir / "config.json") or {}
        status = read_json(run_dir / "status.json") or {}
        _, stats = self.stats(run_dir)
        _, metrics = self.metrics(run_dir)
        gen_meta = read_json(run_dir / "generator" / "config.json")
        png, toy = self.sample_steps(run_dir)
        latest = stats[-1] if stats else {}
        state = str(status.get("state", "unknown"))
        updated = finite(status.get("updated"))
        if state == "running" and time.time() - (updated or 0) > STALE_AFTER_S:
            state = "stale"
        data = cfg.get("data") if isinstance(cfg.get("data"), dict) else {}
        train = cfg.get("train") if isinstance(cfg.get("train"), dict) else {}
        kind = None
        if gen_meta and isinstance(gen_meta.get("data"), dict):
            kind = gen_meta["data"].get("kind")
        if kind not in ("images", "points"):
            kind = "points" if toy else ("images" if png else None)
        step = status.get("step", latest.get("step", 0))
        fields = dict(
            id=run_id,
            number=int(run_id[:5]),
            family=str(cfg.get("family", "?")),
            data=str(data.get("path") or data.get("name", "?")),
            kind=kind,
            state=state,
            step=step if isinstance(step, int) else 0,
            total_steps=int(train.get("steps", 0) or 0),
            updated=updated,
            error=str(status["error"]) if status.get("error") else None,
            latest=numbers(latest),
            metrics=metric_values(metrics[-1]) if metrics else {},
            health=health_events(stats),
            samples=len(png),
            has_generator=(run_dir / "generator" / "model.safetensors").is_file(),
        )
        if not detail:
            return RunOut(**fields)
        return RunDetail(**fields, config=cfg, generator=None, sample_steps=png, toy_steps=toy)


def metric_values(record: dict[str, Any]) -> dict[str, float | None]:
    """A metrics.jsonl record: flat ``{step, time, fid: 12.3, ...}`` (``gankit.train.evaluation``
    writes these, with the full results beside them), or one result ``{name, value}``."""
    if isinstance(record.get("name"), str) and "value" in record:
        return {record["name"]: finite(record["value"])}
    return numbers(record, skip=("step", "time"))  # time: when it was evaluated (unix)


def health_events(stats: list[dict[str, Any]]) -> list[HealthEvent]:
    out = []
    for rec in stats:
        warnings = rec.get("health")
        if isinstance(warnings, list):
            out += [HealthEvent(step=rec["step"], message=str(w)) for w in warnings]
    return out


def columns(records: list[dict[str, Any]], values_of=numbers) -> tuple[list[int], dict]:
    """Records -> (steps, {key: values aligned with steps})."""
    steps = [r["step"] for r in records]
    cols: dict[str, list[float | None]] = {}
    for i, rec in enumerate(records):
        for k, v in values_of(rec).items():
            col = cols.get(k)
            if col is None:
                col = cols[k] = [None] * len(records)
            col[i] = v
    return steps, cols


# -- generators -----------------------------------------------------------------------------------
PROBE = 2048  # samples drawn once to see what each latent input looks like


def is_one_hot(t: torch.Tensor) -> bool:
    flat = t.reshape(t.shape[0], -1)
    return (
        flat.shape[1] > 1
        and bool(((flat == 0) | (flat == 1)).all())
        and bool((flat.sum(1) == 1).all())
    )


def describe_code(name: str, t: torch.Tensor) -> LatentInput | None:
    """What a slider needs to know about a latent input other than z, seen from samples of it.

    Integer inputs of one value per sample are category indices (InfoGAN's ``c_cat``: (N,));
    one-hot float rows are categories too; a float of one value per sample that lies in [0, 1] is
    a uniform draw (a self-conditioned DCGAN's ``u``, the quantile that picks its cluster); any
    other float input is a continuous code.
    """
    per_sample = int(np.prod(t.shape[1:]))
    if not t.is_floating_point():
        if per_sample != 1 or int(t.min()) < 0:
            return None
        categories = int(t.max()) + 1
        if categories < 2:
            return None  # a single category: nothing to choose
        return LatentInput(name=name, size=categories, kind="categorical", low=0, high=1)
    if per_sample == 0:
        return None
    if is_one_hot(t):
        return LatentInput(name=name, size=per_sample, kind="categorical", low=0, high=1)
    if per_sample == 1 and bool(((t >= 0) & (t <= 1)).all()):
        return LatentInput(name=name, size=1, kind="continuous", low=0, high=1)
    return LatentInput(
        name=name, size=per_sample, kind="continuous", low=-CODE_RANGE, high=CODE_RANGE
    )


class LoadedGenerator:
    def __init__(self, run_dir: Path, stamp: tuple) -> None:
        self.stamp = stamp
        self.g = gankit.load(run_dir)
        probe = self.g.latent(PROBE, seed=0)
        self.codes = [
            code
            for name, t in probe.items()
            if name != "z" and (code := describe_code(name, t)) is not None
        ]
        z = probe.get("z")
        info = self.g.info
        self.out = GeneratorOut(
            family=self.g.family,
            kind=info.kind,
            shape=list(info.shape),
            step=self.g.meta.get("step"),
            conditional=self.g.conditional,
            num_classes=info.num_classes,
            class_names=list(info.class_names),
            z_dim=int(np.prod(z.shape[1:])) if z is not None else None,
            codes=self.codes,
            max_n=MAX_N,
        )


class GeneratorCache:
    """Loaded generators by run, reloaded when the exported weights change on disk."""

    def __init__(self, size: int = GENERATOR_CACHE) -> None:
        self.size = size
        self.items: OrderedDict[str, LoadedGenerator] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, run_id: str, run_dir: Path) -> LoadedGenerator | None:
        folder = run_dir / "generator"
        try:
            stamp = tuple(
                (s.st_mtime_ns, s.st_size)
                for s in (os.stat(folder / "model.safetensors"), os.stat(folder / "config.json"))
            )
        except OSError:
            return None
        with self.lock:
            item = self.items.get(run_id)
            if item is None or item.stamp != stamp:
                try:
                    item = LoadedGenerator(run_dir, stamp)
                except Exception as e:  # a half-copied run, a family this install lacks, ...
                    raise HTTPException(409, f"the run's generator cannot be loaded: {e}") from e
                self.items[run_id] = item
            self.items.move_to_end(run_id)
            while len(self.items) > self.size:
                self.items.popitem(last=False)
            return item


def invalid(field: str, message: str, value: Any) -> RequestValidationError:
    """A 422 in FastAPI's own format, for checks that need the run (label range, code names)."""
    return RequestValidationError(
        [{"type": "value_error", "loc": ("body", field), "msg": message, "input": value}]
    )


def prepare_inputs(
    lg: LoadedGenerator, n: int, seed: int, label: int | None, codes: dict[str, list[float]]
) -> dict[str, torch.Tensor]:
    """Generator inputs for ``n`` samples with ``codes`` fixed and the class label set."""
    g = lg.g
    inputs = g.latent(n, seed)
    known = {c.name: c for c in lg.codes}
    for name, values in codes.items():
        spec = known.get(name)
        if spec is None:
            allowed = ", ".join(known) or "none"
            raise invalid(
                "codes", f"unknown latent code {name!r}; this generator has: {allowed}", name
            )
        if len(values) != spec.size:
            raise invalid(
                "codes", f"code {name!r} takes {spec.size} values, got {len(values)}", values
            )
        if not all(math.isfinite(v) and spec.low <= v <= spec.high for v in values):
            raise invalid(
                "codes", f"code {name!r} values must lie in [{spec.low}, {spec.high}]", values
            )
        t = inputs[name]
        if t.is_floating_point():
            value = torch.tensor(values, dtype=t.dtype).view(1, *t.shape[1:])
            inputs[name] = value.expand_as(t).clone()
        else:  # a category index per sample, chosen by the one-hot list
            inputs[name] = torch.full_like(t, int(np.argmax(values)))
    if g.conditional:
        k = g.info.num_classes
        if label is not None and not 0 <= label < k:
            raise invalid("label", f"label {label} is out of range; allowed: 0..{k - 1}", label)
        inputs["label"] = g.labels(n, label, seed)
    elif label is not None:
        raise invalid("label", f"family {g.family!r} is not conditional: give no label", label)
    return inputs


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation per row (a, b: (N, D)), the path that keeps Gaussian norms."""
    a_n, b_n = a / a.norm(dim=1, keepdim=True), b / b.norm(dim=1, keepdim=True)
    omega = torch.acos((a_n * b_n).sum(1, keepdim=True).clamp(-1, 1))
    so = torch.sin(omega)
    lerp = (1 - t) * a + t * b
    out = (torch.sin((1 - t) * omega) / so) * a + (torch.sin(t * omega) / so) * b
    return torch.where(so.abs() < 1e-6, lerp, out)


_PLOT_LOCK = threading.Lock()  # matplotlib's pyplot is not thread-safe


def render(lg: LoadedGenerator, out: torch.Tensor, nrow: int | None, real=None) -> bytes:
    """Images -> a PNG grid; points -> a PNG scatter over the latest real points."""
    from gankit.data import to_uint8
    from gankit.viz import image_grid, png_bytes, scatter_png

    if lg.g.info.kind == "images":
        return png_bytes(image_grid(to_uint8(out), nrow=nrow))
    pts = out.float().cpu().numpy().reshape(-1, 2)  # (N, 2)
    with _PLOT_LOCK:
        return scatter_png(real if real is not None else np.zeros((0, 2)), pts)


class StaticNoCache(StaticFiles):
    """The page's files, revalidated on every load (ETag), so an upgrade is never half-applied."""

    def file_response(self, *args, **kwargs) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        return response


# -- the guard: Host, Origin, body size, security headers -----------------------------------------
def host_names(host: str, port: int, extra: Iterable[str] = ()) -> set[str]:
    """The Host header values the server answers to: loopback names and the bind address."""
    names = set(LOOPBACK_NAMES)
    for h in (host, *extra):
        h = h.strip().lower()
        if h and h not in ("0.0.0.0", "::", "[::]"):
            names.add(f"[{h}]" if ":" in h and not h.startswith("[") else h)
    out = {f"{n}:{port}" for n in names}
    if port == 80:
        out |= names
    return out


class Guard:
    """ASGI middleware: refuse foreign Host/Origin and big bodies; add security headers."""

    def __init__(self, app, hosts: set[str], max_body: int = MAX_BODY) -> None:
        self.app, self.hosts, self.max_body = app, hosts, max_body
        self.origins = {f"http://{h}" for h in hosts}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers: dict[str, list[str]] = {}
        for k, v in scope["headers"]:
            headers.setdefault(k.decode("latin-1").lower(), []).append(v.decode("latin-1"))
        host = headers.get("host", [])
        if len(host) != 1 or host[0].lower() not in self.hosts:
            return await self.refuse(send, 400, "Host header not accepted: use the server's URL")
        origin = headers.get("origin", [])
        if origin and (len(origin) != 1 or origin[0].lower() not in self.origins):
            return await self.refuse(send, 403, "cross-origin request refused")
        site, mode = headers.get("sec-fetch-site", [""])[0], headers.get("sec-fetch-mode", [""])[0]
        if site == "cross-site" and mode != "navigate":
            return await self.refuse(send, 403, "cross-site request refused")
        length = headers.get("content-length", [])
        if length:
            if len(length) != 1 or not length[0].isdigit():
                return await self.refuse(send, 400, "bad Content-Length")
            if int(length[0]) > self.max_body:
                return await self.refuse(send, 413, f"request body over {self.max_body} bytes")

        receive_app = receive
        if length or "transfer-encoding" in headers:
            # Read the whole (small) body first: a chunked body has no length to check upfront.
            body, more = b"", True
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    return  # the client went away
                body += message.get("body", b"")
                more = message.get("more_body", False)
                if len(body) > self.max_body:
                    return await self.refuse(send, 413, f"request body over {self.max_body} bytes")
            replayed = False

            async def receive_app():
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

        async def secured_send(message):
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive_app, secured_send)

    @staticmethod
    async def refuse(send, status: int, detail: str) -> None:
        body = json.dumps({"detail": detail}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
            *SECURITY_HEADERS,
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


# -- the app --------------------------------------------------------------------------------------
def create_app(
    runs_dir: Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    allow_hosts: Iterable[str] = (),
    generation_slots: int = GENERATION_SLOTS,
    max_body: int = MAX_BODY,
) -> FastAPI:
    """The dashboard app for the runs in ``runs_dir``, answering to ``host:port`` only."""
    runs_dir = Path(runs_dir).resolve()
    store = RunStore(runs_dir)
    generators = GeneratorCache()
    slots = threading.BoundedSemaphore(generation_slots)

    app = FastAPI(
        title="gankit dashboard",
        version=gankit.__version__,
        description="Read-only API over gankit run directories, and a generation playground.",
        docs_url=None,  # Swagger UI would load scripts from a CDN; the schema is enough
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.store, app.state.generators, app.state.generation_slots = store, generators, slots
    app.add_middleware(Guard, hosts=host_names(host, port, allow_hosts), max_body=max_body)

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticNoCache(directory=STATIC), name="static")

    @app.get("/api/info", summary="Server info", responses=ERRORS)
    def info() -> InfoOut:
        """The server: gankit version, the runs folder, generation limits."""
        return InfoOut(
            version=gankit.__version__, runs_dir=str(runs_dir), max_n=MAX_N, max_seed=MAX_SEED
        )

    @app.get("/api/runs", summary="List runs", responses=ERRORS)
    def runs() -> list[RunOut]:
        """Every run in the folder, oldest first, with its state, step and latest numbers."""
        out = []
        for run_id in store.ids():
            try:
                out.append(store.summary(run_id))
            except (OSError, ValueError):  # a run being deleted or copied right now
                continue
        return out

    @app.get("/api/runs/{run_id}", summary="One run", responses={**ERRORS, **NOT_FOUND})
    def run(run_id: RunId) -> RunDetail:
        """One run: its summary, resolved config, exported generator and sample steps."""
        run_dir = store.get(run_id)
        detail = store.summary(run_id, detail=True)
        lg = None
        try:
            lg = generators.get(run_id, run_dir)
        except HTTPException:
            pass  # the page shows the run; generation reports the error
        detail.generator = lg.out if lg else None
        return detail

    @app.get(
        "/api/runs/{run_id}/stats", summary="Training scalars", responses={**ERRORS, **NOT_FOUND}
    )
    def stats(
        run_id: RunId,
        since: Annotated[int, Query(ge=-1, le=MAX_STEP, description="only steps after this")] = -1,
    ) -> Series:
        """Training scalars from stats.jsonl as columns; poll with ``since`` for new ones."""
        version, records = store.stats(store.get(run_id))
        new = [r for r in records if r["step"] > since]
        steps, values = columns(new)
        return Series(
            version=version,
            last_step=records[-1]["step"] if records else None,
            steps=steps,
            values=values,
            health=health_events(new),
        )

    @app.get(
        "/api/runs/{run_id}/metrics",
        summary="Evaluation metrics",
        responses={**ERRORS, **NOT_FOUND},
    )
    def metrics(run_id: RunId) -> Series:
        """Evaluation metrics from metrics.jsonl as columns (empty if never evaluated)."""
        version, records = store.metrics(store.get(run_id))
        steps, values = columns(records, metric_values)
        return Series(
            version=version,
            last_step=records[-1]["step"] if records else None,
            steps=steps,
            values=values,
            health=[],
        )

    @app.get(
        "/api/runs/{run_id}/samples", summary="Sample steps", responses={**ERRORS, **NOT_FOUND}
    )
    def samples(run_id: RunId) -> SampleList:
        """The steps that have a sample grid, and those with 2-D toy data."""
        png, toy = store.sample_steps(store.get(run_id))
        return SampleList(steps=png, toy_steps=toy)

    def sample_file(run_id: str, step: int, ext: str) -> Path:
        run_dir = store.get(run_id)
        path = run_dir / "samples" / f"step_{step:09d}.{ext}"
        if path.is_symlink() or not path.is_file():
            raise HTTPException(404, f"run {run_id!r} has no sample at step {step}")
        return path

    @app.get(
        "/api/runs/{run_id}/samples/{step}.png",
        summary="Sample grid (PNG)",
        response_class=Response,
        responses={200: PNG, **ERRORS, **NOT_FOUND},
    )
    def sample_png(run_id: RunId, step: Step) -> Response:
        """The sample grid (from the fixed noise bank) written at ``step``."""
        path = sample_file(run_id, step, "png")
        try:
            data = path.read_bytes()
        except OSError as e:
            raise HTTPException(404, f"run {run_id!r} has no sample at step {step}") from e
        return Response(data, media_type="image/png", headers={"Cache-Control": "no-cache"})

    @app.get(
        "/api/runs/{run_id}/toy/{step}",
        summary="2-D points and D's surface",
        responses={**ERRORS, **NOT_FOUND},
    )
    def toy(run_id: RunId, step: Step) -> ToyFrame:
        """Real and generated 2-D points and D's decision surface at ``step`` (toy data)."""
        doc = read_json(sample_file(run_id, step, "json"))
        if doc is None:
            raise HTTPException(404, f"run {run_id!r} has no readable 2-D sample at step {step}")

        def points(v: Any) -> list[tuple[float, float]]:
            out = []
            for p in v if isinstance(v, list) else []:
                if isinstance(p, list) and len(p) == 2:
                    x, y = finite(p[0]), finite(p[1])
                    if x is not None and y is not None:
                        out.append((round(x, 5), round(y, 5)))  # float32 noise off the wire
            return out

        surface = None
        s = doc.get("surface")
        if isinstance(s, dict) and all(isinstance(s.get(k), list) for k in ("x", "y", "D")):
            xs, ys, D = s["x"], s["y"], s["D"]
            if len(D) == len(ys) and all(isinstance(r, list) and len(r) == len(xs) for r in D):
                surface = Surface(
                    x=[finite(v) or 0.0 for v in xs],
                    y=[finite(v) or 0.0 for v in ys],
                    D=[[finite(v) for v in row] for row in D],  # (len(y), len(x))
                )
        return ToyFrame(
            step=step, real=points(doc.get("real")), fake=points(doc.get("fake")), surface=surface
        )

    def generator_for(run_id: str) -> tuple[Path, LoadedGenerator]:
        run_dir = store.get(run_id)
        lg = generators.get(run_id, run_dir)
        if lg is None:
            raise HTTPException(404, f"run {run_id!r} has no exported generator yet")
        return run_dir, lg

    def latest_real(run_dir: Path) -> np.ndarray | None:
        _, toy_steps = store.sample_steps(run_dir)
        if not toy_steps:
            return None
        doc = read_json(run_dir / "samples" / f"step_{toy_steps[-1]:09d}.json") or {}
        try:
            return np.asarray(doc.get("real", []), dtype=np.float32).reshape(-1, 2)
        except ValueError:
            return None

    def generation_slot():
        if not slots.acquire(blocking=False):
            raise HTTPException(
                429, "too many generation requests at once; retry shortly", {"Retry-After": "1"}
            )
        return slots

    @app.post(
        "/api/runs/{run_id}/generate",
        summary="Generate samples (PNG)",
        response_class=Response,
        responses={200: PNG, **ERRORS, **NOT_FOUND, **GENERATION_ERRORS},
    )
    def generate(run_id: RunId, body: GenerateIn) -> Response:
        """Sample ``n`` images (a PNG grid) or 2-D points (a PNG scatter) from the generator."""
        run_dir, lg = generator_for(run_id)
        inputs = prepare_inputs(lg, body.n, body.seed, body.label, body.codes)
        nrow = body.nrow
        if nrow is None and lg.g.conditional and body.label is None:
            nrow = min(lg.g.info.num_classes, body.n)
        slot = generation_slot()
        try:
            with torch.inference_mode():
                out = lg.g(**inputs)
            real = latest_real(run_dir) if lg.g.info.kind == "points" else None
            png = render(lg, out, nrow, real)
        finally:
            slot.release()
        return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})

    @app.post(
        "/api/runs/{run_id}/interpolate",
        summary="Latent interpolation (PNG)",
        response_class=Response,
        responses={200: PNG, **ERRORS, **NOT_FOUND, **GENERATION_ERRORS},
    )
    def interpolate(run_id: RunId, body: InterpolateIn) -> Response:
        """A strip from seed A's noise to seed B's (``rows`` strips, ``steps`` images each)."""
        _, lg = generator_for(run_id)
        if lg.g.info.kind != "images":
            raise HTTPException(409, "interpolation strips are for image generators")
        a = prepare_inputs(lg, body.rows, body.seed_a, body.label, body.codes)
        b = prepare_inputs(lg, body.rows, body.seed_b, body.label, body.codes)
        fixed = set(body.codes) | {"label"} | {c.name for c in lg.codes if c.kind == "categorical"}
        frames: list[dict[str, torch.Tensor]] = []
        for i in range(body.steps):
            t = i / (body.steps - 1)
            frame = {}
            for k, va in a.items():
                vb = b[k]
                if k in fixed or not va.is_floating_point():
                    frame[k] = va
                elif body.spherical and va.dim() > 1:  # (N,) inputs such as a cluster draw: lerp
                    frame[k] = slerp(va.flatten(1), vb.flatten(1), t).view_as(va)
                else:
                    frame[k] = (1 - t) * va + t * vb
            frames.append(frame)
        # (steps, rows, ...) -> rows of the grid: row r holds strip r from A to B
        inputs = {k: torch.stack([f[k] for f in frames], 1).flatten(0, 1) for k in a}
        slot = generation_slot()
        try:
            with torch.inference_mode():
                out = lg.g(**inputs)
            png = render(lg, out, body.steps)
        finally:
            slot.release()
        return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})

    return app


# -- running it -----------------------------------------------------------------------------------
def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: a free one; read it back with getsockname)."""
    family, kind, proto, _, addr = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(addr)
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def make_server(app: FastAPI, log_level: str = "warning"):
    import uvicorn

    config = uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,
        lifespan="off",
        server_header=False,
        proxy_headers=False,
        limit_concurrency=64,
        timeout_graceful_shutdown=2,
    )
    return uvicorn.Server(config)
