"""Monitoring API bodies (the schema; rows of outcomes are checked by the service, which
names each bad row by its index)."""

from __future__ import annotations

from rest_framework import serializers

from ..models import Granularity
from ..services import OUTCOMES_MAX


class OutcomeRowSerializer(serializers.Serializer):
    entity_key = serializers.CharField(max_length=200)
    outcome = serializers.ChoiceField(choices=[0, 1])
    outcome_at = serializers.DateTimeField()


class OutcomesRequestSerializer(serializers.Serializer):
    model = serializers.IntegerField(
        required=False, min_value=1, help_text="The model the outcomes belong to."
    )
    outcomes = OutcomeRowSerializer(many=True, required=False, max_length=OUTCOMES_MAX)
    version = serializers.IntegerField(required=False, min_value=1)
    dataset_version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="A labelled dataset version to take outcomes from (with version).",
    )


class OutcomesResultSerializer(serializers.Serializer):
    recorded = serializers.IntegerField()
    unknown = serializers.IntegerField()
    unknown_keys = serializers.ListField(child=serializers.CharField())


class RunRequestSerializer(serializers.Serializer):
    granularity = serializers.ChoiceField(choices=Granularity.choices, required=False)
    dataset_version = serializers.IntegerField(required=False, min_value=1)


class RunResultSerializer(serializers.Serializer):
    created = serializers.ListField(child=serializers.DateField())
    updated = serializers.ListField(child=serializers.DateField())
    insufficient = serializers.ListField(child=serializers.DateField())
    vintages = serializers.IntegerField()
    alerts = serializers.BooleanField()
