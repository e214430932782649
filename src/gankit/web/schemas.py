"""The API's request and response models, its bounds, and the errors each route documents."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path as PathParam
from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from gankit.web.security import MAX_BODY, MAX_UPLOAD

RUN_ID_PATTERN = r"^\d{5}-[A-Za-z0-9_+-][A-Za-z0-9._+-]{0,119}$"
MAX_N = 256  # samples per generation request
MAX_SEED = 2**31 - 1
MAX_STEP = 10**12
MAX_INDEX = 10**6  # held-out samples of a run


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


class InputOut(BaseModel):
    """One input the generator declares (``gankit.models.base.Input``)."""

    name: str = Field(description="the keyword of G.forward")
    kind: Literal["noise", "label", "code", "image", "mask", "text", "frames", "tags"]
    shape: list[int] = Field(description="per sample: (z_dim,), () for a label, (C, H, W)...")
    categories: int = Field(description="values of a label or categorical code (else 0)")
    low: float = Field(description="lower bound of a continuous code's training draws")
    high: float
    doc: str = Field("", description="what it is, in the family's words")
    margin: int = Field(
        0, description="an image input's black margin: other sizes are resized inside it"
    )


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
    inputs: list[InputOut] = Field(
        description="everything G takes; an 'image' input makes it a translation model"
    )
    directions: list[Literal["AB", "BA"]] = Field(
        ["AB"], description="translation directions: AB, and BA for a two-way run (cyclegan)"
    )
    max_n: int
    tags: list[str] = Field(
        default_factory=list, description="a tag-conditioned generator's tags (check-boxes)"
    )
    tag_groups: list[list[str]] = Field(
        default_factory=list, description="tags of which a sample has exactly one (hair colour)"
    )


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


class HeldOutList(BaseModel):
    """The fixed held-out inputs of a translation run (``samples/bank.npz``)."""

    input: InputOut = Field(description="the generator input they are for")
    count: int
    targets: bool = Field(description="whether each has its true output to compare with")
    max_upload: int = Field(description="most bytes an uploaded image may have")


RunId = Annotated[
    str, PathParam(pattern=RUN_ID_PATTERN, max_length=126, description="run folder name")
]
Step = Annotated[int, PathParam(ge=0, le=MAX_STEP)]
Index = Annotated[int, PathParam(ge=0, le=MAX_INDEX, description="held-out sample number")]
Direction = Annotated[
    Literal["AB", "BA"],
    Query(description="AB, or BA for a two-way run's B -> A generator (cyclegan)"),
]
Seed = Annotated[int, Field(ge=0, le=MAX_SEED)]
Codes = Annotated[
    dict[Annotated[str, Field(max_length=64)], Annotated[list[float], Field(max_length=512)]],
    Field(
        max_length=16,
        description="fixed values for latent inputs other than z, by name "
        "(see the run's generator.codes; one-hot lists for categorical codes)",
    ),
]

Tags = Annotated[
    list[Annotated[str, Field(max_length=64)]] | None,
    Field(
        max_length=64,
        description="tags to draw (tag-conditioned generators; see the run's generator.tags); "
        "the others are drawn by their training frequencies",
    ),
]


class GenerateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: Seed = 0
    n: int = Field(64, ge=1, le=MAX_N)
    label: int | None = Field(None, ge=0, le=100_000, description="class (conditional models)")
    codes: Codes = Field(default_factory=dict)
    nrow: int | None = Field(None, ge=1, le=MAX_N, description="images per row of the grid")
    text: str | None = Field(
        None, max_length=1000, description="caption to draw (text2image generators)"
    )
    tags: Tags = None


class InterpolateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed_a: Seed = 0
    seed_b: Seed = 1
    steps: int = Field(8, ge=2, le=16, description="images from A to B, both included")
    rows: int = Field(1, ge=1, le=8, description="independent strips (noise drawn per row)")
    spherical: bool = Field(True, description="slerp (for Gaussian noise) instead of lerp")
    label: int | None = Field(None, ge=0, le=100_000)
    codes: Codes = Field(default_factory=dict)
    text: str | None = Field(None, max_length=1000, description="caption at A (text2image)")
    text_b: str | None = Field(
        None, max_length=1000, description="caption at B (default: text): a walk between sentences"
    )
    tags: Tags = None


Responses = dict[int | str, dict[str, Any]]
ERRORS: Responses = {
    400: {"model": ErrorOut, "description": "Host header not accepted"},
    403: {"model": ErrorOut, "description": "cross-origin request refused"},
}
NOT_FOUND: Responses = {404: {"model": ErrorOut, "description": "no such run"}}
PNG = {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}}
GENERATION_ERRORS: Responses = {
    409: {"model": ErrorOut, "description": "the generator cannot be loaded or used this way"},
    413: {"model": ErrorOut, "description": f"request body over {MAX_BODY} bytes"},
    429: {"model": ErrorOut, "description": "too many generation requests at once"},
}
NOTE = {
    "X-Gankit-Note": {
        "description": "what was done to fit the input (resized, converted to grayscale)",
        "schema": {"type": "string"},
    }
}
TRANSLATED = {200: {**PNG, "description": "the output image", "headers": NOTE}}
UPLOAD_ERRORS: Responses = {
    413: {"model": ErrorOut, "description": f"image over {MAX_UPLOAD} bytes"},
}
