"""Bank clearing-code question answering: request and response serializers."""

from __future__ import annotations

from rest_framework import serializers

from apps.core.api.serializers import StrictSerializer
from apps.tasks.models import Priority

from ..models import QAEvaluation, QAHistory, QASession


class TextField(serializers.CharField):
    """Text only: a number is not a question (CharField would turn 12 into "12")."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class AskRequestSerializer(StrictSerializer):
    """``POST /api/qa/ask``."""

    # Not trimmed or length-checked here: the service gives the clear message for both.
    question = TextField(allow_blank=True, trim_whitespace=False, help_text="The question.")
    session = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="One of your sessions (optional)."
    )


class CandidateSerializer(serializers.Serializer):
    bank_name = serializers.CharField()
    bank_code = serializers.CharField()
    clearing_code = serializers.CharField()
    bic = serializers.CharField(allow_blank=True, help_text="The record's BIC / SWIFT code (empty: none).")
    score = serializers.FloatField()


class AnswerSerializer(serializers.Serializer):
    bank_name = serializers.CharField(allow_null=True)
    bank_code = serializers.CharField(allow_null=True)
    clearing_code = serializers.CharField(allow_null=True)
    bic = serializers.CharField(allow_null=True, help_text="The record's BIC / SWIFT code (null: none).")
    asked = serializers.ChoiceField(
        choices=["bank_code", "clearing_code", "bic"],
        help_text="The field the question asked for (the bank code when the record has no value in it).",
    )
    confidence = serializers.FloatField(help_text="Probability in [0, 1] that the answer is right.")
    sure = serializers.BooleanField(help_text="False: not sure; show the candidates, not the guess.")
    matched_by = serializers.CharField(help_text="code, exact, ngram or none.")
    candidates = CandidateSerializer(many=True, help_text="The next best records, best first.")


class HistorySerializer(serializers.ModelSerializer):
    """A question asked and its answer, as answered."""

    user = serializers.SlugRelatedField(slug_field="username", read_only=True)
    model = serializers.CharField(source="model_version.model.name", read_only=True)
    version = serializers.IntegerField(source="model_version.version", read_only=True)
    response_time = serializers.FloatField(source="response_ms", help_text="Milliseconds.")

    class Meta:
        model = QAHistory
        fields = [
            "id",
            "user",
            "session",
            "model_version",
            "model",
            "version",
            "question",
            "bank_name",
            "bank_code",
            "clearing_code",
            "confidence",
            "sure",
            "matched_by",
            "candidates",
            "response_time",
            "cached",
            "feedback",
            "correct_code",
            "feedback_at",
            "created_at",
        ]
        read_only_fields = fields


class AskResponseSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The history entry (give feedback on it).")
    question = serializers.CharField()
    session = serializers.IntegerField(allow_null=True)
    answer = AnswerSerializer()
    model_version = serializers.IntegerField()
    model = serializers.CharField()
    version = serializers.IntegerField()
    cached = serializers.BooleanField()
    response_time = serializers.FloatField(help_text="Milliseconds to answer.")


class SessionSerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)
    questions = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = QASession
        fields = ["id", "user", "title", "questions", "created_at", "updated_at"]
        read_only_fields = ["id", "user", "questions", "created_at", "updated_at"]


class SessionCreateSerializer(StrictSerializer):
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)


class FeedbackSerializer(StrictSerializer):
    value = serializers.IntegerField(help_text="1: the answer was right; -1: it was wrong.")
    correct_code = serializers.CharField(
        required=False, allow_blank=True, max_length=50, help_text="The right 12-digit bank code (with -1)."
    )


class TrainSerializer(StrictSerializer):
    """``POST /api/qa/train``: build a QA model version from bank records (a training task)."""

    dataset = serializers.IntegerField(min_value=1, help_text="A bank-records dataset id.")
    dataset_version = serializers.IntegerField(
        min_value=1, required=False, help_text="Default: the newest validated version."
    )
    name = serializers.CharField(required=False, max_length=200, help_text="Default: the qa-model setting.")
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.MEDIUM)


class QAEvaluationRequestSerializer(StrictSerializer):
    """``POST /api/qa/evaluations``: the accuracy of a retrieval version on labelled questions."""

    model_version = serializers.IntegerField(min_value=1, help_text="A retrieval model version id.")
    dataset = serializers.IntegerField(min_value=1, help_text="A tabular dataset of questions.")
    dataset_version = serializers.IntegerField(min_value=1, required=False)
    question_column = serializers.CharField(required=False, max_length=200, help_text="Default: question.")
    code_column = serializers.CharField(required=False, max_length=200, help_text="Default: expected_code.")
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.MEDIUM)


class QAEvaluationSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True)
    model = serializers.CharField(source="model_version.model.name", read_only=True)
    version = serializers.IntegerField(source="model_version.version", read_only=True)
    dataset = serializers.CharField(source="dataset_version.dataset.name", read_only=True)
    dataset_version_number = serializers.IntegerField(source="dataset_version.version", read_only=True)
    metrics = serializers.JSONField(read_only=True)
    failures = serializers.JSONField(read_only=True)

    class Meta:
        model = QAEvaluation
        fields = [
            "id",
            "task",
            "status",
            "model_version",
            "model",
            "version",
            "dataset_version",
            "dataset",
            "dataset_version_number",
            "question_column",
            "code_column",
            "rows",
            "metrics",
            "failures",
            "created_at",
            "completed_at",
        ]
        read_only_fields = fields
