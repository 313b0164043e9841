"""The governance trail in the admin (``apps.core.trail``): listed, searched and filtered by
actor, kind of record, action and time; never added, changed or deleted, superusers
included. It replaces django-auditlog's own admin of the same rows."""

from __future__ import annotations

import auditlog.admin  # noqa: F401 - registers auditlog's admin of these rows, replaced below
from auditlog.models import LogEntry
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import TRAIL_ACTION_STORED, TrailAction, TrailEntry

if admin.site.is_registered(LogEntry):
    admin.site.unregister(LogEntry)


class ActionFilter(admin.SimpleListFilter):
    title = _("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return TrailAction.choices

    def queryset(self, request, queryset):
        if self.value() in TRAIL_ACTION_STORED:
            return queryset.filter(action=TRAIL_ACTION_STORED[self.value()])
        return queryset


class RecordTypeFilter(admin.RelatedOnlyFieldListFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = _("kind of record")


class TimeFilter(admin.DateFieldListFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = _("time")


def _value(value) -> str:
    return "-" if value is None else str(value)


@admin.register(TrailEntry)
class TrailEntryAdmin(admin.ModelAdmin):
    list_display = [
        "when",
        "actor_name",
        "action_name",
        "record_kind",
        "record",
        "changed",
        "reason",
        "address",
    ]
    list_filter = [
        ("actor", admin.RelatedOnlyFieldListFilter),
        ("content_type", RecordTypeFilter),
        ActionFilter,
        ("timestamp", TimeFilter),
    ]
    search_fields = ["object_repr", "object_pk", "actor__username", "actor_email", "additional_data__reason"]
    date_hierarchy = "timestamp"
    list_select_related = ["actor", "content_type"]
    fields = [
        "when",
        "actor_name",
        "action_name",
        "record_kind",
        "record",
        "changes_table",
        "reason",
        "address",
    ]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("time"), ordering="timestamp")
    def when(self, obj: TrailEntry):
        return obj.timestamp

    @admin.display(description=_("actor"), ordering="actor__username")
    def actor_name(self, obj: TrailEntry) -> str:
        if obj.actor is not None:
            return obj.actor.get_username()
        return obj.actor_email or gettext("system")

    @admin.display(description=_("action"), ordering="action")
    def action_name(self, obj: TrailEntry) -> str:
        return str(TrailAction(obj.action_code).label) if obj.action_code in TrailAction.values else "-"

    @admin.display(description=_("kind of record"), ordering="content_type")
    def record_kind(self, obj: TrailEntry) -> str:
        model = obj.content_type.model_class()
        return capfirst(model._meta.verbose_name) if model else obj.model_label

    @admin.display(description=_("record"), ordering="object_repr")
    def record(self, obj: TrailEntry):
        ct = obj.content_type
        if obj.action == LogEntry.Action.DELETE:
            return obj.object_repr
        try:
            url = reverse(f"admin:{ct.app_label}_{ct.model}_change", args=[obj.object_pk])
        except NoReverseMatch:
            return obj.object_repr
        return format_html('<a href="{}">{}</a>', url, obj.object_repr)

    @admin.display(description=_("changed"))
    def changed(self, obj: TrailEntry) -> str:
        return ", ".join(row["label"] for row in obj.changed_fields())

    @admin.display(description=_("reason"))
    def reason(self, obj: TrailEntry) -> str:
        return obj.reason

    @admin.display(description=_("ip address"), ordering="remote_addr")
    def address(self, obj: TrailEntry) -> str:
        return obj.remote_addr or "-"

    @admin.display(description=_("changes"))
    def changes_table(self, obj: TrailEntry):
        rows = []
        for row in obj.changed_fields():
            if row["operation"] == "set":
                before, after = _value(row["before"]), _value(row["after"])
            elif row["operation"] == "add":
                before, after = "", gettext("added: %(objects)s") % {"objects": ", ".join(row["objects"])}
            else:
                before, after = gettext("removed: %(objects)s") % {"objects": ", ".join(row["objects"])}, ""
            rows.append((row["label"], before, after))
        if not rows:
            return "-"
        head = format_html(
            "<tr><th>{}</th><th>{}</th><th>{}</th></tr>",
            gettext("field"),
            gettext("before"),
            gettext("after"),
        )
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
        return format_html("<table>{}{}</table>", head, body)
