"""Exports of an evaluation: a standalone HTML report and CSV tables.

The HTML file fetches nothing: its styles are inline and its charts are SVG drawn here,
so it opens the same offline, in an e-mail or in an archive years later. CSV cells go
through ``apps.core.csvsafe`` (no spreadsheet formulas).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from html import escape
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from apps.core.csvsafe import write_rows
from apps.models.labels import objective_label

from .errors import ExportUnavailable

CSV_TABLES: dict[str, tuple[str, ...]] = {
    "metrics": ("metric", "value", "definition"),
    "deciles": (
        "bucket",
        "min_score",
        "max_score",
        "count",
        "bads",
        "goods",
        "bad_rate",
        "population_share",
        "cum_population_share",
        "cum_bad_share",
        "cum_good_share",
        "ks",
        "lift",
        "cum_lift",
    ),
    "roc": ("fpr", "tpr", "population", "threshold"),
    "pr": ("recall", "precision", "threshold"),
    "psi": (
        "label",
        "lower",
        "upper",
        "baseline_count",
        "current_count",
        "baseline_share",
        "current_share",
        "contribution",
    ),
    "csi": ("feature", "psi", "level", "kind"),
    "importance": ("feature", "importance", "importance_share"),
}

# The header of each CSV column in the reader's language (English: the column's key, as
# scripts reading the files expect it).
COLUMN_LABELS: dict[str, str] = {
    "metric": pgettext_lazy("CSV column", "metric"),
    "value": pgettext_lazy("CSV column", "value"),
    "definition": pgettext_lazy("CSV column", "definition"),
    "bucket": pgettext_lazy("CSV column", "bucket"),
    "min_score": pgettext_lazy("CSV column", "min_score"),
    "max_score": pgettext_lazy("CSV column", "max_score"),
    "count": pgettext_lazy("CSV column", "count"),
    "bads": pgettext_lazy("CSV column", "bads"),
    "goods": pgettext_lazy("CSV column", "goods"),
    "bad_rate": pgettext_lazy("CSV column", "bad_rate"),
    "population_share": pgettext_lazy("CSV column", "population_share"),
    "cum_population_share": pgettext_lazy("CSV column", "cum_population_share"),
    "cum_bad_share": pgettext_lazy("CSV column", "cum_bad_share"),
    "cum_good_share": pgettext_lazy("CSV column", "cum_good_share"),
    "ks": pgettext_lazy("CSV column", "ks"),
    "lift": pgettext_lazy("CSV column", "lift"),
    "cum_lift": pgettext_lazy("CSV column", "cum_lift"),
    "fpr": pgettext_lazy("CSV column", "fpr"),
    "tpr": pgettext_lazy("CSV column", "tpr"),
    "population": pgettext_lazy("CSV column", "population"),
    "threshold": pgettext_lazy("CSV column", "threshold"),
    "recall": pgettext_lazy("CSV column", "recall"),
    "precision": pgettext_lazy("CSV column", "precision"),
    "label": pgettext_lazy("CSV column", "label"),
    "lower": pgettext_lazy("CSV column", "lower"),
    "upper": pgettext_lazy("CSV column", "upper"),
    "baseline_count": pgettext_lazy("CSV column", "baseline_count"),
    "current_count": pgettext_lazy("CSV column", "current_count"),
    "baseline_share": pgettext_lazy("CSV column", "baseline_share"),
    "current_share": pgettext_lazy("CSV column", "current_share"),
    "contribution": pgettext_lazy("CSV column", "contribution"),
    "feature": pgettext_lazy("CSV column", "feature"),
    "psi": pgettext_lazy("CSV column", "psi"),
    "level": pgettext_lazy("CSV column", "level"),
    "kind": pgettext_lazy("CSV column", "kind"),
    "importance": pgettext_lazy("CSV column", "importance"),
    "importance_share": pgettext_lazy("CSV column", "importance_share"),
}
# Each table as the report's export links name it.
TABLE_LABELS: dict[str, str] = {
    "metrics": _("metrics"),
    "deciles": _("deciles"),
    "roc": _("ROC curve"),
    "pr": _("precision-recall curve"),
    "psi": "PSI",
    "csi": "CSI",
    "importance": _("feature importance"),
}

W, H, PAD = 380, 250, 44
COLORS = ("#3b7dd8", "#d9534f", "#2e8b57", "#8a6100", "#7b4bb7")


def _table_rows(result: dict, table: str) -> list[dict]:
    if table == "metrics":
        definitions = result["definitions"]
        return [
            {"metric": k, "value": v, "definition": definitions.get(k, "")}
            for k, v in result["metrics"].items()
        ]
    source = {
        "deciles": result.get("deciles"),
        "roc": result.get("roc_curve"),
        "pr": result.get("pr_curve"),
        "psi": (result.get("psi") or {}).get("rows"),
        "csi": result.get("csi"),
        "importance": result.get("feature_importance"),
    }[table]
    if source is None:
        raise ExportUnavailable(
            gettext("This %(objective)s evaluation has no %(table)s table.")
            % {"objective": objective_label(result["objective"]), "table": TABLE_LABELS.get(table, table)}
        )
    return source


def report_csv(result: dict[str, Any], table: str) -> str:
    """One table of the report as CSV (header row first, in the reader's language), formula-safe."""
    if table not in CSV_TABLES:
        raise ExportUnavailable(
            gettext("Unknown table %(table)s; one of %(tables)s.")
            % {"table": repr(table), "tables": ", ".join(CSV_TABLES)}
        )
    columns = CSV_TABLES[table]
    out = io.StringIO()
    header = [str(COLUMN_LABELS[c]) for c in columns]
    write_rows(out, header, ([row.get(c) for c in columns] for row in _table_rows(result, table)))
    return out.getvalue()


# --------------------------------------------------------------------------- SVG charts


def _xy(x: float, y: float, x_max: float = 1.0, y_max: float = 1.0) -> str:
    px = PAD + (W - 2 * PAD) * (x / x_max if x_max else 0)
    py = H - PAD - (H - 2 * PAD) * (y / y_max if y_max else 0)
    return f"{px:.1f},{py:.1f}"


def _frame(title: str, x_label: str, y_label: str, y_max: float, body: str, legend: Sequence[str]) -> str:
    ticks = "".join(
        f'<text x="{PAD - 4}" y="{H - PAD - (H - 2 * PAD) * f + 4:.1f}" '
        f'text-anchor="end">{y_max * f:.2g}</text>'
        for f in (0, 0.5, 1)
    )
    keys = "".join(
        f'<rect x="{PAD + 8 + 120 * i}" y="6" width="10" height="10" fill="{COLORS[i % len(COLORS)]}"/>'
        f'<text x="{PAD + 22 + 120 * i}" y="15">{escape(name)}</text>'
        for i, name in enumerate(legend)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" '
        f'role="img" aria-label="{escape(title)}" font-size="10" font-family="sans-serif">'
        f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - PAD}" y2="{H - PAD}" stroke="#999"/>'
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{H - PAD}" stroke="#999"/>{ticks}{keys}'
        f'<text x="{W / 2}" y="{H - 6}" text-anchor="middle">{escape(x_label)}</text>'
        f'<text x="10" y="{H / 2}" transform="rotate(-90 10 {H / 2})" '
        f'text-anchor="middle">{escape(y_label)}</text>'
        f"{body}</svg>"
    )


def svg_lines(
    title: str,
    series: Sequence[tuple[str, Sequence[float], Sequence[float]]],
    x_label: str,
    y_label: str,
    diagonal: bool = True,
) -> SafeString:
    """Lines on [0, 1] x [0, 1] (ROC, PR, KS, gain), with the diagonal for reference."""
    body = ""
    if diagonal:
        body = (
            f'<polyline points="{_xy(0, 0)} {_xy(1, 1)}" fill="none" stroke="#ccc" stroke-dasharray="4 3"/>'
        )
    for i, (_name, xs, ys) in enumerate(series):
        points = " ".join(_xy(x, y) for x, y in zip(xs, ys, strict=True) if x is not None and y is not None)
        body += (
            f'<polyline points="{points}" fill="none" stroke="{COLORS[i % len(COLORS)]}" stroke-width="2"/>'
        )
    return mark_safe(_frame(title, x_label, y_label, 1.0, body, [name for name, _, _ in series]))  # noqa: S308 - built from numbers and escaped text


def svg_bars(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    x_label: str,
    y_label: str,
) -> SafeString:
    """Grouped vertical bars (lift by decile, score distribution baseline vs current)."""
    values = [v for _, vs in series for v in vs if v is not None]
    y_max = max(values, default=0) or 1.0
    n, k = max(len(labels), 1), max(len(series), 1)
    slot = (W - 2 * PAD) / n
    width = slot * 0.8 / k
    body = ""
    for j, (_name, vs) in enumerate(series):
        for i, v in enumerate(vs):
            if v is None:
                continue
            height = (H - 2 * PAD) * v / y_max
            x = PAD + slot * i + slot * 0.1 + width * j
            body += (
                f'<rect x="{x:.1f}" y="{H - PAD - height:.1f}" width="{width:.1f}" height="{height:.1f}" '
                f'fill="{COLORS[j % len(COLORS)]}"><title>{escape(str(labels[i]))}: {v:.4g}</title></rect>'
            )
    for i, label in enumerate(labels):
        if n <= 12 or i % max(n // 10, 1) == 0:
            x = PAD + slot * (i + 0.5)
            body += (
                f'<text x="{x:.1f}" y="{H - PAD + 12}" text-anchor="middle">{escape(str(label))[:8]}</text>'
            )
    return mark_safe(_frame(title, x_label, y_label, y_max, body, [name for name, _ in series]))  # noqa: S308 - built from numbers and escaped text


def charts(result: dict[str, Any]) -> dict[str, SafeString]:
    """The report's charts as inline SVG, keyed by title (only those the data allows), with
    titles, axes and legends in the reader's language."""
    out: dict[str, SafeString] = {}
    roc = result.get("roc_curve")
    if roc:
        title = gettext("ROC curve")
        out[title] = svg_lines(
            title,
            [("ROC", [p["fpr"] for p in roc], [p["tpr"] for p in roc])],
            gettext("false positive rate"),
            gettext("true positive rate"),
        )
        title = gettext("KS curve")
        out[title] = svg_lines(
            title,
            [
                (gettext("bads (TPR)"), [p["population"] for p in roc], [p["tpr"] for p in roc]),
                (gettext("goods (FPR)"), [p["population"] for p in roc], [p["fpr"] for p in roc]),
            ],
            gettext("share of population, riskiest first"),
            gettext("cumulative share"),
        )
    pr = result.get("pr_curve")
    if pr:
        title = gettext("Precision-recall curve")
        out[title] = svg_lines(
            title,
            [("PR", [p["recall"] for p in pr], [p["precision"] for p in pr])],
            gettext("recall"),
            gettext("precision"),
            diagonal=False,
        )
    deciles = result.get("deciles")
    if deciles:
        title = gettext("Bad rate by decile")
        out[title] = svg_bars(
            title,
            [str(d["bucket"]) for d in deciles],
            [(gettext("bad rate"), [d["bad_rate"] for d in deciles])],
            gettext("bucket (1 = riskiest)"),
            gettext("bad rate"),
        )
    psi = result.get("psi")
    if psi:
        rows = psi["rows"]
        out[gettext("Score distribution, training vs evaluated")] = svg_bars(
            gettext("Score distribution"),
            [str(i + 1) for i in range(len(rows))],
            [
                (gettext("baseline"), [r["baseline_share"] for r in rows]),
                (gettext("current"), [r["current_share"] for r in rows]),
            ],
            gettext("score bin (baseline deciles)"),
            gettext("share of rows"),
        )
    return out


def report_html(result: dict[str, Any]) -> str:
    """The whole report as one self-contained HTML document."""
    return render_to_string(
        "evaluations/export.html",
        {
            "r": result,
            "objective": objective_label(result["objective"]),
            "charts": charts(result),
            "exported_at": timezone.now(),
        },
    )
