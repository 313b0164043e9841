"""The quality score (quality_score: points lost per component) and the alerts raised
for every threshold crossed.

Pure module: no Django import.
"""

from __future__ import annotations

from .common import Thresholds, _, _alert, _mean, _share

# Score components: (weight in points, share at which half of the weight is lost).
SCORE_WEIGHTS: dict[str, tuple[float, float]] = {
    "missing": (30.0, 0.2),
    "duplicateRows": (20.0, 0.05),
    "duplicateKeys": (10.0, 0.05),
    "outliers": (10.0, 0.05),
    "constantColumns": (10.0, 0.25),
    "timeGaps": (10.0, 0.1),
    "futureTimestamps": (5.0, 0.005),
    "labelImbalance": (5.0, 0.5),
}


def quality_score(components: dict[str, float]) -> tuple[float, dict[str, float]]:
    """The quality score (0..100) and the points lost per component.

    The score starts at 100. Each component is a share in [0, 1] and loses
    ``weight * (1 - 2 ** (-share / half))`` points (``SCORE_WEIGHTS``: weight, half): nothing
    at 0, half the weight at ``half``, three quarters at twice that, and so on. The curve
    never flattens, so a worse dataset always scores lower, and the weights sum to 100.

    ======================  ====================================================  ======  =====
    component               share                                                 weight  half
    ======================  ====================================================  ======  =====
    ``missing``             mean ``missingShare`` over columns                    30      0.2
    ``duplicateRows``       duplicate rows / rows                                 20      0.05
    ``duplicateKeys``       duplicate keys / rows                                 10      0.05
    ``outliers``            mean IQR outlier share over numerical columns         10      0.05
                            (binary columns excluded)
    ``constantColumns``     constant columns / columns                            10      0.25
    ``timeGaps``            missing periods / expected periods                    10      0.1
    ``futureTimestamps``    future timestamps / non-missing timestamps            5       0.005
    ``labelImbalance``      ``1 - minorityShare / min_minority_class_share``       5       0.5
                            when the label is imbalanced, else 0 (mild)
    ======================  ====================================================  ======  =====

    The result is rounded to 2 decimals and clamped to [0, 100]. An empty dataset scores 0
    (``profile_parquet``).
    """
    lost: dict[str, float] = {}
    for name, (weight, half) in SCORE_WEIGHTS.items():
        share = max(0.0, float(components.get(name, 0.0)))
        lost[name] = round(weight * (1.0 - 2.0 ** (-share / half)), 4)
    score = min(100.0, max(0.0, 100.0 - sum(lost.values())))
    return round(score, 2), lost


# --------------------------------------------------------------------------------------------
# Score and alerts


def _score(report: dict, t: Thresholds) -> tuple[float, dict[str, float]]:
    n = report["rowCount"]
    columns = report["columns"]
    if n == 0:
        return 0.0, {"empty": 100.0}
    numeric = [c for c in columns if c["kind"] == "numerical" and not c.get("binary")]
    label = report["label"]
    time = report["time"]
    keys = report["duplicateKeys"]
    imbalance = 0.0
    if label and label["imbalanced"]:
        imbalance = 1.0 - label["minorityShare"] / t.min_minority_class_share
    components = {
        "missing": _mean([c["missingShare"] for c in columns]),
        "duplicateRows": report["duplicateRows"]["share"],
        "duplicateKeys": keys["share"] if keys else 0.0,
        "outliers": _mean([c["outliers"]["iqr"]["share"] for c in numeric]),
        "constantColumns": _mean([1.0 if c["constant"] else 0.0 for c in columns]),
        "timeGaps": _share(time["missingPeriods"], time["expectedPeriods"]) if time else 0.0,
        "futureTimestamps": time["futureShare"] if time else 0.0,
        "labelImbalance": imbalance,
    }
    return quality_score(components)


def _alerts(report: dict, t: Thresholds) -> list[dict]:
    """Alerts for every threshold crossed; a clean dataset gets none."""
    out: list[dict] = []
    n = report["rowCount"]
    if n == 0:
        return [_alert("error", "empty_dataset", _("The dataset has no rows."))]
    dup = report["duplicateRows"]
    if dup["share"] > t.max_duplicate_row_share:
        out.append(
            _alert(
                "warning",
                "duplicate_rows",
                _("%(count)s duplicate rows (%(share)s), above %(limit)s."),
                {
                    "count": dup["count"],
                    "share": f"{dup['share']:.1%}",
                    "limit": f"{t.max_duplicate_row_share:.1%}",
                },
            )
        )
    keys = report["duplicateKeys"]
    if keys and keys["count"]:
        out.append(
            _alert(
                "error",
                "duplicate_keys",
                _("%(count)s rows repeat a key of %(columns)s."),
                {"count": keys["count"], "columns": ", ".join(keys["columns"])},
            )
        )
    for c in report["columns"]:
        name = c["name"]
        if c["missingShare"] > t.max_missing_share:
            out.append(
                _alert(
                    "warning",
                    "high_missing",
                    _("%(share)s of '%(column)s' is missing, above %(limit)s."),
                    {
                        "share": f"{c['missingShare']:.1%}",
                        "column": name,
                        "limit": f"{t.max_missing_share:.1%}",
                    },
                    name,
                )
            )
        if c["constant"]:
            out.append(
                _alert(
                    "warning",
                    "constant_column",
                    _("'%(column)s' holds a single value or none."),
                    {"column": name},
                    name,
                )
            )
        elif c["nearConstant"]:
            out.append(
                _alert(
                    "warning",
                    "near_constant_column",
                    _("One value covers %(share)s of '%(column)s'."),
                    {"share": f"{c['topValueShare']:.1%}", "column": name},
                    name,
                )
            )
        if c["kind"] == "numerical":
            share = c["outliers"]["iqr"]["share"]
            if share > t.max_outlier_share:
                out.append(
                    _alert(
                        "warning",
                        "outliers",
                        _("%(share)s of '%(column)s' lies outside the 1.5 IQR fences, above %(limit)s."),
                        {"share": f"{share:.1%}", "column": name, "limit": f"{t.max_outlier_share:.1%}"},
                        name,
                    )
                )
    time = report["time"]
    if time:
        col = time["column"]
        if time["futureCount"]:
            out.append(
                _alert(
                    "error",
                    "future_timestamps",
                    _("%(count)s timestamps are in the future."),
                    {"count": time["futureCount"]},
                    col,
                )
            )
        if time["gapCount"]:
            out.append(
                _alert(
                    "warning",
                    "time_gaps",
                    _("%(missing)s of %(expected)s %(frequency)s periods have no rows (%(gaps)s gaps)."),
                    {
                        "missing": time["missingPeriods"],
                        "expected": time["expectedPeriods"],
                        "frequency": time["frequency"],
                        "gaps": time["gapCount"],
                    },
                    col,
                )
            )
        if time["unparseable"]:
            out.append(
                _alert(
                    "warning",
                    "unparseable_timestamps",
                    _("%(count)s values are not dates."),
                    {"count": time["unparseable"]},
                    col,
                )
            )
    label = report["label"]
    if label:
        col = label["column"]
        if label["classCount"] < 2:
            out.append(
                _alert(
                    "error",
                    "label_single_class",
                    _("The label '%(column)s' has fewer than 2 classes."),
                    {"column": col},
                    col,
                )
            )
        elif label["imbalanced"]:
            out.append(
                _alert(
                    "warning",
                    "label_imbalance",
                    _("The smallest class of '%(column)s' holds %(share)s of the rows."),
                    {"column": col, "share": f"{label['minorityShare']:.1%}"},
                    col,
                )
            )
    if report["score"] < t.min_quality_score:
        out.append(
            _alert(
                "error",
                "low_quality_score",
                _("Quality score %(score)s is below %(limit)s."),
                {"score": f"{report['score']:.1f}", "limit": f"{t.min_quality_score:.1f}"},
            )
        )
    return out
