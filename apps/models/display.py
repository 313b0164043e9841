"""How versions' metrics are shown: the headline ones first, and side by side with the
best value of each marked (for the analyst pages and the admin alike)."""

from __future__ import annotations

import math

from .models import ModelVersion
from .services.gate import LOWER_IS_BETTER as GATE_LOWER_IS_BETTER

# The metrics a list shows first, in this order, when a version has them.
HEADLINE_METRICS = ("auc", "ks", "accuracy", "f1_macro", "rmse", "mae", "r2")
# Metrics where a smaller value is better, by name or by the last part of the name
# (``valid_binary_logloss``); every other metric is better when larger.
LOWER_IS_BETTER = GATE_LOWER_IS_BETTER | {"l1", "l2", "mse", "error"}


def headline_metrics(metrics: dict | None, limit: int = 2) -> str:
    """The first ``limit`` headline metrics a version has, as "auc 0.8123 · ks 0.4100"."""
    shown = []
    for key in HEADLINE_METRICS:
        value = (metrics or {}).get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            shown.append(f"{key} {value:.4f}")
        if len(shown) == limit:
            break
    return " · ".join(shown) or "-"


def _numeric(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def metric_names(versions: list[ModelVersion]) -> list[str]:
    """The numeric metrics any of ``versions`` has: the headline ones first, then by name."""
    names = {name for v in versions for name, value in (v.metrics or {}).items() if _numeric(value)}
    headline = [n for n in HEADLINE_METRICS if n in names]
    return headline + sorted(names - set(headline))


def lower_is_better(name: str) -> bool:
    """Whether a smaller value of metric ``name`` is the better one (losses, errors)."""
    return name in LOWER_IS_BETTER or name.rsplit("_", 1)[-1] in LOWER_IS_BETTER


def metric_rows(versions: list[ModelVersion]) -> list[dict]:
    """One row per metric with each version's value (None where a version lacks it)."""
    return [
        {"name": n, "values": [(v.metrics or {}).get(n) for v in versions]} for n in metric_names(versions)
    ]


def metric_table(versions: list[ModelVersion]) -> dict:
    """Versions side by side: ``columns``, (metric name, lower is better) each, and ``rows``,
    one per version, of (version, [(value or None, is the best value of its column)]).
    Ties are all best."""
    names = metric_names(versions)
    best = {}
    for name in names:
        values = [v.metrics[name] for v in versions if _numeric((v.metrics or {}).get(name))]
        best[name] = (min if lower_is_better(name) else max)(values)
    rows = []
    for v in versions:
        cells = []
        for name in names:
            value = (v.metrics or {}).get(name)
            value = value if _numeric(value) else None
            cells.append((value, value is not None and value == best[name]))
        rows.append((v, cells))
    return {"columns": [(n, lower_is_better(n)) for n in names], "rows": rows}
