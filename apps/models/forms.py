"""Forms of the registry's analyst pages (the training form among them) and admin actions;
the rules stay in the services."""

from __future__ import annotations

import json
from datetime import datetime

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from apps.datasets.models import Dataset
from apps.features.models import FeatureSet
from apps.tasks import engines, schedules
from apps.tasks.errors import RequestInvalid
from apps.tasks.models import Priority, Task, TaskSchedule

from . import selectors, training_tasks
from .labels import ALGORITHM_LABELS, OBJECTIVE_LABELS
from .models import Model, ModelVersion
from .training import ALGORITHMS, DEFAULT_PARAMS, OBJECTIVES, SPLITS

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
        label=_("Active at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "0.001"}),
        error_messages={
            "invalid": _("Enter a date and time, e.g. 2026-01-31 12:00 or 2026-01-31T12:00:00Z.")
        },
    )

    def answer(self, model: Model) -> tuple[datetime, ModelVersion | None]:
        """(the time asked about, the version of ``model`` active then or None); call when valid."""
        when = self.cleaned_data["active_at"]
        return when, selectors.active_version_at(model=model, when=when)


class TracePickForm(forms.Form):
    """Pick the version to trace: a model and its version number, or a version id.

    ``cleaned_data["target"]`` is the version when one was named; with a model alone it is
    None and the page lists that model's versions.
    """

    model = forms.ModelChoiceField(
        label=_("Model"),
        queryset=Model.objects.order_by("name"),
        required=False,
        empty_label=_("Choose a model"),
    )
    version = forms.IntegerField(
        label=_("Version"), min_value=1, max_value=MAX_VERSION_NUMBER, required=False
    )
    version_id = forms.IntegerField(label=_("or version id"), min_value=1, max_value=MAX_ID, required=False)

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        model, number, version_id = cleaned.get("model"), cleaned.get("version"), cleaned.get("version_id")
        cleaned["target"] = None
        if version_id is not None:
            cleaned["target"] = ModelVersion.objects.filter(pk=version_id).first()
            if cleaned["target"] is None:
                self.add_error("version_id", gettext("No model version has id %(id)s.") % {"id": version_id})
        elif number is not None:
            if model is None:
                self.add_error(
                    "model", gettext("Choose the model of version %(number)s.") % {"number": number}
                )
            else:
                cleaned["target"] = model.versions.filter(version=number).first()
                if cleaned["target"] is None:
                    self.add_error(
                        "version",
                        gettext("%(model)s has no version %(number)s.") % {"model": model, "number": number},
                    )
        elif model is None:
            raise forms.ValidationError(gettext("Choose a model, or give a version id."))
        return cleaned


class ReasonForm(forms.Form):
    """Why a lifecycle change is made: kept in the audit trail with who and when."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text=_("Kept in the model's audit trail with your name and the time."),
    )


# --------------------------------------------------------------------------- training


SCHEDULE_CHOICES = [
    ("", _("None: train once, now")),
    ("interval", _("Every N minutes")),
    ("cron", _("Cron")),
]
SPLIT_LABELS = {
    "random": pgettext_lazy("split", "Random"),
    "stratified": pgettext_lazy("split", "Stratified"),
    "time": pgettext_lazy("split", "Time"),
}
SPLIT_CHOICES = [(s, SPLIT_LABELS.get(s, s.capitalize())) for s in SPLITS]
# Service error keys that name a form field; the rest become errors of the whole form.
ERROR_FIELDS = {
    "name",
    "dataset",
    "dataset_version",
    "feature_set",
    "features",
    "label",
    "event_value",
    "engine",
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
        return gettext("%(set)s (from %(dataset)s)") % {"set": obj, "dataset": obj.dataset_version}


class TrainingForm(forms.Form):
    name = forms.CharField(
        label=_("Model name"), max_length=100, help_text=_("An existing name gets a new version.")
    )
    dataset = forms.ModelChoiceField(label=_("Dataset"), queryset=Dataset.objects.none(), empty_label=None)
    dataset_version = forms.IntegerField(
        label=_("Dataset version"),
        min_value=1,
        required=False,
        help_text=_("Blank: the newest validated one."),
    )
    feature_set = FeatureSetField(
        label=_("Feature set"),
        queryset=FeatureSet.objects.select_related("dataset_version__dataset"),
        required=False,
        empty_label=_("None: use the columns below"),
    )
    features = ColumnsField(
        label=_("Features"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("None chosen: every numeric and categorical column but the label, time and key columns."),
    )
    label = forms.CharField(
        label=_("Label column"),
        max_length=200,
        required=False,
        help_text=_("Blank: the dataset's label column."),
    )
    event_value = forms.CharField(
        label=_("Event value"),
        max_length=200,
        required=False,
        help_text=_(
            "The label value that counts as the event (e.g. bad, 1, 违约); scores are its probability. "
            "Blank: 1, true, bad, default, 违约, 逾期… when the label holds one, else the rarer class."
        ),
    )
    algorithm = forms.ChoiceField(
        label=_("Algorithm"), choices=[(a, ALGORITHM_LABELS[a]) for a in ALGORITHMS], initial="lightgbm"
    )
    objective = forms.ChoiceField(
        label=_("Objective"),
        choices=[
            ("", _("Auto (from the label)")),
            *((o, capfirst(OBJECTIVE_LABELS.get(o, o))) for o in OBJECTIVES),
        ],
        required=False,
    )
    params = forms.CharField(
        label=_("Parameters (JSON)"),
        required=False,
        initial=default_params_json("lightgbm"),
        widget=forms.Textarea(attrs={"rows": 13, "spellcheck": "false"}),
        help_text=_("Omitted parameters take the algorithm's defaults."),
    )
    split = forms.ChoiceField(label=_("Split"), choices=SPLIT_CHOICES, initial="random")
    time_column = forms.CharField(
        label=_("Time column"),
        max_length=200,
        required=False,
        help_text=_("For a time split; blank: the dataset's."),
    )
    validation_share = forms.FloatField(
        label=_("Validation share"), min_value=0.05, max_value=0.5, initial=0.2
    )
    seed = forms.IntegerField(label=_("Seed"), min_value=0, max_value=2**31 - 1, initial=42)
    engine = forms.ChoiceField(
        label=_("Engine"),
        choices=engines.ENGINE_CHOICES,
        initial=engines.LOCAL,
        required=False,  # blank: local, as a request without an engine
        help_text=_("Where the training runs: this worker, or LightGBM sharded over the Dask cluster."),
    )
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial=Priority.MEDIUM)
    schedule = forms.ChoiceField(label=_("Schedule"), choices=SCHEDULE_CHOICES, required=False)
    schedule_name = forms.CharField(label=_("Schedule name"), max_length=200, required=False)
    every_minutes = forms.IntegerField(
        label=_("Every (minutes)"), min_value=1, max_value=525_600, required=False
    )
    cron = forms.CharField(
        label=_("Cron"),
        max_length=100,
        required=False,
        help_text=_("minute hour day-of-month month day-of-week"),
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
        # Column names and storage types are data: shown as they are in every language.
        self.fields["features"].widget.attrs["data-raw"] = ""

    def clean_params(self) -> dict:
        raw = self.cleaned_data["params"].strip()
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                gettext("Not valid JSON: %(error)s (line %(line)s).") % {"error": exc.msg, "line": exc.lineno}
            ) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(gettext('Give an object, e.g. {"num_boost_round": 200}.'))
        return value

    def clean(self):
        data = super().clean()
        feature_set, dataset = data.get("feature_set"), data.get("dataset")
        # The service trains on the chosen dataset with the set's columns; a set drawn from
        # another dataset would put one dataset's features on another's rows.
        if feature_set and dataset and feature_set.dataset_version.dataset_id != dataset.pk:
            self.add_error(
                "feature_set",
                gettext("%(set)s was drawn from %(dataset)s; choose that dataset or no feature set.")
                % {"set": feature_set, "dataset": feature_set.dataset_version.dataset.name},
            )
        kind = data.get("schedule")
        if kind:
            if not (data.get("schedule_name") or "").strip():
                self.add_error("schedule_name", gettext("A scheduled training needs a name."))
            if kind == "interval" and not data.get("every_minutes"):
                self.add_error("every_minutes", gettext("How many minutes between runs?"))
            if kind == "cron" and not (data.get("cron") or "").strip():
                self.add_error("cron", gettext("Give the five cron fields."))
        return data

    def training_request(self) -> dict:
        """The request dict of ``training_tasks.training_create``, holding only what was given."""
        d = self.cleaned_data
        request = {
            "name": d["name"],
            "dataset": d["dataset"].pk,
            "algorithm": d["algorithm"],
            "params": d["params"],
            "split": d["split"],
            "validation_share": d["validation_share"],
            "seed": d["seed"],
            "engine": d.get("engine") or engines.LOCAL,
        }
        optional = {
            "dataset_version": d.get("dataset_version"),
            "feature_set": d["feature_set"].pk if d.get("feature_set") else None,
            "features": d.get("features") or None,
            "label": d.get("label") or None,
            "objective": d.get("objective") or None,
            "time_column": d.get("time_column") or None,
            "event_value": d.get("event_value") or None,
        }
        request.update({k: v for k, v in optional.items() if v is not None})
        return request


def training_from_form(user, form: TrainingForm) -> Task | TaskSchedule | None:
    """Queue the training (or schedule it) from a valid form; None with form errors when refused.

    Raises ``QueueUnavailable`` when the broker refused the task (it is then failed).
    """
    d = form.cleaned_data
    try:
        if d.get("schedule"):
            return schedules.schedule_create(
                user=user,
                name=d["schedule_name"],
                request=form.training_request(),
                every_minutes=d.get("every_minutes") if d["schedule"] == "interval" else None,
                cron=d.get("cron") if d["schedule"] == "cron" else None,
                priority=d["priority"],
            )
        return training_tasks.training_create(
            user=user, request=form.training_request(), priority=d["priority"]
        )
    except RequestInvalid as exc:
        for key, messages in exc.errors.items():
            # A schedule's own "name" error is about the schedule's name (the model name is required).
            field = "schedule_name" if key == "name" and d.get("schedule") else key
            for message in messages:
                form.add_error(field if field in ERROR_FIELDS | {"schedule_name"} else None, message)
    return None
