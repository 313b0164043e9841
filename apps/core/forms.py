"""Forms of the core pages: a setting's value, typed by its declaration."""

from __future__ import annotations

import math
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import sealing
from .config_keys import ConfigKey, ValueType
from .models import SystemConfig, coerce_config_value

# Longest string value the page accepts (the admin's textarea has no limit; the JSON column none).
MAX_TEXT_CHARS = 10_000


class SettingForm(forms.Form):
    """The value of one setting, as a field of its type with its declared range.

    The field gives a typed, translated error for text that is not a value of the type or
    out of range; ``coerce_config_value`` (the admin's and the API's check) has the last
    word. A secret's current value is never sent to the page: left empty, it is kept
    (``keeps_secret``: there is nothing to save).
    """

    keeps_secret = False

    def __init__(
        self,
        *args,
        key: str,
        value_type: str,
        current: Any,
        declared: ConfigKey | None,
        is_secret: bool = False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.key, self.value_type, self.is_secret = key, value_type, is_secret
        self.current = current
        self.fields["value"] = self._field(value_type, declared)
        if not is_secret:
            self.initial["value"] = self._initial(value_type, current)

    def _field(self, value_type: str, declared: ConfigKey | None) -> forms.Field:
        label = _("Value")
        if self.is_secret:
            return forms.CharField(
                label=label,
                required=False,
                strip=False,
                max_length=MAX_TEXT_CHARS,
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
                help_text=_("A secret: its value is not shown. Leave empty to keep it."),
            )
        if value_type == ValueType.NUMBER:
            minimum, maximum = declared.bounds() if declared else (None, None)
            if declared and declared.integer:
                return forms.IntegerField(
                    label=label,
                    min_value=None if minimum is None else math.ceil(minimum),
                    max_value=None if maximum is None else math.floor(maximum),
                )
            return forms.FloatField(label=label, min_value=minimum, max_value=maximum)
        if value_type == ValueType.BOOLEAN:
            return forms.TypedChoiceField(
                label=label,
                choices=[("true", _("Yes")), ("false", _("No"))],
                coerce=lambda text: text == "true",
            )
        if value_type == ValueType.JSON:
            return forms.JSONField(label=label, widget=forms.Textarea(attrs={"rows": 6, "cols": 80}))
        return forms.CharField(
            label=label,
            required=False,
            strip=False,
            max_length=MAX_TEXT_CHARS,
            widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
        )

    @staticmethod
    def _initial(value_type: str, value: Any) -> Any:
        if value_type == ValueType.BOOLEAN:
            return "true" if value else "false"
        return value

    def clean_value(self):
        value = self.cleaned_data.get("value")
        if self.is_secret and value in ("", None):
            if sealing.is_sealed(self.current):
                self.keeps_secret = True
                return self.current
            # Left empty: keep the secret (a string secret never stored yet stays empty).
            value = self.current if self.current is not None else ""
        try:
            return coerce_config_value(self.value_type, value, key=self.key)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None


def setting_form(config: SystemConfig | None, declared: ConfigKey | None, data=None) -> SettingForm:
    """The form for a stored setting (``config``) or a declared one not stored yet."""
    if config is not None:
        return SettingForm(
            data,
            key=config.key,
            value_type=config.value_type,
            current=config.value,
            declared=declared,
            is_secret=config.is_secret,
        )
    return SettingForm(
        data,
        key=declared.key,
        value_type=declared.value_type,
        current=declared.default,
        declared=declared,
        is_secret=declared.is_secret,
    )
