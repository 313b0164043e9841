"""Bank clearing-code question answering: the alias table, sessions, asked questions with
their answers and feedback, and accuracy evaluations of retrieval versions."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

code_validator = RegexValidator(r"^[0-9]{12}$", "A bank code is 12 digits.")


class BankAlias(models.Model):
    """A short name a question may use for a bank (工行 -> 中国工商银行).

    Rows sit on top of the built-in table: an active row adds or redirects an alias, an
    inactive one switches a built-in alias off. Read when a QA model is trained: an edit
    reaches answers with the next trained version, so the version in use never changes
    under a user.
    """

    alias = models.CharField(max_length=50, unique=True)
    full_name = models.CharField(max_length=100, help_text="The bank's full name as the records spell it.")
    is_active = models.BooleanField(default=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["full_name", "alias"]
        verbose_name_plural = "bank aliases"

    def __str__(self) -> str:
        return f"{self.alias} → {self.full_name}"


class QASession(models.Model):
    """A conversation: the questions one user asked together."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="qa_sessions")
    title = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = "QA session"

    def __str__(self) -> str:
        return self.title or f"Session #{self.pk}"


class Feedback(models.IntegerChoices):
    WRONG = -1, "Wrong"
    RIGHT = 1, "Right"


class QAHistory(models.Model):
    """One question asked and what was answered, kept as answered (the index may change)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="qa_history")
    session = models.ForeignKey(
        QASession, on_delete=models.SET_NULL, null=True, blank=True, related_name="history"
    )
    model_version = models.ForeignKey(
        "models.ModelVersion", on_delete=models.PROTECT, related_name="qa_history"
    )
    question = models.TextField()
    bank_name = models.CharField(max_length=200, blank=True)
    bank_code = models.CharField(max_length=12, blank=True, db_index=True)
    clearing_code = models.CharField(max_length=12, blank=True)
    confidence = models.FloatField()
    sure = models.BooleanField()
    matched_by = models.CharField(max_length=10)
    candidates = models.JSONField(default=list, blank=True)
    response_ms = models.FloatField(help_text="Time to answer, in milliseconds.")
    cached = models.BooleanField(default=False)
    feedback = models.SmallIntegerField(choices=Feedback.choices, null=True, blank=True, db_index=True)
    correct_code = models.CharField(
        max_length=12, blank=True, validators=[code_validator], help_text="The right bank code, if given."
    )
    feedback_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "QA history entry"
        verbose_name_plural = "QA history"
        indexes = [models.Index(fields=["user", "-created_at"], name="qa_history_user_recent")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.question[:40]}"


class QAEvaluation(models.Model):
    """The accuracy of a retrieval version on a labelled question set (question -> bank code)."""

    task = models.OneToOneField("tasks.Task", on_delete=models.PROTECT, related_name="qa_evaluation")
    model_version = models.ForeignKey(
        "models.ModelVersion", on_delete=models.PROTECT, related_name="qa_evaluations"
    )
    dataset_version = models.ForeignKey(
        "datasets.DatasetVersion", on_delete=models.PROTECT, related_name="qa_evaluations"
    )
    question_column = models.CharField(max_length=200)
    code_column = models.CharField(max_length=200)
    metrics = models.JSONField(default=dict, blank=True)
    failures = models.JSONField(default=list, blank=True)
    rows = models.IntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "QA accuracy evaluation"

    def __str__(self) -> str:
        return f"#{self.pk} {self.model_version} on {self.dataset_version}"

    @property
    def status(self) -> str:
        return self.task.status
