"""The evaluation form of the analyst pages; the checks against the data stay in the service."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.datasets.models import Dataset
from apps.models.labels import objective_label, version_status_label
from apps.models.models import ModelVersion
from apps.tasks.errors import RequestInvalid

from . import services
from .constants import DEFAULT_BINS, MAX_BINS
from .models import Evaluation

# Service error keys that name a form field; the rest become errors of the whole form.
ERROR_FIELDS = {"model_version", "dataset", "dataset_version", "threshold"}


class VersionField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ModelVersion) -> str:
        status = version_status_label(obj.status)
        if obj.objective:
            return gettext("%(model)s v%(version)s (%(status)s, %(objective)s)") % {
                "model": obj.model.name,
                "version": obj.version,
                "status": status,
                "objective": objective_label(obj.objective),
            }
        return gettext("%(model)s v%(version)s (%(status)s)") % {
            "model": obj.model.name,
            "version": obj.version,
            "status": status,
        }


class EvaluationForm(forms.Form):
    model_version = VersionField(label=_("Model version"), queryset=ModelVersion.objects.none())
    dataset = forms.ModelChoiceField(label=_("Dataset"), queryset=Dataset.objects.none(), empty_label=None)
    dataset_version = forms.IntegerField(
        label=_("Dataset version"),
        min_value=1,
        required=False,
        help_text=_("Blank: the newest validated one."),
    )
    threshold = forms.FloatField(
        label=_("Threshold"),
        required=False,
        help_text=_("Binary models: predicted bad when score >= threshold. Blank: 0.5."),
        widget=forms.NumberInput(attrs={"step": "0.01", "placeholder": "0.5"}),
    )
    bins = forms.IntegerField(
        label=_("Buckets"),
        min_value=2,
        max_value=MAX_BINS,
        initial=DEFAULT_BINS,
        help_text=_("Of the lift table and the PSI (10 = deciles)."),
    )
    permutation_importance = forms.BooleanField(
        label=_("Permutation importance"),
        required=False,
        help_text=_("Slower: rescores once per feature and shuffle."),
    )

    def __init__(self, *args, versions, datasets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model_version"].queryset = versions
        self.fields["dataset"].queryset = datasets

    def evaluation_request(self) -> dict:
        """The request dict of ``services.evaluation_create``, holding only what was given."""
        d = self.cleaned_data
        request = {
            "model_version": d["model_version"].pk,
            "dataset": d["dataset"].pk,
            "options": {"bins": d["bins"], "permutation_importance": d["permutation_importance"]},
        }
        for key in ("dataset_version", "threshold"):
            if d.get(key) is not None:
                request[key] = d[key]
        return request


def evaluation_from_form(user, form: EvaluationForm) -> Evaluation | None:
    """Queue the evaluation of a valid form; None with the refusal's reasons on the form.

    Raises ``QueueUnavailable`` when the broker refused the task (it is then failed).
    """
    try:
        return services.evaluation_create(user=user, request=form.evaluation_request())
    except RequestInvalid as exc:
        for key, messages in exc.errors.items():
            for message in messages:
                form.add_error(key if key in ERROR_FIELDS else None, message)
    return None
