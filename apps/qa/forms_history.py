"""The history search form (admins): text, dates, sure or not, who asked, feedback."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

# Longest search text read (a search box, not a document).
MAX_QUERY_CHARS = 200


class HistorySearchForm(forms.Form):
    q = forms.CharField(
        label=_("Words"),
        required=False,
        max_length=MAX_QUERY_CHARS,
        help_text=_("Found in the question, the bank name or the codes answered."),
    )
    since = forms.DateField(
        label=_("From date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    sure = forms.ChoiceField(
        label=_("Answer"),
        required=False,
        choices=[("", _("sure or not sure")), ("sure", _("sure")), ("not_sure", _("not sure"))],
    )
    feedback = forms.ChoiceField(
        label=_("Feedback"),
        required=False,
        choices=[
            ("", _("any")),
            ("right", _("marked right")),
            ("wrong", _("marked wrong")),
            ("none", _("none")),
        ],
    )
    user = forms.CharField(label=_("Asked by"), required=False, max_length=150, help_text=_("A username."))

    def clean_user(self):
        name = self.cleaned_data["user"].strip()
        if name and not get_user_model().objects.filter(username=name).exists():
            raise forms.ValidationError(_("No user is named %(name)s.") % {"name": name})
        return name

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end date is before the start date."))
        return cleaned
