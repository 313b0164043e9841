"""Core admin: settings (secrets masked), the API audit log, live processes, pings; and the
helpers every app's admin uses (read-only records, JSON and size display, links, deletes
refused by a protecting foreign key)."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import admin_trail  # noqa: F401 - the governance trail's admin
from .config import DECLARED, config_invalidate, described
from .models import SECRET_MASK, ApiAuditLog, SystemConfig, WorkerHeartbeat, WorkerPing, coerce_config_value
from .sealing import SecretUnreadable

admin.site.site_header = _("OMM administration")
admin.site.site_title = _("OMM admin")
admin.site.index_title = _("Offline model platform")


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


def human_size(num: int | None) -> str:
    """A byte count as people read it: "512 B", "1.5 MB" ("-" when unknown)."""
    if num is None:
        return "-"
    value = float(num)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{num} B"  # pragma: no cover - the loop always returns


def admin_link(viewname: str, obj) -> str:
    """A link to ``obj``'s admin page ``viewname`` (e.g. "admin:tasks_task_change"), or "-"."""
    if obj is None:
        return "-"
    return format_html('<a href="{}">{}</a>', reverse(viewname, args=[obj.pk]), obj)


def protected_names(exc: ProtectedError, limit: int = 5) -> str:
    """The objects that refused a delete, named (the first ``limit`` of them)."""
    objs = list(exc.protected_objects)
    names = ", ".join(str(o) for o in objs[:limit])
    if len(objs) <= limit:
        return names
    return gettext("%(names)s and %(n)s more") % {"names": names, "n": len(objs) - limit}


class ProtectedDeleteMixin:
    """A delete refused by a PROTECT foreign key shows a message, never a 500.

    The admin's confirmation page already lists protected objects; this covers what
    appears between that check and the delete. The transaction is rolled back, so no
    deletion is logged either.
    """

    def delete_view(self, request, object_id, extra_context=None):
        try:
            with transaction.atomic():
                return super().delete_view(request, object_id, extra_context)
        except ProtectedError as exc:
            self.message_user(
                request,
                gettext("Not deleted: still used by %(names)s.") % {"names": protected_names(exc)},
                messages.ERROR,
            )
            return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")

    def changelist_view(self, request, extra_context=None):
        try:
            with transaction.atomic():
                return super().changelist_view(request, extra_context)
        except ProtectedError as exc:
            self.message_user(
                request,
                gettext("Nothing deleted: still used by %(names)s.") % {"names": protected_names(exc)},
                messages.ERROR,
            )
            return redirect(request.get_full_path())


class SystemConfigForm(forms.ModelForm):
    value = forms.CharField(
        label=_("value"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For secrets, leave empty to keep the current value."),
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
            field.help_text = gettext("Allowed: %(allowed)s. %(help)s") % {
                "allowed": declared.allowed,
                "help": field.help_text,
            }
        if declared is not None and "description" in self.fields:
            # The row keeps the English text; the declared one reads in the admin's language.
            self.fields["description"].help_text = described(instance.key, instance.description)
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
            if cleaned.get("is_secret", True):
                cleaned["value"] = self.instance.value  # kept as stored (sealed)
                return cleaned
            try:  # no longer a secret: the current value is kept, in the clear
                cleaned["value"] = self.instance.plain_value
            except SecretUnreadable:
                self.add_error(
                    "value",
                    gettext(
                        "The current value cannot be decrypted with the configured keys; enter a new one."
                    ),
                )
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

    @admin.display(description=_("value"))
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
