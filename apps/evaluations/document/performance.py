"""The model document's evaluation and stability sections, from the version's completed
evaluations as the report page shows them (``selectors.evaluation_result``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext

from apps.models.models import ModelVersion
from apps.tasks.models import TaskStatus

from .. import selectors, texts
from ..constants import HEADLINE, metric_label
from ..models import Evaluation
from ..templatetags.evaluation_labels import feature_kind, psi_level
from .blocks import fields, figure, note, table, when

# Completed evaluations listed in the document, newest first; the figures shown in full are
# those of the newest one (and of the newest one that measured stability).
LISTED = 10


def completed_evaluations(version: ModelVersion) -> list[Evaluation]:
    """The version's completed evaluations (monitoring runs included), newest first."""
    return list(
        selectors.evaluations_for_list()
        .filter(model_version=version, task__status=TaskStatus.COMPLETED)
        .order_by("-completed_at", "-id")[:LISTED]
    )


def _headline(objective: str) -> tuple[str, ...]:
    return HEADLINE.get(objective, ())[:3]


def _summary(evaluations: list[Evaluation]) -> dict[str, Any]:
    names = _headline(evaluations[0].objective)
    return table(
        "evaluation-list",
        [
            gettext("Evaluation"),
            gettext("Dataset"),
            gettext("Monitoring run"),
            gettext("Rows"),
            *[metric_label(n) for n in names],
            gettext("Completed"),
        ],
        [
            [
                f"#{ev.pk}",
                str(ev.dataset_version),
                figure(ev.is_monitor),
                ev.rows,
                *[figure((ev.metrics or {}).get(n)) for n in names],
                when(ev.completed_at),
            ]
            for ev in evaluations
        ],
        caption=gettext("Completed evaluations of this version, newest first"),
    )


def evaluation_blocks(evaluations: list[Evaluation]) -> list[dict[str, Any]]:
    """The newest completed evaluation in full (a scored evaluation before a monitoring run):
    headline figures, lift table and confusion matrix; then the list of them all."""
    if not evaluations:
        return [note(gettext("No evaluation of this version has completed."))]
    ev = next((e for e in evaluations if not e.is_monitor), evaluations[0])
    r = selectors.evaluation_result(ev)
    blocks = [
        fields(
            "evaluation-fields",
            [
                (gettext("Evaluation"), f"#{ev.pk}"),
                (gettext("Dataset version"), f"{r['dataset_name']} v{r['dataset_version']}"),
                (gettext("Rows"), r["rows"]),
                (gettext("Threshold"), r["threshold"]),
                (gettext("Bad rate"), figure(r["base_rate"])),
                (gettext("Completed"), when(r["completed_at"])),
            ],
        ),
        table(
            "evaluation-metrics",
            [gettext("Metric"), gettext("Value"), gettext("Definition")],
            [[metric_label(k), figure(v), r["definitions"].get(k, "")] for k, v in r["metrics"].items()],
            caption=gettext("Headline figures"),
        ),
    ]
    if r["deciles"]:
        blocks.append(
            table(
                "evaluation-deciles",
                [
                    gettext("Bucket"),
                    gettext("Score range"),
                    gettext("Count"),
                    gettext("Bads"),
                    gettext("Bad rate"),
                    gettext("Cum. bad share"),
                    gettext("Cum. good share"),
                    "KS",
                    gettext("Lift"),
                    gettext("Cum. lift"),
                ],
                [
                    [
                        d["bucket"],
                        f"{figure(d['min_score'])} \u2013 {figure(d['max_score'])}",
                        d["count"],
                        d["bads"],
                        figure(d["bad_rate"]),
                        figure(d["cum_bad_share"]),
                        figure(d["cum_good_share"]),
                        figure(d["ks"]),
                        figure(d["lift"], 2),
                        figure(d["cum_lift"], 2),
                    ]
                    for d in r["deciles"]
                ],
                caption=gettext("Lift and gain by bucket")
                + " · "
                + gettext("Bucket 1 holds the highest scores."),
            )
        )
    if r["confusion"]:
        c = r["confusion"]
        blocks.append(
            table(
                "evaluation-confusion",
                ["", gettext("Predicted good"), gettext("Predicted bad")],
                [[gettext("Actual good"), c["tn"], c["fp"]], [gettext("Actual bad"), c["fn"], c["tp"]]],
                caption=gettext("Confusion matrix at threshold %(threshold)s")
                % {"threshold": r["threshold"]},
            )
        )
    elif r["confusion_matrix"] and r["classes"]:
        classes = [str(c) for c in r["classes"]]
        blocks.append(
            table(
                "evaluation-confusion",
                [gettext("actual \\ predicted"), *classes],
                [[cls, *row] for cls, row in zip(classes, r["confusion_matrix"], strict=False)],
                caption=gettext("Confusion matrix"),
            )
        )
    blocks.append(_summary(evaluations))
    return blocks


def stability_blocks(evaluations: list[Evaluation]) -> list[dict[str, Any]]:
    """PSI of the score per evaluation that measured it (with its drift alerts), then the
    score bins and the CSI per feature of the newest one."""
    measured = [ev for ev in evaluations if (ev.metrics or {}).get("psi") is not None]
    if not measured:
        return [note(gettext("No evaluation of this version measured stability (PSI, CSI)."))]
    blocks = [
        table(
            "stability-history",
            [
                gettext("Evaluation"),
                gettext("Dataset"),
                gettext("Monitoring run"),
                "PSI",
                gettext("Level"),
                gettext("Alerts"),
                gettext("Completed"),
            ],
            [
                [
                    f"#{ev.pk}",
                    str(ev.dataset_version),
                    figure(ev.is_monitor),
                    figure(ev.metrics["psi"]),
                    psi_level(((ev.report or {}).get("psi") or {}).get("level")),
                    " ".join(texts.alert(a)["message"] or "" for a in ev.alerts) if ev.alerts else None,
                    when(ev.completed_at),
                ]
                for ev in measured
            ],
            caption=gettext("Score PSI, newest first (baseline: the version's scores on its training data)"),
        )
    ]
    latest = selectors.evaluation_result(measured[0])
    psi = latest["psi"] or {}
    if psi.get("rows"):
        blocks.append(
            table(
                "stability-psi",
                [
                    gettext("Score bin"),
                    gettext("Baseline rows"),
                    gettext("Current rows"),
                    gettext("Baseline share"),
                    gettext("Current share"),
                    gettext("Contribution"),
                ],
                [
                    [
                        b.get("label"),
                        b.get("baseline_count"),
                        b.get("current_count"),
                        figure(b.get("baseline_share")),
                        figure(b.get("current_share")),
                        figure(b.get("contribution")),
                    ]
                    for b in psi["rows"]
                ],
                caption=gettext("Score stability (PSI %(psi)s, %(level)s)")
                % {"psi": figure(psi.get("psi")), "level": psi_level(psi.get("level"))}
                + f" · #{latest['id']}",
            )
        )
    if latest["csi"]:
        blocks.append(
            table(
                "stability-csi",
                [gettext("Feature"), "CSI", gettext("Level"), gettext("Kind")],
                [
                    [
                        c.get("feature"),
                        figure(c.get("psi")),
                        psi_level(c.get("level")),
                        feature_kind(c.get("kind")),
                    ]
                    for c in sorted(latest["csi"], key=lambda c: -(c.get("psi") or 0))
                ],
                caption=gettext("Feature stability (CSI)") + f" · #{latest['id']}",
            )
        )
    else:
        blocks.append(note(gettext("The newest stability measurement has no CSI per feature.")))
    return blocks
