"""Metrics: pure functions (one module each) and a registry behind ``evaluate``.

Registered names: fid, kid, inception-score, precision-recall, density-coverage, memorization,
label-accuracy, tstr, c2st, stacked-mnist-modes, modes, jsd, kl. Importing this package loads no
weights; extractors load on first use.
"""

from __future__ import annotations

from gankit.metrics.evaluate import (
    EvalContext,
    Result,
    compare_passports,
    default_metrics,
    evaluate,
    format_table,
    make_context,
    run_metric,
)
from gankit.metrics.features import MetricUnavailable

__all__ = [
    "EvalContext",
    "MetricUnavailable",
    "Result",
    "compare_passports",
    "default_metrics",
    "evaluate",
    "format_table",
    "make_context",
    "run_metric",
]
