"""Bank clearing-code question answering: admin.

The alias table is edited here; an edit reaches answers with the next trained QA model
version (a version keeps the aliases it was built with). Sessions, questions with their
answers and feedback, and accuracy evaluations are what the platform recorded: read-only,
never deleted here, and admins see everyone's. Corrections (answers marked wrong with the
right code) download as CSV or become a dataset a QA evaluation can run on.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.admin import ReadOnlyAdmin, json_display
from apps.core.errors import ApplicationError
from apps.tasks.models import TaskStatus

from . import selectors, services
from .labels import FAILURE_KINDS, MATCHED_BY, label
from .models import BankAlias, Feedback, QAEvaluation, QAHistory, QASession

QUESTION_CHARS = 60  # a question's length in a list; the whole text is on its page
ALIAS_NOTE = gettext_lazy(
    "Edits reach answers with the next trained QA model version: the version answering now "
    "keeps the aliases it was built with. Train a new version from the QA page (or POST "
    "/api/qa/train) and promote it."
)


def _link(viewname: str, obj):
    if obj is None:
        return "-"
    return format_html('<a href="{}">{}</a>', reverse(viewname, args=[obj.pk]), obj)


def _percent(value) -> str:
    return "-" if value is None else f"{value:.2%}"


def _cell(value) -> str:
    """A failure's value as table text (a list of candidate codes joined)."""
    if value is None:
        return ""
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


# --------------------------------------------------------------------------- aliases


@admin.register(BankAlias)
class BankAliasAdmin(admin.ModelAdmin):
    list_display = ["alias", "full_name", "is_active", "updated_by", "updated_at"]
    list_filter = ["is_active", ("updated_by", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["alias", "full_name"]
    list_select_related = ["updated_by"]
    fieldsets = [(None, {"fields": ["alias", "full_name", "is_active"], "description": ALIAS_NOTE})]
    readonly_fields = ["updated_by", "updated_at"]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.fieldsets
        return [*self.fieldsets, (_("Last change"), {"fields": ["updated_by", "updated_at"]})]

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"subtitle": ALIAS_NOTE, **(extra_context or {})})

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
        self.message_user(request, ALIAS_NOTE, messages.INFO)


# --------------------------------------------------------------------------- sessions


@admin.register(QASession)
class QASessionAdmin(ReadOnlyAdmin):
    list_display = ["id", "title_display", "user", "question_count", "created_at", "updated_at"]
    list_display_links = ["id", "title_display"]
    list_filter = [("user", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["title", "user__username"]
    date_hierarchy = "updated_at"
    list_select_related = ["user"]
    fields = ["title", "user", "question_count", "history_link", "created_at", "updated_at"]
    readonly_fields = ["question_count", "history_link"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a session holds evidence behind feedback and corrections

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(questions=Count("history"))

    @admin.display(description=gettext_lazy("title"), ordering="title")
    def title_display(self, obj: QASession) -> str:
        return Truncator(str(obj)).chars(QUESTION_CHARS)

    @admin.display(description=gettext_lazy("questions"), ordering="questions")
    def question_count(self, obj: QASession) -> int:
        return obj.questions

    @admin.display(description=gettext_lazy("history"))
    def history_link(self, obj: QASession):
        url = reverse("admin:qa_qahistory_changelist") + f"?session__id__exact={obj.pk}"
        # One form for every count: the English has always read "the 1 questions".
        text = _("the %(count)s questions of this session") % {"count": obj.questions}
        return format_html('<a href="{}">{}</a>', url, text)


# --------------------------------------------------------------------------- history


class FeedbackFilter(admin.SimpleListFilter):
    title = gettext_lazy("feedback")
    parameter_name = "feedback"

    def lookups(self, request, model_admin):
        return [("right", _("Right")), ("wrong", _("Wrong")), ("none", _("None"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "right":
            return queryset.filter(feedback=Feedback.RIGHT)
        if value == "wrong":
            return queryset.filter(feedback=Feedback.WRONG)
        if value == "none":
            return queryset.filter(feedback__isnull=True)
        return queryset


class CorrectionFilter(admin.SimpleListFilter):
    """Marked wrong with the right code: the rows the corrections actions export."""

    title = gettext_lazy("has correction")
    parameter_name = "correction"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        corrected = Q(feedback=Feedback.WRONG) & ~Q(correct_code="")
        if self.value() == "yes":
            return queryset.filter(corrected)
        if self.value() == "no":
            return queryset.exclude(corrected)
        return queryset


@admin.register(QAHistory)
class QAHistoryAdmin(ReadOnlyAdmin):
    list_display = [
        "short_question",
        "bank_name",
        "bank_code",
        "confidence_display",
        "sure",
        "feedback",
        "correct_code",
        "user",
        "model_version",
        "response_display",
        "created_at",
    ]
    list_filter = [
        FeedbackFilter,
        CorrectionFilter,
        "sure",
        "cached",
        ("model_version", admin.RelatedOnlyFieldListFilter),
        ("user", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["question", "bank_name", "bank_code", "clearing_code", "correct_code", "user__username"]
    date_hierarchy = "created_at"
    list_select_related = ["user", "model_version__model"]
    show_full_result_count = False  # a busy desk asks many questions
    actions = ["download_corrections", "export_corrections"]
    fieldsets = [
        (None, {"fields": ["question", "user", "session_link", "created_at"]}),
        (
            gettext_lazy("Answer"),
            {
                "fields": [
                    "bank_name",
                    "bank_code",
                    "clearing_code",
                    "confidence",
                    "sure",
                    "matched_by_display",
                    "candidates_pretty",
                    "version_link",
                    "response_ms",
                    "cached",
                ]
            },
        ),
        (gettext_lazy("Feedback"), {"fields": ["feedback", "correct_code", "feedback_at"]}),
    ]
    readonly_fields = ["session_link", "version_link", "candidates_pretty", "matched_by_display"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # feedback and corrections are evidence for evaluations

    def has_corrections_permission(self, request) -> bool:
        # The history of every user and a new dataset: admins only, and only those who may upload.
        user = request.user
        return bool(getattr(user, "is_admin_role", False)) and user.has_perm("datasets.add_dataset")

    @admin.display(description=gettext_lazy("question"), ordering="question")
    def short_question(self, obj: QAHistory) -> str:
        return Truncator(obj.question).chars(QUESTION_CHARS)  # plain text: the template escapes it

    @admin.display(description=gettext_lazy("confidence"), ordering="confidence")
    def confidence_display(self, obj: QAHistory) -> str:
        return f"{obj.confidence:.3f}"

    @admin.display(description=gettext_lazy("response ms"), ordering="response_ms")
    def response_display(self, obj: QAHistory) -> str:
        return f"{obj.response_ms:.1f}"

    @admin.display(description=gettext_lazy("matched by"))
    def matched_by_display(self, obj: QAHistory) -> str:
        return label(MATCHED_BY, obj.matched_by)

    @admin.display(description=gettext_lazy("session"))
    def session_link(self, obj: QAHistory):
        return _link("admin:qa_qasession_change", obj.session)

    @admin.display(description=gettext_lazy("model version"))
    def version_link(self, obj: QAHistory):
        return _link("admin:models_modelversion_change", obj.model_version)

    candidates_pretty = json_display("candidates", gettext_lazy("candidates"))

    @admin.action(description=gettext_lazy("Download corrections as CSV"), permissions=["corrections"])
    def download_corrections(self, request, queryset):
        body = services.corrections_csv(entries=queryset)
        if body.count(b"\n") <= 1:
            self.message_user(
                request,
                _("None of the selected answers was marked wrong with a correct code."),
                messages.ERROR,
            )
            return None
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        return HttpResponse(
            body,
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="qa-corrections-{stamp}.csv"'},
        )

    @admin.action(
        description=gettext_lazy("Export corrections as an evaluation dataset"), permissions=["corrections"]
    )
    def export_corrections(self, request, queryset):
        count = selectors.corrections(queryset).count()
        try:
            version, created = services.corrections_export(entries=queryset, user=request.user)
        except ApplicationError as exc:  # none to export, or the upload refused
            self.message_user(request, _("Nothing exported: %(error)s") % {"error": exc}, messages.ERROR)
            return None
        # format_html placeholders ({count}) in the sentence: it escapes every value put in.
        if created:
            done = _(
                'Exported {count} correction(s) as <a href="{version_url}">{version}</a> '
                '(<a href="{dataset_url}">dataset page</a>). Once it is validated, run a QA '
                "evaluation on it (columns question and expected_code)."
            )
        else:  # the same file is kept once
            done = _(
                'Already exported: {count} correction(s) as <a href="{version_url}">{version}</a> '
                '(<a href="{dataset_url}">dataset page</a>). Once it is validated, run a QA '
                "evaluation on it (columns question and expected_code)."
            )
        message = format_html(
            done,
            count=count,
            version_url=reverse("admin:datasets_datasetversion_change", args=[version.pk]),
            version=version,
            dataset_url=reverse("dataset-detail", args=[version.dataset_id]),
        )
        self.message_user(request, message, messages.SUCCESS)
        return None


# --------------------------------------------------------------------------- evaluations


class EvaluationStatusFilter(admin.SimpleListFilter):
    title = gettext_lazy("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return TaskStatus.choices

    def queryset(self, request, queryset):
        if self.value() in TaskStatus.values:
            return queryset.filter(task__status=self.value())
        return queryset


# Metrics in the order a reader wants them; shares are shown as percentages.
METRIC_ROWS = [
    ("top1", gettext_lazy("top-1 among sure answers"), True),
    ("top1_all", gettext_lazy("top-1 over all questions"), True),
    ("top5", gettext_lazy("top-5 over all questions"), True),
    ("not_sure", gettext_lazy("not sure"), True),
    ("questions", gettext_lazy("questions"), False),
    ("answered", gettext_lazy("answered as sure"), False),
    ("wrong_sure", gettext_lazy("wrong while sure"), False),
    ("empty_questions", gettext_lazy("nothing to look up"), False),
    ("failures_total", gettext_lazy("failures"), False),
    ("threshold", gettext_lazy("sure threshold"), False),
    ("seconds", gettext_lazy("seconds"), False),
]
# A failure's keys and their column headings.
FAILURE_COLUMNS = {
    "kind": gettext_lazy("kind"),
    "question": gettext_lazy("question"),
    "expected": gettext_lazy("expected"),
    "got": gettext_lazy("got"),
    "got_name": gettext_lazy("got name"),
    "confidence": gettext_lazy("confidence"),
    "candidates": gettext_lazy("candidates"),
}


def _failure_cell(failure: dict, key: str) -> str:
    value = failure.get(key)
    return label(FAILURE_KINDS, value) if key == "kind" else _cell(value)


def _metric(name: str, description):
    @admin.display(description=description)
    def show(self, obj: QAEvaluation) -> str:
        return _percent((obj.metrics or {}).get(name))

    return show


@admin.register(QAEvaluation)
class QAEvaluationAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "version_link",
        "dataset_version",
        "status_display",
        "top1",
        "top5",
        "not_sure",
        "rows",
        "failure_count",
        "created_by",
        "created_at",
    ]
    list_display_links = ["id"]
    list_filter = [
        EvaluationStatusFilter,
        ("model_version", admin.RelatedOnlyFieldListFilter),
        ("dataset_version__dataset", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["model_version__model__name", "dataset_version__dataset__name"]
    date_hierarchy = "created_at"
    list_select_related = ["task", "model_version__model", "dataset_version__dataset", "created_by"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "version_link",
                    "dataset_version_link",
                    "task_link",
                    "status_display",
                    "question_column",
                    "code_column",
                    "created_by",
                    "created_at",
                    "completed_at",
                ]
            },
        ),
        (gettext_lazy("Results"), {"fields": ["rows", "metrics_table", "failures_table"]}),
    ]
    readonly_fields = [
        "version_link",
        "dataset_version_link",
        "task_link",
        "status_display",
        "metrics_table",
        "failures_table",
    ]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the figures behind comparing QA versions

    top1 = _metric("top1", "top-1")
    top5 = _metric("top5", "top-5")
    not_sure = _metric("not_sure", gettext_lazy("not sure"))

    @admin.display(description=gettext_lazy("failures"))
    def failure_count(self, obj: QAEvaluation):
        return (obj.metrics or {}).get("failures_total", "-")

    @admin.display(description=gettext_lazy("status"), ordering="task__status")
    def status_display(self, obj: QAEvaluation) -> str:
        return obj.task.get_status_display()

    @admin.display(description=gettext_lazy("model version"), ordering="model_version")
    def version_link(self, obj: QAEvaluation):
        return _link("admin:models_modelversion_change", obj.model_version)

    @admin.display(description=gettext_lazy("dataset version"))
    def dataset_version_link(self, obj: QAEvaluation):
        return _link("admin:datasets_datasetversion_change", obj.dataset_version)

    @admin.display(description=gettext_lazy("task"))
    def task_link(self, obj: QAEvaluation):
        return _link("admin:tasks_task_change", obj.task)

    @admin.display(description=gettext_lazy("metrics"))
    def metrics_table(self, obj: QAEvaluation):
        metrics = obj.metrics or {}
        rows = [
            (label, _percent(metrics[key]) if share else metrics[key])
            for key, label, share in METRIC_ROWS
            if key in metrics
        ]
        if not rows:
            return "-"
        return format_html(
            "<table><tbody>{}</tbody></table>",
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows),
        )

    @admin.display(description=gettext_lazy("failures"))
    def failures_table(self, obj: QAEvaluation):
        failures = obj.failures or []
        if not failures:
            return "-"
        total = (obj.metrics or {}).get("failures_total", len(failures))
        head = format_html_join("", "<th>{}</th>", ([heading] for heading in FAILURE_COLUMNS.values()))
        body = format_html_join(
            "",
            "<tr>{}</tr>",
            (
                [format_html_join("", "<td>{}</td>", ([_failure_cell(f, c)] for c in FAILURE_COLUMNS))]
                for f in failures
            ),
        )
        intro = _(
            "The first %(shown)s of %(total)s failures: wrong sure answers first, then the right code "
            "missing from the top 5, then right guesses given as not sure."
        ) % {"shown": len(failures), "total": total}
        return format_html(
            "<p>{}</p><div style='max-height:40em;overflow:auto'><table><thead><tr>{}</tr></thead>"
            "<tbody>{}</tbody></table></div>",
            intro,
            head,
            body,
        )
