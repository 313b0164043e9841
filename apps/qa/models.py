"""Bank clearing-code question answering: the alias table, sessions, asked questions with
their answers and feedback, and accuracy evaluations of retrieval versions."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

code_validator = RegexValidator(r"^[0-9]{12}$", _("A bank code is 12 digits."))


class BankAlias(models.Model):
    """A short name a question may use for a bank (工行 -> 中国工商银行).

    Rows sit on top of the built-in table: an active row adds or redirects an alias, an
    inactive one switches a built-in alias off. Read when a QA model is trained: an edit
    reaches answers with the next trained version, so the version in use never changes
    under a user.
    """

    alias = models.CharField(_("alias"), max_length=50, unique=True)
    full_name = models.CharField(
        _("full name"), max_length=100, help_text=_("The bank's full name as the records spell it.")
    )
    is_active = models.BooleanField(_("is active"), default=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["full_name", "alias"]
        verbose_name = _("bank alias")
        verbose_name_plural = _("bank aliases")

    def __str__(self) -> str:
        return f"{self.alias} → {self.full_name}"


class QASession(models.Model):
    """A conversation: the questions one user asked together."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="qa_sessions", verbose_name=_("user")
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("QA session")
        verbose_name_plural = _("QA sessions")

    def __str__(self) -> str:
        return self.title or _("Session #%(number)s") % {"number": self.pk}


class Feedback(models.IntegerChoices):
    WRONG = -1, _("Wrong")
    RIGHT = 1, _("Right")


class QAHistory(models.Model):
    """One question asked and what was answered, kept as answered (the index may change)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="qa_history", verbose_name=_("user")
    )
    session = models.ForeignKey(
        QASession,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="history",
        verbose_name=_("session"),
    )
    model_version = models.ForeignKey(
        "models.ModelVersion",
        on_delete=models.PROTECT,
        related_name="qa_history",
        verbose_name=_("model version"),
    )
    question = models.TextField(_("question"))
    bank_name = models.CharField(_("bank name"), max_length=200, blank=True)
    bank_code = models.CharField(_("bank code"), max_length=50, blank=True, db_index=True)
    clearing_code = models.CharField(_("clearing code"), max_length=50, blank=True)
    confidence = models.FloatField(_("confidence"))
    sure = models.BooleanField(_("sure"))
    matched_by = models.CharField(_("matched by"), max_length=10)
    candidates = models.JSONField(_("candidates"), default=list, blank=True)
    response_ms = models.FloatField(_("response ms"), help_text=_("Time to answer, in milliseconds."))
    cached = models.BooleanField(_("cached"), default=False)
    feedback = models.SmallIntegerField(
        _("feedback"), choices=Feedback.choices, null=True, blank=True, db_index=True
    )
    correct_code = models.CharField(
        _("correct code"),
        max_length=12,
        blank=True,
        validators=[code_validator],
        help_text=_("The right bank code, if given."),
    )
    feedback_at = models.DateTimeField(_("feedback at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("QA history entry")
        verbose_name_plural = _("QA history")
        indexes = [models.Index(fields=["user", "-created_at"], name="qa_history_user_recent")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.question[:40]}"


class QAEvaluation(models.Model):
    """The accuracy of a retrieval version on a labelled question set (question -> bank code)."""

    task = models.OneToOneField(
        "tasks.Task", on_delete=models.PROTECT, related_name="qa_evaluation", verbose_name=_("task")
    )
    model_version = models.ForeignKey(
        "models.ModelVersion",
        on_delete=models.PROTECT,
        related_name="qa_evaluations",
        verbose_name=_("model version"),
    )
    dataset_version = models.ForeignKey(
        "datasets.DatasetVersion",
        on_delete=models.PROTECT,
        related_name="qa_evaluations",
        verbose_name=_("dataset version"),
    )
    question_column = models.CharField(_("question column"), max_length=200)
    code_column = models.CharField(_("code column"), max_length=200)
    metrics = models.JSONField(_("metrics"), default=dict, blank=True)
    failures = models.JSONField(_("failures"), default=list, blank=True)
    rows = models.IntegerField(_("rows"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("QA accuracy evaluation")
        verbose_name_plural = _("QA accuracy evaluations")

    def __str__(self) -> str:
        return _("#%(number)s %(version)s on %(data)s") % {
            "number": self.pk,
            "version": self.model_version,
            "data": self.dataset_version,
        }

    @property
    def status(self) -> str:
        return self.task.status
