"""Exported generators as ONNX models (``gankit export RUN --onnx model.onnx``).

The graph is traced by torch's TorchScript exporter (``torch.onnx.export(..., dynamo=False)``):
it needs no package besides torch to trace, whereas torch's default (dynamo) exporter needs
``onnxscript`` as well. ``onnx`` checks the model and stores gankit's metadata in it, and
``onnxruntime`` (when installed; both come with ``pip install 'gankit[export]'``) runs the model
once against PyTorch before anything is written.

What the ONNX model takes and gives (``ONNX_OPSET`` by default):

- one input per declared generator input, named as in ``Generator.inputs`` (the keys of
  ``Generator.latent()``, then the data inputs), in the same order: ``z`` float32 (N, z_dim);
  codes ``c`` / ``c_cat`` int64 (N,), ``u`` float32 (N,), ``c_cont`` float32 (N, n); ``label``
  int64 (N,); images ``source`` / ``image`` float32 (N, C, H, W) in [-1, 1]; ``mask`` float32
  (N, 1, H, W), > 0 in the hole; ``text`` int64 symbol ids (N, L), L <= ``MAX_TOKENS``, padded
  with 0 (tokenisation is done by the host: ``gankit.models.text.encode_texts``); ``frames``
  float32 (N, T, C, H, W) in [-1, 1];
- one output, ``images`` float32 (N, C, H, W) in [-1, 1] (``points`` (N, 2) for 2-D data): the
  raw output of the PyTorch generator, before the uint8 conversion
  (``round((y + 1) * 127.5)``, clamped to 0..255; srgan's sum with the bicubic image may pass
  -1 or 1 a little, as in PyTorch).

The batch axis is dynamic everywhere; so is the caption length, and the height and width of a
fully convolutional generator's input (super-resolution). Every other size is the trained one.
"""

from __future__ import annotations

import io
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from gankit.errors import ConfigError, GankitError, RunError
from gankit.files import atomic_write_bytes
from gankit.generator import Generator, load

ONNX_OPSET = 17  # ONNX 1.12 (2022): every current runtime reads it
MIN_OPSET = 13  # the oldest that has every operator the generators use (measured)
INSTALL_HINT = "pip install 'gankit[export]'"


@dataclass
class OnnxExport:
    """What was written: the file, its opset, its inputs and output (name, dtype, shape with
    named dynamic axes), and the largest difference to PyTorch that onnxruntime measured
    (None when the check was skipped)."""

    path: Path
    opset: int
    inputs: list[dict[str, Any]]
    output: dict[str, Any]
    max_abs_diff: float | None = None
    checked_batch: int = 0
    notes: list[str] = field(default_factory=list)


class _Positional(nn.Module):
    """The generator with positional inputs in the declared order (the tracer passes them so)."""

    def __init__(self, module: nn.Module, names: list[str]):
        super().__init__()
        self.module, self.names = module, names

    def forward(self, *args: torch.Tensor) -> torch.Tensor:
        return self.module(**dict(zip(self.names, args, strict=True)))


def _require(module: str) -> Any:
    try:
        return __import__(module)
    except ImportError:
        raise GankitError(
            f"ONNX export needs the {module!r} package, which is not installed: {INSTALL_HINT}"
        ) from None


def example_inputs(G: Generator, n: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """Inputs for ``n`` samples of every declared input, as the PyTorch generator takes them:
    drawn noise and codes, labels cycling through the classes, images and frames uniform in
    [-1, 1], masks with about a third of the pixels in the hole, captions as symbol ids."""
    gen = torch.Generator().manual_seed(seed)
    out: dict[str, torch.Tensor] = {}
    drawn = G.latent(n, seed)
    for s in G.inputs:
        if s.name in drawn:
            out[s.name] = drawn[s.name]
        elif s.kind == "label":
            out[s.name] = torch.arange(n) % max(s.categories, 1)
        elif s.kind == "mask":
            out[s.name] = example_masks(n, s.shape, gen)
        elif s.kind == "text":
            captions = ["a thick seven leaning right", "굵은 3", "a small thin one", "2"]
            out[s.name] = G.text_tokens([captions[(seed + i) % len(captions)] for i in range(n)])
        elif s.kind in ("image", "frames"):
            out[s.name] = torch.rand(n, *s.shape, generator=gen) * 2 - 1
        else:
            raise ConfigError(f"input {s.name!r} of kind {s.kind!r} has no ONNX export")
    return out


def example_masks(n: int, shape: tuple[int, ...], gen: torch.Generator) -> torch.Tensor:
    """Holes as an inpainting generator takes them ((n, 1, H, W), 1 = hole, -1 = kept): a box of
    random size and place (up to half the side) and scattered pixels, so the depth of
    ``smooth_fill``'s pyramid varies from draw to draw."""
    _, h, w = shape
    hole = torch.rand(n, 1, h, w, generator=gen) < 0.1
    for i in range(n):
        bh, bw = (int(torch.randint(1, max(2, k // 2 + 1), (1,), generator=gen)) for k in (h, w))
        y, x = (
            int(torch.randint(0, k - b + 1, (1,), generator=gen)) for k, b in ((h, bh), (w, bw))
        )
        hole[i, :, y : y + bh, x : x + bw] = True
    return torch.where(hole, 1.0, -1.0)


def _dynamic_axes(G: Generator, output: str) -> dict[str, dict[int, str]]:
    axes: dict[str, dict[int, str]] = {output: {0: "batch"}}
    spatial = G.family_cls.fully_convolutional
    for s in G.inputs:
        axes[s.name] = {0: "batch"}
        if s.kind == "text":
            axes[s.name][1] = "length"
        if spatial and s.kind in ("image", "mask"):
            axes[s.name].update({2: "height", 3: "width"})
    if spatial:
        axes[output].update({2: "out_height", 3: "out_width"})
    return axes


def _describe(name: str, dtype: torch.dtype, shape: tuple[int, ...], axes: dict[int, str]):
    dims = [axes.get(i, d) for i, d in enumerate(shape)]
    return {"name": name, "dtype": str(dtype).removeprefix("torch."), "shape": dims}


def export_onnx(
    run_or_generator: str | Path | Generator,
    path: str | Path,
    direction: str = "AB",
    opset: int = ONNX_OPSET,
    check: bool = True,
) -> OnnxExport:
    """Write a generator as an ONNX model to ``path`` (atomically: whole or not at all).

    ``run_or_generator``: a run directory, its ``generator/`` folder, or a loaded ``Generator``;
    ``direction="BA"``: a two-way run's B -> A generator (cyclegan). With ``check`` (and
    onnxruntime installed) the model is run on a batch of 3 and compared with PyTorch before it
    is written. Returns what was written (``OnnxExport``).
    """
    onnx = _require("onnx")
    path = Path(path)
    if path.suffix != ".onnx":
        raise ConfigError(f"ONNX output {str(path)!r} must end in .onnx")
    if path.is_dir():
        raise ConfigError(f"ONNX output {str(path)!r} is a folder; give a file name")
    if not path.resolve().parent.is_dir():
        raise ConfigError(f"folder {str(path.parent)!r} for {str(path)!r} does not exist")
    max_opset = getattr(torch.onnx._constants, "ONNX_TORCHSCRIPT_EXPORTER_MAX_OPSET", 20)
    if not MIN_OPSET <= opset <= max_opset:
        raise ConfigError(f"opset {opset} is not supported; allowed: {MIN_OPSET}..{max_opset}")
    if isinstance(run_or_generator, Generator):
        G = run_or_generator
    else:
        run = Path(run_or_generator)
        if (run / "config.json").is_file() and not (
            (run / "generator" / "config.json").is_file() or (run / "model.safetensors").is_file()
        ):
            raise RunError(
                f"run {str(run)!r} has no exported generator yet: one is written at each "
                "checkpoint (train.checkpoint_every); train or resume it further, then export"
            )
        G = load(run, direction=direction)
    device = G.device
    try:
        return _export(onnx, G.to("cpu"), path, direction, opset, check)
    finally:
        G.to(device)


def _export(onnx, G: Generator, path: Path, direction: str, opset: int, check: bool):
    G.module.eval()
    names = [s.name for s in G.inputs]
    output = "images" if G.info.kind == "images" else "points"
    axes = _dynamic_axes(G, output)
    example = example_inputs(G, 2)
    buf = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        # the TorchScript exporter is deprecated in favour of the dynamo one (needs onnxscript)
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", "Constant folding", UserWarning)
        warnings.filterwarnings("ignore", ".*'instance_norm' is set to train=True", UserWarning)
        try:
            torch.onnx.export(
                _Positional(G.module, names).eval(),
                tuple(example[k] for k in names),
                buf,
                dynamo=False,
                input_names=names,
                output_names=[output],
                dynamic_axes=axes,
                opset_version=opset,
            )
        except Exception as e:  # an operator ONNX lacks: the exporter's first line says which
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise GankitError(
                f"this {G.family} generator cannot be exported to ONNX opset {opset}: {first}"
            ) from None
    model = onnx.load_from_string(buf.getvalue())
    meta = {
        "gankit.format": "gankit-onnx/1",
        "gankit.family": G.family,
        "gankit.direction": direction,
        "gankit.step": str(G.meta.get("step", "")),
        "gankit.inputs": json.dumps([s.to_dict() for s in G.inputs], ensure_ascii=False),
        "gankit.output": f"{output} float32 in [-1, 1]"
        if output == "images"
        else f"{output} float32 (N, 2)",
        "gankit.data": json.dumps(G.info.model_dump(mode="json"), ensure_ascii=False),
    }
    if G.text_inputs():
        meta["gankit.text"] = (
            "int64 symbol ids, padded with 0: gankit.models.text.encode_texts (host-side)"
        )
    for k, v in meta.items():
        model.metadata_props.add(key=k, value=v)
    model.doc_string = f"gankit {G.family} generator (step {G.meta.get('step', '?')})"
    onnx.checker.check_model(model)
    data = model.SerializeToString()
    out_shape = tuple(G(**example).shape)
    result = OnnxExport(
        path=path,
        opset=opset,
        inputs=[_describe(k, v.dtype, tuple(v.shape), axes[k]) for k, v in example.items()],
        output=_describe(output, torch.float32, out_shape, axes[output]),
    )
    if check:
        result.max_abs_diff = check_parity(G, data, batch=3)
        result.checked_batch = 3
        if result.max_abs_diff > 1e-4:
            raise GankitError(
                f"the ONNX model differs from PyTorch by {result.max_abs_diff:.2e} (allowed "
                f"1e-4) for this {G.family} generator; nothing written"
            )
    try:
        atomic_write_bytes(path, data)
    except OSError as e:
        raise GankitError(f"cannot write {str(path)!r}: {e.strerror or e}") from None
    return result


def run_onnx(model: bytes | str | Path, inputs: dict[str, torch.Tensor], threads: int = 1):
    """Run an ONNX generator in onnxruntime on CPU; ``inputs`` as the PyTorch generator takes
    them. Returns the output as a numpy array."""
    ort = _require("onnxruntime")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = threads
    src = str(model) if isinstance(model, Path) else model
    sess = ort.InferenceSession(src, opts, providers=["CPUExecutionProvider"])
    feed = {k: v.numpy() for k, v in inputs.items()}
    return sess.run(None, feed)[0]


def check_parity(G: Generator, model: bytes | Path, batch: int = 3, seed: int = 1) -> float:
    """The largest absolute difference between onnxruntime and PyTorch on ``batch`` samples."""
    inputs = example_inputs(G, batch, seed)
    want = G(**inputs).float().cpu().numpy()
    got = run_onnx(model, inputs)
    if got.shape != want.shape:
        raise GankitError(f"the ONNX model returns shape {got.shape}; PyTorch returns {want.shape}")
    return float(np.abs(got - want).max())
