"""Categorical codes and self-conditioning, shared by dcgan, mlp-gan and voxel-gan.

``model.n_components=K`` gives G a categorical code ``c`` of K equally likely values;
``model.clusters=K`` self-conditions instead (Liu et al. 2020, "Diverse Image Generation via
Self-Conditioned GANs"): the training samples' k-means clusters become G's code and a projection
D's label, and an exported G draws the clusters as often as the data has them, from a uniform
``u`` mapped through the clusters' cumulative shares (``cluster_of``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from gankit.data.base import ArrayDataset
from gankit.errors import ConfigError
from gankit.models.base import Input


def cluster_of(u: torch.Tensor, prior: torch.Tensor) -> torch.Tensor:
    """Inverse CDF: uniform ``u`` (B,) -> category index (B,) with probabilities ``prior`` (K,)."""
    cdf = prior.cumsum(0)
    # searchsorted(cdf, u, right=True) as a count of the cdf's values <= u: the same index for a
    # sorted cdf, in operators ONNX has (an exported generator draws clusters in the graph)
    below = (cdf / cdf[-1]).unsqueeze(0) <= u.unsqueeze(1)  # (B, K)
    return below.sum(1).clamp_(max=len(prior) - 1)


def check_cluster_count(k: int, n: int) -> None:
    if k > n:
        raise ConfigError(
            f"model.clusters={k} is more than the {n} training images; "
            "set a smaller model.clusters, or 0 (off)"
        )


def image_clusters(x: torch.Tensor, k: int, seed: int = 0) -> torch.Tensor:
    """k-means cluster ids (N,) of uint8 images ``x`` (N, C, H, W).

    Images are shrunk to at most 32 px, projected on their first 64 principal components and
    clustered with k-means (fitted on at most 20,000 of them, then every image assigned), which
    is deterministic for a given ``seed``.
    """
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA

    check_cluster_count(k, len(x))
    feats = x.float().div(255.0)
    if feats.shape[-1] > 32:
        feats = F.adaptive_avg_pool2d(feats, 32)
    feats = feats.flatten(1).numpy()
    rng = np.random.default_rng(seed)
    fit = feats[rng.choice(len(feats), 20_000, replace=False)] if len(feats) > 20_000 else feats
    pca = PCA(min(64, *fit.shape), random_state=seed).fit(fit)
    km = KMeans(k, n_init=4, random_state=seed).fit(pca.transform(fit))
    return torch.from_numpy(km.predict(pca.transform(feats)).astype(np.int64))


class SelfConditioning:
    """The cluster bookkeeping of a self-conditioned family (``model.clusters=K``; dcgan, mlp-gan
    and voxel-gan): ids assigned once and kept in every checkpoint, G's prior set from their
    share."""

    _cluster_ids: torch.Tensor | None = None  # (N,) the training samples' clusters

    def check_data(self, data: ArrayDataset) -> None:
        check_cluster_count(self.cfg.clusters, len(data))

    def assign_clusters(
        self, data: ArrayDataset, cluster: Callable[[torch.Tensor, int], torch.Tensor]
    ) -> ArrayDataset:
        """``data`` with each sample's cluster id under ``extra["cluster"]`` (``cluster(x, K)``
        runs only when no checkpoint supplied the ids), and G's prior set to their share."""
        k = self.cfg.clusters
        ids = self._cluster_ids
        if ids is None or len(ids) != len(data):  # a resumed run reuses its checkpoint's ids
            ids = cluster(data.x, k)
        self._cluster_ids = ids
        self.G.prior.copy_(torch.bincount(ids, minlength=k).float() / len(ids))
        return dataclasses.replace(data, extra={**data.extra, "cluster": ids})

    def step_inputs(self, batch: dict[str, torch.Tensor]) -> tuple[dict, dict]:
        """G's inputs for a training step and D's condition: self-conditioned, G draws the real
        batch's clusters and D judges (sample, cluster) pairs; otherwise fresh noise (and codes)
        and no condition."""
        inputs = self.noise_like(batch)
        if not self.cfg.clusters:
            return inputs, {}
        c = batch["cluster"]
        return {"z": inputs["z"], "c": c}, {"label": c}

    def extra_state(self) -> dict[str, Any]:
        """The training samples' cluster ids, so a resume neither reclusters nor can differ."""
        ids = self._cluster_ids
        return {} if ids is None else {"cluster_ids": ids.to(torch.int32)}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        if "cluster_ids" in state:
            self._cluster_ids = state["cluster_ids"].long().cpu()


def code_latent(
    cfg: Any, n: int, generator: torch.Generator | None = None
) -> dict[str, torch.Tensor]:
    """Noise ``z`` (n, z_dim) and the code: ``u`` ~ U(0, 1) (n,) with ``clusters=K``, a uniform
    index ``c`` (n,) in [0, K) with ``n_components=K``, nothing without either."""
    z = torch.randn(n, cfg.z_dim, generator=generator)
    if cfg.clusters:
        return {"z": z, "u": torch.rand(n, generator=generator)}
    k = getattr(cfg, "n_components", 0)  # families with clusters only (voxel-gan) have none
    if k:
        return {"z": z, "c": torch.randint(k, (n,), generator=generator)}
    return {"z": z}


def code_inputs(cfg: Any) -> list[Input]:
    """The declaration of what ``code_latent`` draws, in ``G.forward``'s order."""
    out = [Input("z", "noise", (cfg.z_dim,))]
    if cfg.clusters:
        doc = (
            f"a quantile in [0, 1] that picks one of the {cfg.clusters} clusters by the prior "
            "(their share of the training data): low u, the first clusters"
        )
        out.append(Input("u", "code", (), low=0.0, high=1.0, doc=doc))
    elif getattr(cfg, "n_components", 0):
        doc = f"categorical code: one of {cfg.n_components} equally likely values"
        out.append(Input("c", "code", (), categories=cfg.n_components, doc=doc))
    return out


def code_traversal(
    cfg: Any, code: str, rows: int, cols: int | None, generator: torch.Generator | None, family: str
) -> dict[str, torch.Tensor]:
    """Inputs for a grid, row-major: each row one z, each column one value of the categorical
    code (all K values, at most 100): ``cluster`` (with ``clusters=K``) or ``c`` (with
    ``n_components=K``)."""
    k = cfg.clusters if code == "cluster" else cfg.n_components if code == "c" else 0
    if not k:
        allowed = "cluster" if cfg.clusters else "c" if cfg.n_components else None
        if allowed is None:
            raise ConfigError(
                f"this {family} has no categorical code to traverse; train with "
                "model.clusters=K or model.n_components=K"
            )
        raise ConfigError(f"unknown code {code!r} to traverse; allowed: {allowed}")
    cols = cols or min(k, 100)
    z = torch.randn(rows, cfg.z_dim, generator=generator).repeat_interleave(cols, dim=0)
    return {"z": z, "c": (torch.arange(cols) % k).repeat(rows)}  # (rows*cols,) each
