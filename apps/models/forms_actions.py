"""Forms of the model page's actions: upload a version, try a prediction, set the A/B
split, score a dataset. They check what a person typed; the services keep the rules."""

from __future__ import annotations

import json
import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.datasets.models import Dataset
from apps.tasks.engines import ENGINE_CHOICES, LOCAL
from apps.tasks.models import Priority

from . import selectors
from .models import Model, ModelVersion, VersionStatus
from .services import MAX_UPLOAD_BYTES

# Largest version number a form accepts (the column is a 32-bit integer).
MAX_VERSION_NUMBER = 2**31 - 1
# Most feature names an upload form may list, and the longest list text parsed.
MAX_FEATURES = 5_000
MAX_FEATURES_CHARS = 200_000
# Largest magnitude a trial's number field takes (beyond it float64 scores lose meaning).
MAX_TRIAL_NUMBER = 1e300


def _version_label(version: ModelVersion) -> str:
    return f"v{version.version} ({version.get_status_display()})"


class UploadVersionForm(forms.Form):
    """A model file from outside (LightGBM text or skops; pickles are refused unread)."""

    file = forms.FileField(
        label=_("Model file"),
        help_text=_("A LightGBM text model or a skops file; pickle files are refused without being read."),
    )
    version = forms.IntegerField(
        label=_("Version number"),
        min_value=1,
        max_value=MAX_VERSION_NUMBER,
        required=False,
        help_text=_("Leave empty for the next number."),
    )
    features = forms.CharField(
        label=_("Feature names"),
        required=False,
        max_length=MAX_FEATURES_CHARS,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=_(
            "In the model's order, separated by commas or as a JSON list. Leave empty when the "
            "file names its features."
        ),
    )
    changelog = forms.CharField(
        label=_("Changelog"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("Model files are limited to %(mb)s MB.") % {"mb": MAX_UPLOAD_BYTES // 2**20}
            )
        return upload

    def clean_features(self) -> list[str] | None:
        text = self.cleaned_data["features"].strip()
        if not text:
            return None
        if text.startswith("["):
            try:
                names = json.loads(text)
            except json.JSONDecodeError:
                raise forms.ValidationError(_("Not a valid JSON list.")) from None
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise forms.ValidationError(_("A JSON list of feature names."))
        else:
            names = [n for n in re.split(r"[,\s]+", text) if n]
        names = [n.strip() for n in names]
        if not all(names) or len(set(names)) != len(names):
            raise forms.ValidationError(_("Feature names must be distinct and not empty."))
        if len(names) > MAX_FEATURES:
            raise forms.ValidationError(_("At most %(n)s feature names.") % {"n": MAX_FEATURES})
        return names


class TryForm(forms.Form):
    """One record for ``version``: a field per feature, typed as the version scores it.

    Numbers are numbers; a categorical feature is one of the levels the version was trained
    on. Every field may be left empty: the model sees a missing value.
    """

    def __init__(self, *args, version: ModelVersion, **kwargs):
        super().__init__(*args, **kwargs)
        self.version = version
        schema = version.feature_schema or {}
        self.names: list[str] = list(schema.get("features") or [])
        levels: dict[str, list] = schema.get("categoricalLevels") or {}
        for i, name in enumerate(self.names):
            if name in levels:
                choices = [("", _("(missing)"))] + [(str(v), str(v)) for v in levels[name]]
                field: forms.Field = forms.ChoiceField(label=name, choices=choices, required=False)
            else:
                field = forms.FloatField(
                    label=name,
                    required=False,
                    min_value=-MAX_TRIAL_NUMBER,
                    max_value=MAX_TRIAL_NUMBER,
                    widget=forms.NumberInput(attrs={"step": "any"}),
                )
            self.fields[f"feature_{i}"] = field

    def record(self) -> dict[str, Any]:
        """The record to score (call when valid): feature name -> value, None when empty."""
        out: dict[str, Any] = {}
        for i, name in enumerate(self.names):
            value = self.cleaned_data.get(f"feature_{i}")
            out[name] = None if value in ("", None) else value
        return out


class ABForm(forms.Form):
    """Send a share of the traffic to another version (B); none, or 0 %, ends the split."""

    version = forms.TypedChoiceField(label=_("Version B"), coerce=int, empty_value=None, required=False)
    percent = forms.IntegerField(
        label=_("Share of traffic to B, in percent"),
        min_value=0,
        max_value=100,
        help_text=_("The same entity key always gets the same version."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=_("Kept in the model's audit trail with your name and the time."),
    )

    def __init__(self, *args, model: Model, **kwargs):
        super().__init__(*args, **kwargs)
        self.model = model
        candidates = model.versions.exclude(
            status__in=[VersionStatus.ACTIVE, VersionStatus.DEPRECATED]
        ).order_by("-version")
        self.versions = {v.version: v for v in candidates}
        self.fields["version"].choices = [("", _("None: end the split"))] + [
            (v.version, _version_label(v)) for v in candidates
        ]
        if not self.is_bound:
            self.initial.update(
                {"version": model.ab_version.version if model.ab_version else "", "percent": model.ab_percent}
            )

    def chosen(self) -> ModelVersion | None:
        number = self.cleaned_data.get("version")
        return None if number is None else self.versions[number]


class BatchForm(forms.Form):
    """Score every row of a validated tabular dataset version with one of the model's versions."""

    version = forms.TypedChoiceField(label=_("Model version"), coerce=int)
    dataset = forms.ModelChoiceField(label=_("Dataset"), queryset=Dataset.objects.none())
    dataset_version = forms.IntegerField(
        label=_("Dataset version"),
        min_value=1,
        max_value=MAX_VERSION_NUMBER,
        required=False,
        help_text=_("Leave empty for the newest validated version."),
    )
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial=Priority.MEDIUM)
    engine = forms.ChoiceField(
        label=_("Engine"),
        choices=ENGINE_CHOICES,
        initial=LOCAL,
        required=False,
        help_text=_("The Dask cluster scores datasets larger than one machine's memory."),
    )

    def __init__(self, *args, model: Model, **kwargs):
        super().__init__(*args, **kwargs)
        self.model = model
        versions = list(model.versions.exclude(status=VersionStatus.DEPRECATED).order_by("-version"))
        self.versions = {v.version: v for v in versions}
        self.fields["version"].choices = [(v.version, _version_label(v)) for v in versions]
        active = next((v for v in versions if v.status == VersionStatus.ACTIVE), None)
        if active is not None and not self.is_bound:
            self.initial["version"] = active.version
        self.fields["dataset"].queryset = selectors.trainable_datasets()

    def request(self) -> dict[str, Any]:
        """The batch-prediction request (call when valid)."""
        data = self.cleaned_data
        return {
            "model_version": self.versions[data["version"]].pk,
            "dataset": data["dataset"].pk,
            "dataset_version": data.get("dataset_version"),
            "engine": data.get("engine") or LOCAL,
        }
