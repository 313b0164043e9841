"""The training form of the analyst pages; the checks against the data stay in the services."""

from __future__ import annotations

import json

from django import forms

from apps.datasets.models import Dataset
from apps.features.models import FeatureSet
from apps.models.training import ALGORITHMS, DEFAULT_PARAMS, OBJECTIVES, SPLITS

from . import services
from .models import Priority, Task, TaskSchedule

ALGORITHM_LABELS = {
    "lightgbm": "LightGBM",
    "logistic_regression": "Logistic regression",
    "random_forest": "Random forest",
}
SCHEDULE_CHOICES = [("", "None: train once, now"), ("interval", "Every N minutes"), ("cron", "Cron")]
# Service error keys that name a form field; the rest become errors of the whole form.
ERROR_FIELDS = {
    "name",
    "dataset",
    "dataset_version",
    "feature_set",
    "features",
    "label",
    "priority",
    "every_minutes",
    "cron",
}


def default_params_json(algorithm: str) -> str:
    return json.dumps(DEFAULT_PARAMS[algorithm], indent=2)


class ColumnsField(forms.MultipleChoiceField):
    """Column names of the chosen dataset; whether they exist is the training service's check."""

    def valid_value(self, value: str) -> bool:
        return True


class FeatureSetField(forms.ModelChoiceField):
    def label_from_instance(self, obj: FeatureSet) -> str:
        return f"{obj} (from {obj.dataset_version})"


class TrainingForm(forms.Form):
    name = forms.CharField(
        label="Model name", max_length=100, help_text="An existing name gets a new version."
    )
    dataset = forms.ModelChoiceField(queryset=Dataset.objects.none(), empty_label=None)
    dataset_version = forms.IntegerField(
        label="Dataset version", min_value=1, required=False, help_text="Blank: the newest validated one."
    )
    feature_set = FeatureSetField(
        label="Feature set",
        queryset=FeatureSet.objects.select_related("dataset_version__dataset"),
        required=False,
        empty_label="None: use the columns below",
    )
    features = ColumnsField(
        label="Features",
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="None chosen: every numeric and categorical column but the label, time and key columns.",
    )
    label = forms.CharField(
        label="Label column", max_length=200, required=False, help_text="Blank: the dataset's label column."
    )
    algorithm = forms.ChoiceField(choices=[(a, ALGORITHM_LABELS[a]) for a in ALGORITHMS], initial="lightgbm")
    objective = forms.ChoiceField(
        choices=[("", "Auto (from the label)"), *((o, o.capitalize()) for o in OBJECTIVES)], required=False
    )
    params = forms.CharField(
        label="Parameters (JSON)",
        required=False,
        initial=default_params_json("lightgbm"),
        widget=forms.Textarea(attrs={"rows": 13, "spellcheck": "false"}),
        help_text="Omitted parameters take the algorithm's defaults.",
    )
    split = forms.ChoiceField(choices=[(s, s.capitalize()) for s in SPLITS], initial="random")
    time_column = forms.CharField(
        label="Time column",
        max_length=200,
        required=False,
        help_text="For a time split; blank: the dataset's.",
    )
    validation_share = forms.FloatField(label="Validation share", min_value=0.05, max_value=0.5, initial=0.2)
    seed = forms.IntegerField(min_value=0, max_value=2**31 - 1, initial=42)
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.MEDIUM)
    schedule = forms.ChoiceField(choices=SCHEDULE_CHOICES, required=False)
    schedule_name = forms.CharField(label="Schedule name", max_length=200, required=False)
    every_minutes = forms.IntegerField(
        label="Every (minutes)", min_value=1, max_value=525_600, required=False
    )
    cron = forms.CharField(
        label="Cron", max_length=100, required=False, help_text="minute hour day-of-month month day-of-week"
    )

    def __init__(self, *args, datasets, columns: dict[str, dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dataset"].queryset = datasets
        chosen = self.data.get("dataset") if self.is_bound else self.initial.get("dataset")
        info = columns.get(str(getattr(chosen, "pk", chosen) or ""), {})
        self.fields["features"].choices = [
            (c["name"], f"{c['name']} ({c['dtype']})" if c["dtype"] else c["name"])
            for c in info.get("columns", [])
        ]

    def clean_params(self) -> dict:
        raw = self.cleaned_data["params"].strip()
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc.msg} (line {exc.lineno}).") from None
        if not isinstance(value, dict):
            raise forms.ValidationError('Give an object, e.g. {"num_boost_round": 200}.')
        return value

    def clean(self):
        data = super().clean()
        feature_set, dataset = data.get("feature_set"), data.get("dataset")
        # The service trains on the chosen dataset with the set's columns; a set drawn from
        # another dataset would put one dataset's features on another's rows.
        if feature_set and dataset and feature_set.dataset_version.dataset_id != dataset.pk:
            self.add_error(
                "feature_set",
                f"{feature_set} was drawn from {feature_set.dataset_version.dataset.name}; "
                f"choose that dataset or no feature set.",
            )
        kind = data.get("schedule")
        if kind:
            if not (data.get("schedule_name") or "").strip():
                self.add_error("schedule_name", "A scheduled training needs a name.")
            if kind == "interval" and not data.get("every_minutes"):
                self.add_error("every_minutes", "How many minutes between runs?")
            if kind == "cron" and not (data.get("cron") or "").strip():
                self.add_error("cron", "Give the five cron fields.")
        return data

    def training_request(self) -> dict:
        """The request dict of ``services.training_create``, holding only what was given."""
        d = self.cleaned_data
        request = {
            "name": d["name"],
            "dataset": d["dataset"].pk,
            "algorithm": d["algorithm"],
            "params": d["params"],
            "split": d["split"],
            "validation_share": d["validation_share"],
            "seed": d["seed"],
        }
        optional = {
            "dataset_version": d.get("dataset_version"),
            "feature_set": d["feature_set"].pk if d.get("feature_set") else None,
            "features": d.get("features") or None,
            "label": d.get("label") or None,
            "objective": d.get("objective") or None,
            "time_column": d.get("time_column") or None,
        }
        request.update({k: v for k, v in optional.items() if v is not None})
        return request


def training_from_form(user, form: TrainingForm) -> Task | TaskSchedule | None:
    """Queue the training (or schedule it) from a valid form; None with form errors when refused.

    Raises ``services.QueueUnavailable`` when the broker refused the task (it is then failed).
    """
    d = form.cleaned_data
    try:
        if d.get("schedule"):
            return services.schedule_create(
                user=user,
                name=d["schedule_name"],
                request=form.training_request(),
                every_minutes=d.get("every_minutes") if d["schedule"] == "interval" else None,
                cron=d.get("cron") if d["schedule"] == "cron" else None,
                priority=d["priority"],
            )
        return services.training_create(user=user, request=form.training_request(), priority=d["priority"])
    except services.RequestInvalid as exc:
        for key, messages in exc.errors.items():
            # A schedule's own "name" error is about the schedule's name (the model name is required).
            field = "schedule_name" if key == "name" and d.get("schedule") else key
            for message in messages:
                form.add_error(field if field in ERROR_FIELDS | {"schedule_name"} else None, message)
    return None
