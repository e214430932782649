"""Read-only routes over the runs folder: the list, one run, its curves, samples and 2-D frames."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

import gankit
from gankit.runs import read_json, sample_steps
from gankit.web.generators import Generators
from gankit.web.schemas import (
    ERRORS,
    MAX_N,
    MAX_SEED,
    MAX_STEP,
    NOT_FOUND,
    PNG,
    InfoOut,
    RunDetail,
    RunId,
    RunOut,
    SampleList,
    Series,
    Step,
    Surface,
    ToyFrame,
)
from gankit.web.store import Store, columns, finite, health_events, metric_values

router = APIRouter()
RUN = {**ERRORS, **NOT_FOUND}


@router.get("/api/info", summary="Server info", responses=ERRORS)
def info(store: Store) -> InfoOut:
    """The server: gankit version, the runs folder, generation limits."""
    return InfoOut(
        version=gankit.__version__, runs_dir=str(store.runs_dir), max_n=MAX_N, max_seed=MAX_SEED
    )


@router.get("/api/runs", summary="List runs", responses=ERRORS)
def runs(store: Store) -> list[RunOut]:
    """Every run in the folder, oldest first, with its state, step and latest numbers."""
    out = []
    for run_id in store.ids():
        try:
            out.append(store.summary(run_id))
        except (OSError, ValueError):  # a run being deleted or copied right now
            continue
    return out


@router.get("/api/runs/{run_id}", summary="One run", responses=RUN)
def run(run_id: RunId, store: Store, generators: Generators) -> RunDetail:
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


@router.get("/api/runs/{run_id}/stats", summary="Training scalars", responses=RUN)
def stats(
    run_id: RunId,
    store: Store,
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


@router.get("/api/runs/{run_id}/metrics", summary="Evaluation metrics", responses=RUN)
def metrics(run_id: RunId, store: Store) -> Series:
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


@router.get("/api/runs/{run_id}/samples", summary="Sample steps", responses=RUN)
def samples(run_id: RunId, store: Store) -> SampleList:
    """The steps that have a sample grid, and those with 2-D toy data."""
    png, toy = sample_steps(store.get(run_id))
    return SampleList(steps=png, toy_steps=toy)


@router.get(
    "/api/runs/{run_id}/samples/{step}.png",
    summary="Sample grid (PNG)",
    response_class=Response,
    responses={200: PNG, **RUN},
)
def sample_png(run_id: RunId, step: Step, store: Store) -> Response:
    """The sample grid (from the fixed noise bank) written at ``step``."""
    path = store.sample_file(run_id, step, "png")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise HTTPException(404, f"run {run_id!r} has no sample at step {step}") from e
    return Response(data, media_type="image/png", headers={"Cache-Control": "no-cache"})


def points(v: Any) -> list[tuple[float, float]]:
    """Finite (x, y) pairs from a JSON list; anything else in it is dropped."""
    out = []
    for p in v if isinstance(v, list) else []:
        if isinstance(p, list) and len(p) == 2:
            x, y = finite(p[0]), finite(p[1])
            if x is not None and y is not None:
                out.append((round(x, 5), round(y, 5)))  # float32 noise off the wire
    return out


@router.get("/api/runs/{run_id}/toy/{step}", summary="2-D points and D's surface", responses=RUN)
def toy(run_id: RunId, step: Step, store: Store) -> ToyFrame:
    """Real and generated 2-D points and D's decision surface at ``step`` (toy data)."""
    doc = read_json(store.sample_file(run_id, step, "json"))
    if doc is None:
        raise HTTPException(404, f"run {run_id!r} has no readable 2-D sample at step {step}")
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
