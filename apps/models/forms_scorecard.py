"""The bin edit an analyst makes on a scorecard page, as the refit takes it."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

EDIT_CHOICES = [
    ("merge", _("Merge two adjacent bins")),
    ("split", _("Split a bin at a value")),
    ("breaks", _("Set the breaks")),
    ("exclude", _("Leave the feature out")),
    ("include", _("Force the feature in")),
]


class BinEditForm(forms.Form):
    feature = forms.ChoiceField(label=_("Feature"))
    action = forms.ChoiceField(label=_("Edit"), choices=EDIT_CHOICES)
    bins = forms.CharField(
        label=_("Bins"),
        required=False,
        help_text=_("Merge: the two bin numbers, e.g. 2,3. Split: the bin number."),
    )
    value = forms.CharField(
        label=_("Values"),
        required=False,
        help_text=_("Split: the value to split at. Breaks: the breaks in increasing order, e.g. 25, 40, 60."),
    )

    def __init__(self, *args, card: dict, **kwargs):
        super().__init__(*args, **kwargs)
        names = [c["name"] for c in card.get("candidates") or []] or [
            f["name"] for f in card.get("features") or []
        ]
        self.fields["feature"].choices = [(n, n) for n in names]
        self.fields["feature"].widget.attrs["data-raw"] = ""

    @staticmethod
    def _numbers(text: str, *, label: str) -> list[float]:
        try:
            return [float(part) for part in text.replace("\uff0c", ",").split(",") if part.strip()]
        except ValueError:
            raise forms.ValidationError(
                gettext("%(field)s: give numbers separated by commas.") % {"field": label}
            ) from None

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action in ("merge", "split"):
            bins = self._numbers(data.get("bins") or "", label=gettext("Bins"))
            wanted = 2 if action == "merge" else 1
            if len(bins) != wanted or any(not b.is_integer() or b < 1 for b in bins):
                raise forms.ValidationError(
                    gettext("Merge takes two bin numbers (e.g. 2,3).")
                    if action == "merge"
                    else gettext("Split takes one bin number.")
                )
            data["bin_indexes"] = [int(b) - 1 for b in bins]  # the page numbers bins from 1
        if action in ("split", "breaks"):
            values = self._numbers(data.get("value") or "", label=gettext("Values"))
            if not values or (action == "split" and len(values) != 1):
                raise forms.ValidationError(
                    gettext("Give the value to split at.")
                    if action == "split"
                    else gettext("Give at least one break.")
                )
            data["numbers"] = values
        return data

    def edit(self) -> dict:
        d = self.cleaned_data
        feature, action = d["feature"], d["action"]
        if action == "merge":
            return {"feature": feature, "merge": d["bin_indexes"]}
        if action == "split":
            return {"feature": feature, "split": {"bin": d["bin_indexes"][0], "at": d["numbers"][0]}}
        if action == "breaks":
            return {"feature": feature, "breaks": d["numbers"]}
        return {"feature": feature, "include": action == "include"}
