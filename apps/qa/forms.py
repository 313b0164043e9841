"""Forms of the QA console; the rules stay in the service, whose refusals land on the form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.datasets.models import Dataset, DatasetKind
from apps.models.models import ModelVersion
from apps.tasks.errors import RequestInvalid


class AskForm(forms.Form):
    # Bounded by the service (with its own message), not by the form.
    question = forms.CharField(
        label=_("Question"),
        strip=False,
        widget=forms.TextInput(
            # An example question: Chinese in both languages, as the bank registers are.
            attrs={"placeholder": "工行北京海淀支行的联行号是多少?", "autocomplete": "off", "autofocus": True}
        ),
    )
    session = forms.IntegerField(required=False, widget=forms.HiddenInput)


class FeedbackForm(forms.Form):
    value = forms.TypedChoiceField(
        label=_("Feedback"), choices=[(1, _("Right")), (-1, _("Wrong"))], coerce=int
    )
    correct_code = forms.CharField(required=False, max_length=50, label=_("Correct code"))


class VersionField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ModelVersion) -> str:
        return f"{obj.model.name} v{obj.version} ({obj.get_status_display()})"


class TrainForm(forms.Form):
    dataset = forms.ModelChoiceField(
        queryset=Dataset.objects.filter(kind=DatasetKind.BANK_RECORDS).order_by("name"),
        empty_label=None,
        label=_("Bank records"),
    )
    dataset_version = forms.IntegerField(
        label=_("Dataset version"),
        min_value=1,
        required=False,
        help_text=_("Blank: the newest validated one."),
    )
    name = forms.CharField(
        required=False, max_length=200, label=_("Model name"), help_text=_("Blank: bank-qa.")
    )

    def build_request(self) -> dict[str, Any]:
        d = self.cleaned_data
        request: dict[str, Any] = {"dataset": d["dataset"].pk}
        if d.get("dataset_version"):
            request["dataset_version"] = d["dataset_version"]
        if d.get("name"):
            request["name"] = d["name"]
        return request


class QAEvaluationForm(forms.Form):
    model_version = VersionField(label=_("QA model version"), queryset=ModelVersion.objects.none())
    dataset = forms.ModelChoiceField(
        queryset=Dataset.objects.filter(kind=DatasetKind.TABULAR).order_by("name"),
        empty_label=None,
        label=_("Labelled questions"),
    )
    dataset_version = forms.IntegerField(
        label=_("Dataset version"),
        min_value=1,
        required=False,
        help_text=_("Blank: the newest validated one."),
    )
    question_column = forms.CharField(initial="question", max_length=200, label=_("Question column"))
    code_column = forms.CharField(initial="expected_code", max_length=200, label=_("Expected code column"))

    def __init__(self, *args, versions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model_version"].queryset = versions

    def evaluation_request(self) -> dict[str, Any]:
        d = self.cleaned_data
        request = {
            "model_version": d["model_version"].pk,
            "dataset": d["dataset"].pk,
            "question_column": d["question_column"],
            "code_column": d["code_column"],
        }
        if d.get("dataset_version"):
            request["dataset_version"] = d["dataset_version"]
        return request


def create_from_form(form: forms.Form, create: Callable[[dict], Any]) -> Any | None:
    """Run ``create(request)``; None with the service's refusals added to the form."""
    try:
        return create(form.build_request() if isinstance(form, TrainForm) else form.evaluation_request())
    except RequestInvalid as exc:
        for key, messages in exc.errors.items():
            for message in messages:
                form.add_error(key if key in form.fields else None, message)
    return None
