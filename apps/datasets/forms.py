"""Forms shared by the datasets admin and analyst pages."""

from __future__ import annotations

from django import forms

from apps.core.errors import ApplicationError

from . import services
from .models import DatasetKind, DatasetVersion


class UploadForm(forms.Form):
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=DatasetKind.choices)
    file = forms.FileField()
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    label_column = forms.CharField(required=False)
    time_column = forms.CharField(required=False)


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
        )
    except ApplicationError as exc:
        # The service names the field at fault (file or name); else the form as a whole.
        fields = [f for f in exc.errors if f in form.fields] or [None]
        form.add_error(fields[0], exc.message)
    return None, False
