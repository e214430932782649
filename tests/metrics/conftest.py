"""Shared fixtures for the metric tests: the bundled digits, loaded once per session."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch

from gankit.metrics.features import bundled_digits


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """One torch thread: these nets are tiny, and oversubscribed cores make them 10x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def digits_train() -> tuple[np.ndarray, np.ndarray]:
    return bundled_digits("train")


@pytest.fixture(scope="session")
def digits_heldout() -> tuple[np.ndarray, np.ndarray]:
    return bundled_digits("heldout")
