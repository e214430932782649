"""``evaluate(fake, real)``: the registered metrics, one interface, and a passport on every number.

A registered metric is a function ``(ctx: EvalContext) -> list[Result]``; ``@register_metric``
gives it its public name. ``EvalContext`` holds the two sample sets, what is known about the data
(kind, modes, sigma, labels, training set) and caches features, so FID, KID and precision share
one pass of the feature extractor. A metric that does not fit the data raises
``MetricUnavailable``; ``evaluate`` turns that into a row with no value and the reason.

Every ``Result`` carries a passport: metric, feature extractor and the SHA-256 of its weights,
n_real, n_fake, reference split, seed, parameters and gankit version. ``compare_passports``
says why two numbers may not be comparable.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import torch

import gankit
from gankit.errors import ConfigError, DataError
from gankit.metrics import (
    conditional,
    divergence,
    features,
    fid,
    inception_score,
    kid,
    memorization,
    modes,
    precision_recall,
)
from gankit.metrics.features import Extractor, MetricUnavailable
from gankit.registry import METRICS, register_metric

Kind = Literal["images", "points"]

# Default metrics by the kind of data; see default_metrics().
DIGIT_METRICS = ["fid", "kid", "inception-score", "precision-recall", "density-coverage"]
TOY_METRICS = ["modes", "jsd"]
EXTRACTORS = ("auto", "mnist-classifier", "inception-v3")


@dataclass
class Result:
    """One number (or none, with the reason in ``note``) and the passport that says what it is."""

    metric: str  # registered metric name, e.g. "precision-recall"
    name: str  # the quantity, e.g. "recall"
    value: float | None  # None: not computable for this data, see note
    std: float | None = None
    better: str = ""  # "lower", "higher", "~1" or ""
    note: str = ""
    passport: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0  # wall time of the metric call (not part of the passport)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN and inf become None)."""
        d = asdict(self)
        for key in ("value", "std"):
            v = d[key]
            if v is not None and not math.isfinite(v):
                d[key] = None
        return d


@dataclass
class EvalContext:
    """The inputs of one evaluation and a cache of their features; passed to every metric."""

    fake: np.ndarray  # uint8 (N, C, H, W) or float64 (N, 2)
    real: np.ndarray
    kind: Kind
    dataset: str | None = None
    modes: np.ndarray | None = None  # (K, 2) toy mode centres
    sigma: float | None = None  # toy mode std
    num_classes: int = 0
    fake_labels: np.ndarray | None = None
    real_labels: np.ndarray | None = None
    train: np.ndarray | None = None  # training images, for memorisation
    reference: str = "unspecified"  # which real split ``real`` is, e.g. "mnist5k:heldout"
    extractor_name: str = "auto"  # "auto", "mnist-classifier", "inception-v3"
    inception_weights: str | None = None
    seed: int = 0
    device: str = "cpu"
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    # ---- data hints -------------------------------------------------------------------------

    def is_stacked_mnist(self) -> bool:
        """Stacked MNIST, known by the dataset name only (3x28x28 alone is not enough)."""
        return self.kind == "images" and "stacked" in (self.dataset or "").lower()

    def is_digits(self) -> bool:
        """MNIST-like digits: by dataset name, or 1x28x28 images of an unnamed dataset."""
        if self.kind != "images" or self.is_stacked_mnist():
            return False
        if self.dataset:
            name = self.dataset.lower()
            return "mnist" in name and "fashion" not in name
        return tuple(self.fake.shape[1:]) == (1, 28, 28)

    def opt(self, metric: str, key: str, default: Any) -> Any:
        """Option ``key`` of ``metric`` from ``options``, else ``default``."""
        return self.options.get(metric, {}).get(key, default)

    # ---- features ---------------------------------------------------------------------------

    def extractor(self) -> Extractor:
        """The feature extractor for these images; MetricUnavailable with the reason if none."""
        if "extractor" in self._cache:
            return self._cache["extractor"]
        if self.kind != "images":
            raise MetricUnavailable("feature metrics need images; these are 2-D points")
        name, why = self.extractor_name, "requested"
        if name == "auto":
            if self.is_digits():
                name = "mnist-classifier"
                why = (
                    f"dataset {self.dataset!r}"
                    if self.dataset
                    else "image shape 1x28x28 (assumed MNIST digits; pass dataset= to be sure)"
                )
            elif self.inception_weights or os.environ.get(features.INCEPTION_ENV):
                name, why = "inception-v3", "Inception weights given"
            else:
                what = self.dataset or "x".join(map(str, self.fake.shape[1:]))
                raise MetricUnavailable(
                    f"no feature extractor for {what} images: gankit's classifier is for MNIST "
                    "digits only; for FID/KID/precision give the Inception weights "
                    f"({features.FID_WEIGHTS_HINT})"
                )
        if name == "mnist-classifier":
            ext = features.mnist_extractor(self.device)
        else:
            assert name == "inception-v3", name  # make_context checks the name
            ext = features.inception_extractor(self.device, self.inception_weights)
        self._cache["extractor"], self._cache["extractor_choice"] = ext, why
        return ext

    def has_extractor(self) -> bool:
        """Whether ``extractor()`` would succeed."""
        try:
            self.extractor()
        except MetricUnavailable:
            return False
        return True

    def outputs(self, which: Literal["fake", "real", "train"]) -> tuple[np.ndarray, np.ndarray]:
        """Extractor features and class probabilities of the fake, real or train images (once)."""
        key = f"outputs/{which}"
        if key not in self._cache:
            self._cache[key] = self.extractor().outputs(getattr(self, which))
        return self._cache[key]

    def features(self, which: Literal["fake", "real", "train"]) -> np.ndarray:
        """Extractor features ``(N, d)`` of the fake, real or train images (computed once)."""
        return self.outputs(which)[0]

    def probs(self, which: Literal["fake", "real", "train"]) -> np.ndarray:
        """Extractor class probabilities ``(N, K)`` of the fake, real or train images."""
        return self.outputs(which)[1]

    # ---- passports --------------------------------------------------------------------------

    def passport(
        self,
        metric: str,
        extractor: Extractor | str | None = None,
        n_fake: int | None = None,
        n_real: int | None = None,
        **params: Any,
    ) -> dict[str, Any]:
        """What a number depends on: extractor (+ weights SHA-256), sizes, reference, version."""
        if isinstance(extractor, Extractor):
            ext_name, sha = extractor.name, extractor.sha256
        else:
            ext_name, sha = extractor, None
        choice = None
        if isinstance(extractor, Extractor) and extractor is self._cache.get("extractor"):
            choice = self._cache.get("extractor_choice")
        out = {
            "metric": metric,
            "extractor": ext_name,
            "extractor_sha256": sha,
            "n_fake": int(len(self.fake) if n_fake is None else n_fake),
            "n_real": int(len(self.real) if n_real is None else n_real),
            "reference": self.reference,
            "seed": self.seed,
            "params": params,
            "gankit_version": gankit.__version__,
        }
        if choice:
            out["extractor_choice"] = choice  # why this extractor; not compared
        return out


# --------------------------------------------------------------------------------------------
# Registered metrics: (ctx) -> list[Result]
# --------------------------------------------------------------------------------------------


def _need_images(ctx: EvalContext, metric: str) -> None:
    if ctx.kind != "images":
        raise MetricUnavailable(f"{metric} needs images; these are 2-D points")


def _need_points(ctx: EvalContext, metric: str) -> None:
    if ctx.kind != "points":
        raise MetricUnavailable(f"{metric} is for 2-D toy data; these are images")


@register_metric("fid")
def fid_metric(ctx: EvalContext) -> list[Result]:
    """Fréchet distance between Gaussian fits of fake and real features (lower is better)."""
    _need_images(ctx, "fid")
    ext = ctx.extractor()
    value = fid.fid_from_features(ctx.features("fake"), ctx.features("real"))
    return [Result("fid", "fid", value, better="lower", passport=ctx.passport("fid", ext))]


@register_metric("kid")
def kid_metric(ctx: EvalContext) -> list[Result]:
    """Kernel distance (unbiased MMD^2, cubic kernel), mean and std over subsets (lower)."""
    _need_images(ctx, "kid")
    ext = ctx.extractor()
    n_sub = int(ctx.opt("kid", "num_subsets", 100))
    size = int(ctx.opt("kid", "subset_size", 1000))
    size = min(size, len(ctx.fake), len(ctx.real))
    mean, std = kid.kid_from_features(
        ctx.features("fake"), ctx.features("real"), n_sub, size, seed=ctx.seed
    )
    pp = ctx.passport("kid", ext, num_subsets=n_sub, subset_size=size)
    return [Result("kid", "kid", mean, std, better="lower", passport=pp)]


@register_metric("inception-score")
def inception_score_metric(ctx: EvalContext) -> list[Result]:
    """Inception score of the fakes (the classifier score with the MNIST classifier; higher)."""
    _need_images(ctx, "inception-score")
    ext = ctx.extractor()
    splits = int(ctx.opt("inception-score", "splits", 10))
    mean, std = inception_score.inception_score(ctx.probs("fake"), splits, seed=ctx.seed)
    note = f"classifier score, max {10}" if ext.name == "mnist-classifier" else ""
    pp = ctx.passport("inception-score", ext, n_real=0, splits=splits)
    return [Result("inception-score", "inception-score", mean, std, "higher", note, pp)]


def _prdc(ctx: EvalContext) -> tuple[precision_recall.PRDC, int, int]:
    """Precision/recall and density/coverage share one sweep over the distances."""
    k_pr = int(ctx.opt("precision-recall", "k", 3))
    k_dc = int(ctx.opt("density-coverage", "k", 5))
    key = f"prdc/{k_pr}/{k_dc}"
    if key not in ctx._cache:
        ctx._cache[key] = precision_recall.prdc(
            ctx.features("real"), ctx.features("fake"), k_pr, k_dc
        )
    return ctx._cache[key], k_pr, k_dc


@register_metric("precision-recall")
def precision_recall_metric(ctx: EvalContext) -> list[Result]:
    """Improved precision (fidelity) and recall (diversity), k = 3 (higher is better)."""
    _need_images(ctx, "precision-recall")
    ext = ctx.extractor()
    out, k, _ = _prdc(ctx)
    pp = ctx.passport("precision-recall", ext, k=k)
    return [
        Result("precision-recall", "precision", out.precision, better="higher", passport=pp),
        Result("precision-recall", "recall", out.recall, better="higher", passport=pp),
    ]


@register_metric("density-coverage")
def density_coverage_metric(ctx: EvalContext) -> list[Result]:
    """Density (fidelity, ~1 for matching data, can exceed 1) and coverage (higher), k = 5."""
    _need_images(ctx, "density-coverage")
    ext = ctx.extractor()
    out, _, k = _prdc(ctx)
    pp = ctx.passport("density-coverage", ext, k=k)
    return [
        Result("density-coverage", "density", out.density, better="~1", passport=pp),
        Result("density-coverage", "coverage", out.coverage, better="higher", passport=pp),
    ]


@register_metric("memorization")
def memorization_metric(ctx: EvalContext) -> list[Result]:
    """Nearest-training-image distances of fakes vs held-out reals, in pixel space and in a
    feature space (digits: the MNIST classifier's features; other images: HOG). Option
    ``baseline``: ``heldout`` (``real`` is held-out data, the default) or ``leave-one-out`` (no
    held-out data: training images against the other training images)."""
    _need_images(ctx, "memorization")
    if ctx.train is None:
        raise MetricUnavailable("memorization needs the training images (train=...)")
    loo = ctx.opt("memorization", "baseline", "heldout") == "leave-one-out"
    held = None if loo else ctx.real
    baseline = "leave-one-out training images" if loo else "held-out images"
    s = memorization.memorization_stats(ctx.fake, ctx.train, held, seed=ctx.seed)
    pp = ctx.passport(
        "memorization", "pixels", space="pixels [0,1] L2", n_train=len(ctx.train), baseline=baseline
    )
    warn = ""
    if s.heldout_in_train > 0 and not loo:
        warn = (
            f"; WARNING: {s.heldout_in_train:.1%} of the real set are training images, "
            "so it is no held-out baseline"
        )
    note = (
        f"median NN distance fake {s.median_fake:.3g} vs {baseline} {s.median_heldout:.3g}; "
        f"copy threshold {s.threshold:.3g}; a new real image would score {s.floor:.1%}{warn}"
    )
    out = [
        Result("memorization", "copies", s.copies, better="lower", note=note, passport=pp),
        Result("memorization", "exact-copies", s.exact_copies, better="lower", passport=pp),
        Result("memorization", "nn-ratio", s.ratio, better="~1", passport=pp),
        Result("memorization", "copies-floor", s.floor, better="lower", passport=pp),
    ]
    if ctx.is_digits():
        ext = features.mnist_extractor(ctx.device)
        model = features.mnist_classifier(ext.weights_path)
        feat = {k: features.features(getattr(ctx, k), model) for k in ("fake", "real", "train")}
        space, ext_name = "MNIST classifier features (128-d) L2", ext
    else:
        feat = {k: memorization.hog_features(getattr(ctx, k)) for k in ("fake", "real", "train")}
        space, ext_name = "HOG (9 orientations, 4x4 cells; skimage) L2", "hog"
    fs = memorization.memorization_stats(
        feat["fake"], feat["train"], None if loo else feat["real"], seed=ctx.seed
    )
    fpp = ctx.passport(
        "memorization", ext_name, space=space, n_train=len(ctx.train), baseline=baseline
    )
    fnote = (
        f"{space}: median NN distance fake {fs.median_fake:.3g} vs {baseline} "
        f"{fs.median_heldout:.3g}; copy threshold {fs.threshold:.3g}; a new real image would "
        f"score {fs.floor:.1%}"
    )
    out += [
        Result(
            "memorization", "copies-features", fs.copies, better="lower", note=fnote, passport=fpp
        ),
        Result("memorization", "nn-ratio-features", fs.ratio, better="~1", passport=fpp),
        Result("memorization", "copies-floor-features", fs.floor, better="lower", passport=fpp),
    ]
    return out


@register_metric("c2st")
def c2st_metric(ctx: EvalContext) -> list[Result]:
    """Classifier two-sample test: cross-validated accuracy of a small CNN telling ``real``
    from ``fake`` (0.5 = indistinguishable; nearer 0.5 is better). Give held-out reals."""
    from gankit.metrics.c2st import c2st_accuracy

    _need_images(ctx, "c2st")
    folds = int(ctx.opt("c2st", "folds", 5))
    repeats = int(ctx.opt("c2st", "repeats", 3))
    steps = int(ctx.opt("c2st", "steps", 300))
    r = c2st_accuracy(ctx.real, ctx.fake, folds, repeats, steps, ctx.seed)
    pp = ctx.passport(
        "c2st", "small CNN (trained per test)", r.n, r.n, folds=folds, repeats=repeats, steps=steps
    )
    note = f"{folds}-fold, {repeats} repeats, {r.n} images a side; chance 0.5"
    return [Result("c2st", "c2st-accuracy", r.accuracy, r.std, "~0.5", note, pp)]


@register_metric("label-accuracy")
def label_accuracy_metric(ctx: EvalContext) -> list[Result]:
    """Classifier accuracy on conditioned samples against their conditioning labels (higher)."""
    _need_images(ctx, "label-accuracy")
    if ctx.fake_labels is None:
        raise MetricUnavailable("label-accuracy needs the labels the samples were conditioned on")
    if not ctx.is_digits():
        raise MetricUnavailable("label-accuracy needs a classifier; gankit has one for digits only")
    ext = features.mnist_extractor(ctx.device)
    acc = conditional.label_accuracy(ctx.fake, ctx.fake_labels, features.mnist_classifier())
    pp = ctx.passport("label-accuracy", ext, n_real=0)
    return [Result("label-accuracy", "label-accuracy", acc, better="higher", passport=pp)]


@register_metric("tstr")
def tstr_metric(ctx: EvalContext) -> list[Result]:
    """Train on synthetic (labelled fakes), test on real (labelled reals): accuracy (higher)."""
    _need_images(ctx, "tstr")
    if ctx.fake_labels is None or ctx.real_labels is None:
        raise MetricUnavailable("tstr needs labels for both the samples and the real images")
    k = ctx.num_classes or int(max(ctx.fake_labels.max(), ctx.real_labels.max())) + 1
    epochs = int(ctx.opt("tstr", "epochs", 5))
    acc = conditional.tstr_accuracy(
        ctx.fake, ctx.fake_labels, ctx.real, ctx.real_labels, k, epochs=epochs, seed=ctx.seed
    )
    pp = ctx.passport("tstr", "MnistClassifier (trained on fakes)", epochs=epochs, classes=k)
    return [Result("tstr", "tstr-accuracy", acc, better="higher", passport=pp)]


@register_metric("stacked-mnist-modes")
def stacked_mnist_modes_metric(ctx: EvalContext) -> list[Result]:
    """Stacked MNIST: modes covered of 1,000 (higher) and KL(q || uniform) in nats (lower)."""
    _need_images(ctx, "stacked-mnist-modes")
    if ctx.fake.shape[1] != 3:
        raise MetricUnavailable(
            f"stacked-mnist-modes needs 3-channel images, got {ctx.fake.shape[1]}"
        )
    ext = features.mnist_extractor(ctx.device)
    covered, kl, counts = modes.stacked_mnist_mode_stats(ctx.fake, features.mnist_classifier())
    channels, dependence = modes.stacked_mnist_kl_parts(counts)
    pp = ctx.passport("stacked-mnist-modes", ext, n_real=0, num_modes=1000)
    name = "stacked-mnist-modes"
    return [
        Result(name, "modes-covered", covered, None, "higher", "of 1000", pp),
        Result(
            name, "kl-to-uniform", kl, None, "lower", "KL(class histogram || uniform), nats", pp
        ),
        Result(
            name,
            "kl-channels",
            sum(channels),
            None,
            "lower",
            "part of the KL from each channel's digit frequencies (R + G + B), nats",
            pp,
        ),
        Result(
            name,
            "kl-dependence",
            dependence,
            None,
            "lower",
            "part of the KL from dependence between channels, nats (~999/2N by chance)",
            pp,
        ),
    ]


@register_metric("modes")
def modes_metric(ctx: EvalContext) -> list[Result]:
    """Toy 2-D (VEEGAN/PacGAN): modes covered, high-quality fraction, KL(q || uniform)."""
    _need_points(ctx, "modes")
    if ctx.modes is None or ctx.sigma is None:
        raise MetricUnavailable("modes needs the mode centres and sigma of the toy dataset")
    n = int(ctx.opt("modes", "num_samples", modes.TOY_NUM_SAMPLES))
    n_std = float(ctx.opt("modes", "n_std", 3.0))
    pts = ctx.fake[:n]
    s = modes.toy_mode_stats(pts, ctx.modes, ctx.sigma, n_std)
    note = "" if len(pts) == n else f"protocol uses {n} samples, got {len(pts)}"
    pp = ctx.passport("modes", "points", n_fake=len(pts), n_real=0, n_std=n_std, sigma=ctx.sigma)
    kl_note = "KL(HQ mode histogram || uniform), nats"
    if math.isnan(s.reverse_kl):
        kl_note += "; no high-quality samples"
    cov_note = f"of {s.num_modes}" + (f"; {note}" if note else "")
    hq_note = f"within {n_std:g} sigma"
    return [
        Result("modes", "modes-covered", s.modes_covered, None, "higher", cov_note, pp),
        Result("modes", "high-quality", s.high_quality, None, "higher", hq_note, pp),
        Result("modes", "reverse-kl", s.reverse_kl, None, "lower", kl_note, pp),
    ]


@register_metric("jsd")
def jsd_metric(ctx: EvalContext) -> list[Result]:
    """Jensen-Shannon divergence of 2-D histograms, nats in [0, log 2] (lower)."""
    _need_points(ctx, "jsd")
    bins = int(ctx.opt("jsd", "bins", 50))
    d = divergence.histogram_divergences(ctx.real, ctx.fake, bins)
    pp = ctx.passport("jsd", "points", bins=bins, grid="real bbox +10%")
    return [Result("jsd", "jsd", d["jsd"], better="lower", note="nats, max log 2", passport=pp)]


@register_metric("kl")
def kl_metric(ctx: EvalContext) -> list[Result]:
    """KL(real || fake) and KL(fake || real) of 2-D histograms, eps-smoothed, nats (lower)."""
    _need_points(ctx, "kl")
    bins = int(ctx.opt("kl", "bins", 50))
    eps = float(ctx.opt("kl", "eps", 1e-6))
    d = divergence.histogram_divergences(ctx.real, ctx.fake, bins, eps=eps)
    pp = ctx.passport("kl", "points", bins=bins, eps=eps, grid="real bbox +10%")
    return [
        Result("kl", "kl(real||fake)", d["kl_real_fake"], better="lower", note="nats", passport=pp),
        Result("kl", "kl(fake||real)", d["kl_fake_real"], better="lower", note="nats", passport=pp),
    ]


# --------------------------------------------------------------------------------------------
# evaluate()
# --------------------------------------------------------------------------------------------


def _as_array(x: Any, what: str) -> np.ndarray:
    a = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    if a.ndim == 4:
        if a.dtype != np.uint8:
            raise DataError(f"{what} images must be uint8 (N, C, H, W) in 0..255, got {a.dtype}")
        return a
    if a.ndim == 2 and a.shape[1] == 2:
        if not np.issubdtype(a.dtype, np.floating):
            raise DataError(f"{what} points must be float (N, 2), got {a.dtype}")
        return a.astype(np.float64)
    raise DataError(
        f"{what} must be uint8 images (N, C, H, W) or float points (N, 2), got shape {a.shape}"
    )


def _labels(x: Any) -> np.ndarray | None:
    if x is None:
        return None
    return (x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)).astype(
        np.int64
    )


def make_context(
    fake: Any,
    real: Any,
    *,
    info: Any = None,
    kind: Kind | None = None,
    dataset: str | None = None,
    modes: Any = None,
    sigma: float | None = None,
    num_classes: int | None = None,
    fake_labels: Any = None,
    real_labels: Any = None,
    train: Any = None,
    reference: str = "unspecified",
    extractor: str = "auto",
    inception_weights: str | None = None,
    seed: int = 0,
    device: str = "cpu",
    options: dict[str, dict[str, Any]] | None = None,
) -> EvalContext:
    """Check and normalise the inputs of ``evaluate``; hints not given are read from ``info``."""
    f, r = _as_array(fake, "fake"), _as_array(real, "real")
    k_f = "images" if f.ndim == 4 else "points"
    k_r = "images" if r.ndim == 4 else "points"
    if k_f != k_r:
        raise DataError(f"fake are {k_f} {f.shape} but real are {k_r} {r.shape}")
    if k_f == "images" and f.shape[1:] != r.shape[1:]:
        raise DataError(f"fake images {f.shape[1:]} and real images {r.shape[1:]} differ in shape")
    if len(f) < 2 or len(r) < 2:
        raise DataError(f"need at least 2 fake and 2 real samples, got {len(f)} and {len(r)}")
    if extractor not in EXTRACTORS:
        raise ConfigError(
            f"unknown feature extractor {extractor!r}; choose one of: {', '.join(EXTRACTORS)}"
        )
    if extractor == "inception-v3":
        features.inception_weights_path(inception_weights)  # asked for: missing weights is an error
    kind = kind or getattr(info, "kind", None) or k_f
    if kind != k_f:
        raise DataError(f"kind {kind!r} does not match the data, which are {k_f}")
    modes_arr = modes if modes is not None else getattr(info, "modes", None)
    tr = _as_array(train, "train") if train is not None else None
    if tr is not None and tr.shape[1:] != f.shape[1:]:
        raise DataError(f"train images {tr.shape[1:]} and fake images {f.shape[1:]} differ")
    return EvalContext(
        fake=f,
        real=r,
        kind=k_f,
        dataset=dataset or getattr(info, "name", None),
        modes=None if modes_arr is None else np.asarray(modes_arr, dtype=np.float64),
        sigma=sigma if sigma is not None else getattr(info, "sigma", None),
        num_classes=num_classes if num_classes is not None else getattr(info, "num_classes", 0),
        fake_labels=_labels(fake_labels),
        real_labels=_labels(real_labels),
        train=tr,
        reference=reference,
        extractor_name=extractor,
        inception_weights=inception_weights,
        seed=seed,
        device=device,
        options=options or {},
    )


def default_metrics(ctx: EvalContext) -> list[str]:
    """The metrics that fit the data.

    Toy points: modes (if the modes are known) and jsd. Stacked MNIST: stacked-mnist-modes.
    Images with an extractor (digits, or Inception weights given): fid, kid, inception-score,
    precision-recall, density-coverage, plus label-accuracy (digits) and tstr when labels are
    given. Images without one: fid, whose row says why there is no number. Memorization whenever
    a training set is given.
    """
    if ctx.kind == "points":
        return list(TOY_METRICS) if ctx.modes is not None else ["jsd"]
    out: list[str] = []
    if ctx.is_stacked_mnist():
        out.append("stacked-mnist-modes")
    elif ctx.has_extractor():
        out += DIGIT_METRICS
        if ctx.fake_labels is not None and ctx.is_digits():
            out.append("label-accuracy")
        if ctx.fake_labels is not None and ctx.real_labels is not None:
            out.append("tstr")
    else:
        out.append("fid")  # its row explains that there is no extractor
    if ctx.train is not None:
        out.append("memorization")
    return out


def run_metric(name: str, ctx: EvalContext) -> list[Result]:
    """Run one registered metric; an unavailable metric gives one row with the reason."""
    fn: Callable[[EvalContext], list[Result]] = METRICS.get(name)
    t0 = time.perf_counter()
    try:
        results = fn(ctx)
    except MetricUnavailable as e:
        results = [Result(name, name, None, note=str(e), passport=ctx.passport(name))]
    dt = time.perf_counter() - t0
    for res in results:
        res.seconds = dt / len(results)
    return results


def evaluate(
    fake: Any,
    real: Any,
    metrics: list[str] | None = None,
    *,
    info: Any = None,
    kind: Kind | None = None,
    dataset: str | None = None,
    modes: Any = None,
    sigma: float | None = None,
    num_classes: int | None = None,
    fake_labels: Any = None,
    real_labels: Any = None,
    train: Any = None,
    reference: str = "unspecified",
    extractor: str = "auto",
    inception_weights: str | None = None,
    seed: int = 0,
    device: str = "cpu",
    options: dict[str, dict[str, Any]] | None = None,
) -> list[Result]:
    """Evaluate generated samples against real ones; one ``Result`` per number.

    ``fake`` / ``real``: uint8 images ``(N, C, H, W)`` or float points ``(N, 2)`` (numpy or
    torch). ``metrics``: registered names, or None for those that fit the data
    (``default_metrics``). Hints, each read from ``info`` (a DataInfo) when not given: ``kind``,
    ``dataset`` (its name picks the feature extractor), toy ``modes`` ``(K, 2)`` and ``sigma``,
    ``num_classes``. ``fake_labels``: the labels samples were conditioned on; ``real_labels``:
    those of ``real`` (for TSTR). ``train``: the training images, for memorisation (``real`` is
    then the held-out baseline). ``reference`` names the real split for the passport.
    ``extractor``: "auto", "mnist-classifier" or "inception-v3" (needs ``inception_weights`` or
    $GANKIT_INCEPTION_WEIGHTS). ``options``: per-metric settings, e.g.
    ``{"kid": {"num_subsets": 50}, "jsd": {"bins": 100}}``.
    """
    ctx = make_context(
        fake,
        real,
        info=info,
        kind=kind,
        dataset=dataset,
        modes=modes,
        sigma=sigma,
        num_classes=num_classes,
        fake_labels=fake_labels,
        real_labels=real_labels,
        train=train,
        reference=reference,
        extractor=extractor,
        inception_weights=inception_weights,
        seed=seed,
        device=device,
        options=options,
    )
    names = metrics if metrics is not None else default_metrics(ctx)
    for name in names:
        METRICS.get(name)  # unknown names fail before any work, listing the valid ones
    out: list[Result] = []
    for name in names:
        out += run_metric(name, ctx)
    return out


# --------------------------------------------------------------------------------------------
# Passports and tables
# --------------------------------------------------------------------------------------------


def _passport_of(x: Result | dict[str, Any]) -> dict[str, Any]:
    if isinstance(x, Result):
        return x.passport
    return x.get("passport", x)


def compare_passports(a: Result | dict[str, Any], b: Result | dict[str, Any]) -> list[str]:
    """Reasons two results (or passports) may not be comparable; empty if none are known."""
    pa, pb = _passport_of(a), _passport_of(b)
    warnings: list[str] = []

    def differ(key: str) -> bool:
        return pa.get(key) != pb.get(key)

    if differ("metric"):
        warnings.append(f"different metrics: {pa.get('metric')} vs {pb.get('metric')}")
    if differ("extractor"):
        warnings.append(
            f"feature extractors differ ({pa.get('extractor')} vs {pb.get('extractor')}): "
            "the numbers are on different scales and not comparable"
        )
    elif differ("extractor_sha256"):
        sa, sb = (str(p.get("extractor_sha256"))[:12] for p in (pa, pb))
        warnings.append(
            f"extractor weights differ (sha256 {sa}... vs {sb}...): the numbers are not comparable"
        )
    for key, why in (
        ("n_fake", "FID and KID depend on sample size; compare at equal n"),
        ("n_real", "FID and KID depend on sample size; compare at equal n"),
    ):
        if differ(key):
            warnings.append(f"{key} differs ({pa.get(key)} vs {pb.get(key)}): {why}")
    if differ("reference"):
        warnings.append(
            f"reference sets differ ({pa.get('reference')} vs {pb.get('reference')}): "
            "scores against different real data are not comparable"
        )
    if differ("seed"):
        warnings.append(f"seeds differ ({pa.get('seed')} vs {pb.get('seed')})")
    params_a, params_b = pa.get("params") or {}, pb.get("params") or {}
    for key in sorted(set(params_a) | set(params_b)):
        if params_a.get(key) != params_b.get(key):
            warnings.append(f"parameter {key} differs ({params_a.get(key)} vs {params_b.get(key)})")
    if differ("gankit_version"):
        warnings.append(
            f"computed with different gankit versions ({pa.get('gankit_version')} vs "
            f"{pb.get('gankit_version')}); check the changelog for metric changes"
        )
    return warnings


def _fmt(v: float | None) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, int) or float(v).is_integer() and abs(v) >= 1:
        return f"{int(v)}"
    if not math.isfinite(v):
        return str(v)
    return f"{v:.4g}"


def format_table(results: list[Result]) -> str:
    """A plain-text table of results for the terminal: one row per number."""
    headers = ["metric", "value", "±", "better", "n fake/real", "extractor", "note"]
    rows = []
    for r in results:
        p = r.passport
        ext = p.get("extractor") or ""
        if p.get("extractor_sha256"):
            ext += f" ({p['extractor_sha256'][:8]})"
        rows.append(
            [
                r.name if r.name == r.metric else f"{r.metric}/{r.name}",
                _fmt(r.value),
                "" if r.std is None else _fmt(r.std),
                r.better,
                f"{p.get('n_fake', '')}/{p.get('n_real', '')}",
                ext,
                r.note,
            ]
        )
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)
