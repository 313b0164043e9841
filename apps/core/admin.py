"""Core admin: settings (secrets masked), the API audit log, live processes, pings."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.html import format_html

from .config import DECLARED, config_invalidate
from .models import SECRET_MASK, ApiAuditLog, SystemConfig, WorkerHeartbeat, WorkerPing, coerce_config_value

admin.site.site_header = "OMM administration"
admin.site.site_title = "OMM admin"
admin.site.index_title = "Offline model platform"


class ReadOnlyAdmin(admin.ModelAdmin):
    """For rows the system writes: visible to admins, never edited by hand."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInlineMixin:
    """For inlines of rows the system writes: shown, never added, edited or deleted here."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def json_display(field: str, description: str | None = None):
    """An admin display method showing JSON field ``field`` pretty-printed."""

    @admin.display(description=description or field.replace("_", " "))
    def show(self, obj):
        return pretty_json(getattr(obj, field))

    return show


def pretty_json(value):
    """A JSON value as an indented, scrollable block for a read-only admin field."""
    if value in (None, {}, []):
        return "-"
    text = json.dumps(value, ensure_ascii=False, indent=2, default=str)
    return format_html("<pre style='max-height:30em;overflow:auto'>{}</pre>", text)


class SystemConfigForm(forms.ModelForm):
    value = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For secrets, leave empty to keep the current value.",
    )

    class Meta:
        model = SystemConfig
        fields = ["key", "value_type", "value", "description", "is_secret"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        declared = DECLARED.get(instance.key) if instance.pk else None
        if declared is not None and declared.allowed:
            # The declared range, shown under the value while editing it.
            field = self.fields["value"]
            field.help_text = f"Allowed: {declared.allowed}. {field.help_text}"
        if instance.pk:
            if instance.is_secret:
                self.initial["value"] = ""
            elif instance.value_type == "json":
                self.initial["value"] = json.dumps(instance.value, ensure_ascii=False, indent=2)
            elif instance.value_type == "boolean":
                self.initial["value"] = "true" if instance.value else "false"
            else:
                self.initial["value"] = "" if instance.value is None else str(instance.value)

    def clean(self):
        cleaned = super().clean()
        raw = cleaned.get("value")
        if self.instance.pk and self.instance.is_secret and raw in ("", None):
            cleaned["value"] = self.instance.value
            return cleaned
        # On an existing row the type is read-only, so it is not in the form data.
        value_type = cleaned.get("value_type") or self.instance.value_type
        if value_type:
            try:
                key = cleaned.get("key") or self.instance.key
                cleaned["value"] = coerce_config_value(value_type, raw or "", key=key)
            except ValidationError as exc:
                self.add_error("value", exc)
        return cleaned


@admin.register(SystemConfig)
class SystemConfigAdmin(admin.ModelAdmin):
    form = SystemConfigForm
    list_display = ["key", "value_type", "shown_value", "is_secret", "updated_at", "updated_by"]
    list_filter = ["value_type", "is_secret"]
    search_fields = ["key", "description"]
    list_select_related = ["updated_by"]
    readonly_fields = ["updated_at", "updated_by"]

    @admin.display(description="value")
    def shown_value(self, obj: SystemConfig):
        value = obj.display_value
        return value if value != SECRET_MASK else SECRET_MASK

    def get_readonly_fields(self, request, obj=None):
        # Declared keys keep their name and type: the code reads them as such.
        return [*self.readonly_fields, "key", "value_type"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        obj.value = form.cleaned_data["value"]
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
        config_invalidate(obj.key)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        config_invalidate(obj.key)


@admin.register(ApiAuditLog)
class ApiAuditLogAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "username", "method", "path", "status_code", "duration_ms", "ip_address"]
    list_filter = ["method", "status_code", "created_at"]
    search_fields = ["username", "path", "ip_address", "user_agent"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["hostname", "kind", "pid", "queues", "started_at", "last_seen"]
    list_filter = ["kind"]
    search_fields = ["hostname"]


@admin.register(WorkerPing)
class WorkerPingAdmin(ReadOnlyAdmin):
    list_display = ["id", "queue", "requested_by", "requested_at", "completed_at", "worker"]
    list_filter = ["queue"]
    list_select_related = ["requested_by"]
