"""Forms shared by the datasets admin and analyst pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.errors import ApplicationError

from . import services
from .models import CodeScheme, Dataset, DatasetKind, DatasetVersion, WarningRule


class UploadForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=DatasetKind.choices)
    file = forms.FileField(label=_("File"))
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    label_column = forms.CharField(label=_("Label column"), required=False)
    time_column = forms.CharField(label=_("Time column"), required=False)
    code_scheme = forms.ChoiceField(
        label=_("Code scheme"),
        choices=CodeScheme.choices,
        initial=CodeScheme.AUTO,
        required=False,
        help_text=_("Bank records: how the codes are read."),
    )


class DatasetAdminForm(forms.ModelForm):
    """The dataset's change form: the warnings treated as errors as checkboxes."""

    error_rules = forms.MultipleChoiceField(
        label=_("Warnings treated as errors"),
        choices=WarningRule.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Bank records: these warning kinds make a line invalid. Validate a version again to apply."
        ),
    )

    class Meta:
        model = Dataset
        fields = ["name", "description", "code_scheme", "error_rules", "is_archived"]

    def clean_error_rules(self) -> list[str]:
        chosen = set(self.cleaned_data["error_rules"])
        return [rule for rule in WarningRule.values if rule in chosen]

    def clean(self):
        data = super().clean()
        if self.instance.kind != DatasetKind.BANK_RECORDS:
            if data.get("code_scheme") not in (None, CodeScheme.AUTO):
                self.add_error("code_scheme", _("Only bank-records datasets have a code scheme."))
            if data.get("error_rules"):
                self.add_error("error_rules", _("Only bank-records datasets have warning rules."))
        return data


def upload_from_form(request, form: UploadForm) -> tuple[DatasetVersion | None, bool]:
    """Run the upload service on a bound, valid form; add form errors on bad input."""
    data = form.cleaned_data
    try:
        return services.dataset_upload(
            name=data["name"].strip(),
            kind=data["kind"],
            file=data["file"],
            original_name=data["file"].name,
            user=request.user,
            description=data["description"],
            label_column=data["label_column"].strip(),
            time_column=data["time_column"].strip(),
            code_scheme=data["code_scheme"] if data["kind"] == DatasetKind.BANK_RECORDS else "",
        )
    except ApplicationError as exc:
        # The service names the field at fault (file or name); else the form as a whole.
        fields = [f for f in exc.errors if f in form.fields] or [None]
        form.add_error(fields[0], exc.message)
    return None, False
