"""Forms of the registry's analyst pages and admin actions; the rules stay in the services."""

from __future__ import annotations

from datetime import datetime

from django import forms

from . import services
from .models import Model, ModelVersion

# Longest accepted date-time text: an ISO 8601 time with microseconds and an offset is 32.
MAX_DATETIME_CHARS = 40
# Largest values the lookups accept (a version number is a 32-bit column, an id 64-bit).
MAX_VERSION_NUMBER = 2**31 - 1
MAX_ID = 2**63 - 1


class BoundedDateTimeField(forms.DateTimeField):
    """A date-time that refuses over-long text before parsing it."""

    def to_python(self, value):
        if isinstance(value, str) and len(value) > MAX_DATETIME_CHARS:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class ActiveAtForm(forms.Form):
    """ "Which version was active at …": a date and time in the platform's time zone, or an
    ISO 8601 time with its own offset (``2026-01-31T12:00:00+00:00``)."""

    active_at = BoundedDateTimeField(
        label="Active at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "0.001"}),
        error_messages={"invalid": "Enter a date and time, e.g. 2026-01-31 12:00 or 2026-01-31T12:00:00Z."},
    )

    def answer(self, model: Model) -> tuple[datetime, ModelVersion | None]:
        """(the time asked about, the version of ``model`` active then or None); call when valid."""
        when = self.cleaned_data["active_at"]
        return when, services.active_version_at(model, when)


class TracePickForm(forms.Form):
    """Pick the version to trace: a model and its version number, or a version id.

    ``cleaned_data["target"]`` is the version when one was named; with a model alone it is
    None and the page lists that model's versions.
    """

    model = forms.ModelChoiceField(
        queryset=Model.objects.order_by("name"), required=False, empty_label="Choose a model"
    )
    version = forms.IntegerField(label="Version", min_value=1, max_value=MAX_VERSION_NUMBER, required=False)
    version_id = forms.IntegerField(label="or version id", min_value=1, max_value=MAX_ID, required=False)

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        model, number, version_id = cleaned.get("model"), cleaned.get("version"), cleaned.get("version_id")
        cleaned["target"] = None
        if version_id is not None:
            cleaned["target"] = ModelVersion.objects.filter(pk=version_id).first()
            if cleaned["target"] is None:
                self.add_error("version_id", f"No model version has id {version_id}.")
        elif number is not None:
            if model is None:
                self.add_error("model", f"Choose the model of version {number}.")
            else:
                cleaned["target"] = model.versions.filter(version=number).first()
                if cleaned["target"] is None:
                    self.add_error("version", f"{model} has no version {number}.")
        elif model is None:
            raise forms.ValidationError("Choose a model, or give a version id.")
        return cleaned


class ReasonForm(forms.Form):
    """Why a lifecycle change is made: kept in the audit trail with who and when."""

    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="Kept in the model's audit trail with your name and the time.",
    )
