"""The model document of a version: every section as plain data in the reader's language.

``version_document`` reads the registry (purpose, lineage, card or parameters, training,
reason dictionary, approvals), the dataset version's quality report, the feature center's
statistics and the version's evaluations (``performance``), and writes nothing. The HTML
page and the PDF (``pdf``) render the same dict, so both show the same figures.

The sections follow the documentation a model validator asks for under the US supervisory
guidance on model risk management (Federal Reserve SR 11-7, 2011, section V "Model
development, implementation and use": purpose, data, methodology, testing and ongoing
monitoring; section VI on the governance record).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language, gettext, pgettext

from apps.datasets.texts import quality_shown
from apps.features.models import FeatureSetItem, FeatureType
from apps.models.forms import SPLIT_LABELS
from apps.models.labels import (
    algorithm_label,
    bin_kind_label,
    bin_label,
    candidate_reason,
    metric_label,
    objective_label,
    trend_label,
)
from apps.models.models import EventAction, ModelVersion, ReasonText, RequestStatus, VersionStatus

from . import performance
from .blocks import DOCUMENT_TIME_ZONE, NONE, fields, figure, note, section, share, table, text, when


def version_document(version: ModelVersion) -> dict[str, Any]:
    """The whole document of ``version`` in the active language (see the module docstring).

    ``{"title", "model", "version", "version_id", "language", "language_name",
    "generated_at", "time_zone", "labels": {...}, "sections": [{"id", "number", "title",
    "blocks": [...]}]}``; a block is ``fields`` (label/value rows), ``table`` (columns, rows,
    caption) or ``note`` (text), every cell a string.
    """
    version = ModelVersion.objects.select_related(
        "model", "created_by", "task", "dataset_version__dataset", "feature_set", "derived_from__model"
    ).get(pk=version.pk)
    evaluations = performance.completed_evaluations(version)
    sections = [
        section("purpose", gettext("Purpose and owner"), _purpose(version)),
        section("lineage", gettext("Data and lineage"), _lineage(version)),
        section("quality", gettext("Data quality"), _quality(version)),
        section("features", gettext("Features"), _features(version)),
        (
            section("scorecard", gettext("Scorecard binning"), _card(version.card))
            if version.card
            else section("parameters", gettext("Parameters"), _parameters(version))
        ),
        section("training", gettext("Training"), _training(version)),
        section("evaluation", gettext("Evaluation"), performance.evaluation_blocks(evaluations)),
        section("stability", gettext("Stability"), performance.stability_blocks(evaluations)),
        section("reasons", gettext("Reason code dictionary"), _reasons(version)),
        section("trail", gettext("Approvals and trail"), _trail(version)),
    ]
    for number, entry in enumerate(sections, start=1):
        entry["number"] = number
    language = get_language() or settings.LANGUAGE_CODE
    language_name = dict(settings.LANGUAGES).get(language, language)
    generated = when(timezone.now())
    return {
        "title": gettext("Model document"),
        "model": version.model.name,
        "version": version.version,
        "version_id": version.pk,
        "language": language,
        "language_name": language_name,
        "generated_at": generated,
        "time_zone": DOCUMENT_TIME_ZONE,
        "labels": {
            "heading": gettext("%(model)s v%(version)s · model document")
            % {"model": version.model.name, "version": version.version},
            "generated": gettext("Generated at %(when)s (%(zone)s)")
            % {"when": generated, "zone": DOCUMENT_TIME_ZONE},
            "language": gettext("Document language: %(language)s") % {"language": language_name},
            # Filled in by the PDF once it knows how many pages there are.
            "page": gettext("Page %(page)s of %(pages)s"),
        },
        "sections": sections,
    }


# --------------------------------------------------------------------------- 1. purpose


def _status_label(code: str | None) -> str:
    return str(VersionStatus(code).label) if code in VersionStatus.values else text(code)


def event_value(version: ModelVersion) -> Any:
    """The label value a binary version scores the probability of: stored since scorecards
    (``eventValue``), else the second label class, as training has always taken it."""
    schema = version.feature_schema or {}
    if "eventValue" in schema:
        return schema["eventValue"]
    classes = schema.get("labelClasses") or []
    return classes[1] if len(classes) > 1 else None


def _purpose(version: ModelVersion) -> list[dict]:
    model = version.model
    rows: list[tuple[str, Any]] = [
        (gettext("Model"), model.name),
        (gettext("Description"), model.description),
        (gettext("Type"), model.get_type_display()),
        (gettext("Objective"), objective_label(version.objective)),
        (gettext("Algorithm"), algorithm_label(version.algorithm)),
        (gettext("Version"), f"v{version.version}"),
        (gettext("Status"), version.get_status_display()),
        (gettext("Created by"), version.created_by.username if version.created_by else None),
        (gettext("Created at"), when(version.created_at)),
        (gettext("Source"), version.get_source_display()),
    ]
    if version.objective == "binary":
        rows.append((gettext("Event value (scored as bad)"), event_value(version)))
    rows.append((gettext("Changelog"), version.changelog))
    if version.review_required:
        rows.append((gettext("Review required"), version.review_reason or gettext("Yes")))
    return [fields("purpose-fields", rows)]


# --------------------------------------------------------------------------- 2. lineage


def _edit_text(edit: Any) -> str:
    if isinstance(edit, dict):
        # The feature first, then the edit's keys in a fixed order (jsonb does not keep the order given).
        keys = sorted(edit, key=lambda k: (k != "feature", k))
        return "; ".join(f"{k}: {edit[k]}" for k in keys)
    return str(edit)


def _lineage(version: ModelVersion) -> list[dict]:
    dv, info = version.dataset_version, version.training_info or {}
    rows_of = info.get("rows") or {}
    schema = version.feature_schema or {}
    task = version.task
    split = info.get("split")
    rows: list[tuple[str, Any]] = [
        (gettext("Dataset"), dv.dataset.name if dv else None),
        (gettext("Dataset version"), f"v{dv.version}" if dv else None),
        (gettext("Dataset rows"), dv.row_count if dv else None),
        (gettext("Dataset sha256"), version.dataset_sha256),
        (
            gettext("Feature set"),
            f"{version.feature_set.name} v{version.feature_set.version}"
            if version.feature_set
            else gettext("none (columns chosen directly)"),
        ),
        (gettext("Label"), schema.get("label")),
        (gettext("Training task"), f"#{task.pk} {task.name}" if task else None),
        (gettext("Seed"), version.seed),
        (
            gettext("Libraries"),
            ", ".join(f"{name} {v}" for name, v in sorted((version.library_versions or {}).items())),
        ),
        (gettext("Split"), str(SPLIT_LABELS.get(split, split)) if split else None),
        (
            gettext("Validation share"),
            figure(info.get("validationShare"), 2) if "validationShare" in info else None,
        ),
        (gettext("Training rows"), rows_of.get("train")),
        (gettext("Validation rows"), rows_of.get("valid")),
        (gettext("Rows left out"), rows_of.get("dropped")),
        (gettext("Derived from"), str(version.derived_from) if version.derived_from else None),
    ]
    blocks = [fields("lineage-fields", rows)]
    edits = info.get("edits") if version.derived_from_id else None
    if edits:
        blocks.append(
            table(
                "edits",
                ["#", gettext("Bin edit")],
                [[i, _edit_text(e)] for i, e in enumerate(edits, start=1)],
                caption=gettext("Bin edits refitted from %(version)s") % {"version": version.derived_from},
            )
        )
    return blocks


# --------------------------------------------------------------------------- 3. data quality


def _alert_level(level: str | None) -> str:
    return {"error": gettext("error"), "warning": gettext("warning")}.get(level or "", text(level))


def _quality(version: ModelVersion) -> list[dict]:
    dv = version.dataset_version
    if dv is None or not dv.quality:
        return [note(gettext("No quality report for the training data (uploaded model or report missing)."))]
    q = quality_shown(dv.quality)
    duplicates = q.get("duplicateRows") or {}
    rows: list[tuple[str, Any]] = [
        (gettext("Dataset version"), str(dv)),
        (gettext("quality score"), figure(q.get("score"), 1)),
        (gettext("rows"), q.get("rowCount")),
        (gettext("columns"), q.get("columnCount")),
        (gettext("duplicate rows"), f"{figure(duplicates.get('count'))} ({share(duplicates.get('share'))})"),
    ]
    if q.get("label"):
        rows.append(
            (
                gettext("bad rate (%(column)s)") % {"column": q["label"].get("column")},
                figure(q["label"].get("badRate"), 3),
            )
        )
    used = set((version.feature_schema or {}).get("features") or []) | {
        (version.feature_schema or {}).get("label")
    }
    columns = [c for c in q.get("columns") or [] if c.get("name") in used]
    blocks = [fields("quality-fields", rows)]
    blocks.append(
        table(
            "quality-columns",
            [gettext("Column"), gettext("Kind"), gettext("Missing values"), gettext("Missing share")],
            [
                [c.get("name"), _type_label(c.get("kind")), c.get("missing"), share(c.get("missingShare"))]
                for c in columns
            ],
            caption=gettext("Columns the version uses"),
        )
    )
    alerts = q.get("alerts") or []
    if alerts:
        blocks.append(
            table(
                "quality-alerts",
                [gettext("Level"), gettext("Column"), gettext("Message")],
                [[_alert_level(a.get("level")), a.get("column"), a.get("message")] for a in alerts],
                caption=gettext("Problems found"),
            )
        )
    else:
        blocks.append(note(gettext("No alerts: every threshold holds.")))
    return blocks


# --------------------------------------------------------------------------- 4. features


def _type_label(code: str | None) -> str:
    code = "numerical" if code == "numeric" else code  # a card says numeric, the feature centre numerical
    return str(FeatureType(code).label) if code in FeatureType.values else text(code)


def _features(version: ModelVersion) -> list[dict]:
    card = version.card or {}
    names = list((version.feature_schema or {}).get("features") or [])
    if card.get("candidates"):
        kinds = {c.get("name"): c.get("kind") for c in card["candidates"]}
        rows = [
            [
                c.get("name"),
                _type_label(kinds.get(c.get("name"))),
                figure(c.get("iv")),
                figure(bool(c.get("selected"))),
                candidate_reason(c.get("reason")),
            ]
            for c in sorted(card["candidates"], key=lambda c: -(c.get("iv") or 0))
        ]
        columns = [gettext("Feature"), gettext("Type"), "IV", gettext("Selected"), gettext("Reason")]
        return [
            table("feature-list", columns, rows, caption=gettext("Candidates of the scorecard, by IV")),
        ]
    if version.feature_set_id:
        items = FeatureSetItem.objects.filter(feature_set_id=version.feature_set_id).select_related(
            "feature_version__feature"
        )
        rows = []
        for item in items.order_by("position"):
            fv = item.feature_version
            stats = fv.statistics or {}
            iv = (stats.get("iv") or {}).get("iv") if isinstance(stats.get("iv"), dict) else None
            column = fv.source_column or fv.feature.name
            rows.append(
                [
                    fv.feature.name,
                    column,
                    _type_label(fv.type),
                    share(stats.get("missingShare")),
                    figure(iv),
                    figure(column in names),
                ]
            )
        columns = [
            gettext("Feature"),
            gettext("Column"),
            gettext("Type"),
            gettext("Missing share"),
            "IV",
            gettext("Used"),
        ]
        return [
            table(
                "feature-list",
                columns,
                rows,
                caption=gettext("Features of the feature set, with the statistics the feature center keeps"),
            )
        ]
    levels = (version.feature_schema or {}).get("categoricalLevels") or {}
    rows = [
        [name, _type_label(FeatureType.CATEGORICAL if name in levels else FeatureType.NUMERICAL)]
        for name in names
    ]
    return [
        table("feature-list", [gettext("Feature"), gettext("Type")], rows),
        note(
            gettext("No IV is known for these features: they were chosen as columns, not from a feature set.")
        ),
    ]


# --------------------------------------------------------------------------- 5. card or parameters


def _card(card: dict) -> list[dict]:
    scaling = card.get("scaling") or {}
    rows: list[tuple[str, Any]] = [
        (gettext("PDO (points to double the odds)"), figure(scaling.get("pdo"))),
        (gettext("Base odds"), figure(scaling.get("baseOdds"))),
        (gettext("Base score"), figure(scaling.get("baseScore"))),
        (gettext("Rounding"), text(scaling.get("rounding"))),
        (gettext("Factor"), figure(scaling.get("factor"))),
        (gettext("Offset"), figure(scaling.get("offset"))),
        (gettext("Intercept"), figure(card.get("intercept"))),
    ]
    blocks = [fields("card-scaling", rows)]
    columns = [
        gettext("Bin"),
        gettext("Kind"),
        gettext("Count"),
        gettext("Events"),
        gettext("Event rate"),
        "WOE",
        "IV",
        gettext("Points"),
    ]
    for i, feature in enumerate(card.get("features") or [], start=1):
        caption = gettext("%(feature)s · %(kind)s · coefficient %(coef)s · IV %(iv)s · trend %(trend)s") % {
            "feature": feature.get("name"),
            "kind": _type_label(feature.get("kind")),
            "coef": figure(feature.get("coef")),
            "iv": figure(feature.get("iv")),
            "trend": trend_label(feature.get("trend")),
        }
        bins = [
            [
                bin_label(b),
                bin_kind_label(b.get("kind")),
                figure(b.get("count")),
                figure(b.get("events")),
                figure(b.get("eventRate")),
                figure(b.get("woe")),
                figure(b.get("iv")),
                figure(b.get("points"), 2),
            ]
            for b in feature.get("bins") or []
        ]
        blocks.append(table(f"bins-{i}", columns, bins, caption=caption))
    edits = card.get("edits") or []
    if edits:
        blocks.append(
            table(
                "card-edits",
                ["#", gettext("Bin edit")],
                [[i, _edit_text(e)] for i, e in enumerate(edits, start=1)],
                caption=gettext("Bin edits"),
            )
        )
    return blocks


def _parameters(version: ModelVersion) -> list[dict]:
    parameters = sorted((version.parameters or {}).items())
    if not parameters:
        return [note(gettext("The version stores no parameters."))]
    return [
        table(
            "parameter-list",
            [gettext("Parameter"), gettext("Value")],
            # As stored: a parameter is read back exactly (0.1, not 0.1000).
            [[name, json.dumps(value, ensure_ascii=False)] for name, value in parameters],
        )
    ]


# --------------------------------------------------------------------------- 6. training


def _training(version: ModelVersion) -> list[dict]:
    info = version.training_info or {}
    fallback = info.get("fallback")
    rows: list[tuple[str, Any]] = [
        (gettext("Best iteration"), info.get("bestIteration")),
        (
            gettext("Fallback"),
            gettext("%(from)s failed (%(reason)s); trained %(to)s instead.")
            % {"from": fallback.get("from"), "to": fallback.get("to"), "reason": fallback.get("reason")}
            if fallback
            else gettext("none"),
        ),
        (
            gettext("Training seconds"),
            figure(info.get("seconds"), 1) if info.get("seconds") is not None else None,
        ),
    ]
    metrics = version.metrics or {}
    blocks = [fields("training-fields", rows)]
    if metrics:
        blocks.append(
            table(
                "training-metrics",
                [gettext("Metric"), gettext("Value")],
                [[metric_label(k), figure(v)] for k, v in metrics.items()],
                caption=gettext("Metrics on the validation rows"),
            )
        )
    else:
        blocks.append(note(gettext("The version stores no training metrics.")))
    return blocks


# --------------------------------------------------------------------------- 9. reason codes


def reason_texts(version: ModelVersion) -> list[ReasonText]:
    """The dictionary rows for the version's features: the model's own, and the global ones
    (``model`` empty) where the model has none for the same feature and bin."""
    names = list((version.feature_schema or {}).get("features") or [])
    names += [f.get("name") for f in (version.card or {}).get("features") or [] if f.get("name") not in names]
    rows = ReasonText.objects.filter(Q(model=version.model) | Q(model__isnull=True), feature__in=names)
    own = {(r.feature, r.bin_label) for r in rows if r.model_id is not None}
    return [
        r
        for r in rows.order_by("feature", "bin_label", "id")
        if r.model_id or (r.feature, r.bin_label) not in own
    ]


def _reasons(version: ModelVersion) -> list[dict]:
    rows = reason_texts(version)
    if not rows:
        return [note(gettext("No reason texts are written for this model's features."))]
    chinese = (get_language() or "").startswith("zh")
    return [
        table(
            "reason-list",
            [
                gettext("Reason code"),
                gettext("Feature"),
                gettext("Bin"),
                gettext("Reason text"),
                gettext("Scope"),
            ],
            [
                [
                    r.code,
                    r.feature,
                    r.bin_label or gettext("any bin"),
                    r.text_zh if chinese else r.text_en,
                    gettext("this model") if r.model_id else gettext("every model"),
                ]
                for r in rows
            ],
        )
    ]


# --------------------------------------------------------------------------- 10. approvals


def _action_label(code: str) -> str:
    return str(EventAction(code).label) if code in EventAction.values else code


def _trail(version: ModelVersion) -> list[dict]:
    events = version.events.select_related("actor").order_by("created_at", "id")
    blocks = [
        table(
            "events",
            [
                gettext("When"),
                gettext("Change"),
                pgettext("lifecycle status", "From"),
                pgettext("lifecycle status", "To"),
                pgettext("actor", "By"),
                gettext("Why"),
            ],
            [
                [
                    when(e.created_at),
                    _action_label(e.action),
                    _status_label(e.from_status) if e.from_status else NONE,
                    _status_label(e.to_status),
                    e.actor.username if e.actor else gettext("system"),
                    e.reason,
                ]
                for e in events
            ],
            caption=gettext("Lifecycle events"),
        )
    ]
    requests = version.promotion_requests.select_related("requested_by", "decided_by").order_by(
        "requested_at", "id"
    )
    if requests:
        blocks.append(
            table(
                "promotion-requests",
                [
                    gettext("Requested at"),
                    gettext("Requested by"),
                    gettext("Reason"),
                    gettext("Status"),
                    gettext("Decided by"),
                    gettext("Decided at"),
                    gettext("Decision reason"),
                ],
                [
                    [
                        when(r.requested_at),
                        r.requested_by.username,
                        r.reason,
                        str(RequestStatus(r.status).label),
                        r.decided_by.username if r.decided_by else None,
                        when(r.decided_at) if r.decided_at else None,
                        r.decision_reason,
                    ]
                    for r in requests
                ],
                caption=gettext("Promotion requests (maker-checker)"),
            )
        )
    else:
        blocks.append(note(gettext("No promotion was requested for this version.")))
    return blocks
