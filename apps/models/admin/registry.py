"""Models in the admin: each with its versions inline, its active version, A/B split and
the newest changes of its lifecycle trail; archiving asks for a reason."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from apps.core.admin import ProtectedDeleteMixin, ReadOnlyInlineMixin, admin_link, human_size, json_display

from .. import labels, services
from ..display import headline_metrics
from ..forms import ActiveAtForm
from ..labels import version_status_label
from ..models import Model, ModelVersion, VersionStatus
from .actions import ReasonActionsMixin

# A model's page in the admin shows this many of its newest lifecycle events.
TRAIL_LIMIT = 10


class ModelVersionInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = ModelVersion
    fields = [
        "version_link",
        "status",
        "algorithm",
        "objective_label",
        "metrics_summary",
        "size_display",
        "task_link",
        "dataset_version",
        "created_by",
        "created_at",
    ]
    readonly_fields = fields
    ordering = ["-version"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("model", "task", "dataset_version__dataset", "created_by")
        )

    @admin.display(description=_("version"))
    def version_link(self, obj: ModelVersion):
        url = reverse("admin:models_modelversion_change", args=[obj.pk])
        return format_html('<a href="{}">v{}</a>', url, obj.version)

    @admin.display(description=_("metrics"))
    def metrics_summary(self, obj: ModelVersion) -> str:
        return headline_metrics(obj.metrics)

    @admin.display(description=_("objective"))
    def objective_label(self, obj: ModelVersion) -> str:
        return labels.objective_label(obj.objective) or "-"

    @admin.display(description=_("size"))
    def size_display(self, obj: ModelVersion) -> str:
        return human_size(obj.size)

    @admin.display(description=_("task"))
    def task_link(self, obj: ModelVersion):
        return admin_link("admin:tasks_task_change", obj.task)


@admin.register(Model)
class RegistryModelAdmin(ReasonActionsMixin, ProtectedDeleteMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "type",
        "algorithm",
        "status",
        "version_count",
        "latest_version",
        "active_version",
        "created_by",
        "updated_at",
    ]
    list_filter = ["type", "status", "algorithm", ("created_by", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "description", "algorithm"]
    list_select_related = ["created_by"]
    date_hierarchy = "updated_at"
    actions = ["archive"]
    change_form_template = "admin/models/model/change_form.html"
    fields = [
        "name",
        "type",
        "algorithm",
        "status",
        "description",
        "active_version_link",
        "ab_split",
        "lifecycle_trail",
        "parameters_pretty",
        "created_by",
        "created_at",
        "updated_at",
    ]
    readonly_fields = [
        "name",
        "type",
        "algorithm",
        "status",
        "active_version_link",
        "ab_split",
        "lifecycle_trail",
        "parameters_pretty",
        "created_by",
        "created_at",
        "updated_at",
    ]
    inlines = [ModelVersionInline]

    def get_queryset(self, request):
        latest = ModelVersion.objects.filter(model=OuterRef("pk")).order_by("-version")
        active = ModelVersion.objects.filter(model=OuterRef("pk"), status=VersionStatus.ACTIVE)
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_versions=Count("versions"),
                latest=Subquery(latest.values("version")[:1]),
                active=Subquery(active.values("version")[:1]),
            )
        )

    def has_add_permission(self, request) -> bool:
        return False  # a model is created by its first training

    def get_deleted_objects(self, objs, request):
        to_delete, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        if protected:
            # Its versions block the delete whoever asks: name them, rather than the
            # delete permission on versions that nobody but a superuser holds.
            perms_needed = set()
        return to_delete, model_count, perms_needed, protected

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The change page, with the answer to "which version was active at ?active_at=…"."""
        model = self.get_object(request, object_id)
        if model is not None:
            form = ActiveAtForm(request.GET if "active_at" in request.GET else None)
            extra_context = {
                **(extra_context or {}),
                "active_at_form": form,
                "active_at_answer": form.answer(model) if form.is_valid() else None,
            }
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("versions"), ordering="n_versions")
    def version_count(self, obj: Model) -> int:
        return obj.n_versions

    @admin.display(description=_("latest"), ordering="latest")
    def latest_version(self, obj: Model) -> str:
        return f"v{obj.latest}" if obj.latest else "-"

    @admin.display(description=pgettext_lazy("active version column", "active"), ordering="active")
    def active_version(self, obj: Model) -> str:
        return f"v{obj.active}" if obj.active else "-"

    @admin.display(description=_("active version"))
    def active_version_link(self, obj: Model):
        return admin_link(
            "admin:models_modelversion_change", obj.versions.filter(status=VersionStatus.ACTIVE).first()
        )

    @admin.display(description=_("A/B split"))
    def ab_split(self, obj: Model):
        """ab_version and ab_percent: the share of traffic the B version gets."""
        if obj.ab_version is None or not obj.ab_percent:
            return gettext("none: the active version answers every request")
        return format_html(
            # The share is passed as "20%": a "%" in the message itself would read as a format.
            gettext('<a href="{}">{}</a> gets {} of the requests; the active version the rest'),
            reverse("admin:models_modelversion_change", args=[obj.ab_version_id]),
            obj.ab_version,
            f"{obj.ab_percent}%",
        )

    @admin.display(description=_("lifecycle trail"))
    def lifecycle_trail(self, obj: Model):
        events = list(
            obj.events.select_related("version", "actor").order_by("-created_at", "-id")[:TRAIL_LIMIT]
        )
        url = reverse("admin:models_versionevent_changelist") + f"?model__id__exact={obj.pk}"
        if not events:
            return "-"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>v{}</td><td>{}</td><td>{} → {}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    timezone.localtime(e.created_at).strftime("%Y-%m-%d %H:%M:%S"),
                    e.version.version,
                    e.get_action_display(),
                    version_status_label(e.from_status),
                    version_status_label(e.to_status),
                    e.actor.username if e.actor else gettext("system"),
                    e.reason or "-",
                )
                for e in events
            ),
        )
        return format_html(
            '<table id="lifecycle-trail"><thead><tr><th>{}</th><th>{}</th><th>{}</th>'
            "<th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>"
            "<p>{}</p>",
            gettext("when"),
            gettext("version"),
            gettext("change"),
            gettext("status"),
            gettext("by"),
            gettext("why"),
            rows,
            format_html(
                gettext('The newest {} changes; <a href="{}">the whole trail</a>.'),
                len(events),
                url,
            ),
        )

    parameters_pretty = json_display("parameters", _("parameters"))

    def save_model(self, request, obj, form, change):
        # Only the editable fields are written: a status changed meanwhile by a service stays.
        if form.changed_data:
            obj.save(update_fields=[*form.changed_data, "updated_at"])

    @admin.action(description=_("Archive selected models (asks for a reason)"), permissions=["lifecycle"])
    def archive(self, request, queryset):
        models = list(queryset.order_by("name"))
        return self.ask_reason(
            request,
            [(m, m.get_status_display()) for m in models],
            title=gettext("Archive models"),
            confirm=gettext("Archive"),
            note=gettext("An archived model stops serving and takes no new versions or promotions."),
            apply=lambda reason: self.change_each(
                request,
                models,
                lambda m: services.model_archive(model=m, user=request.user, reason=reason),
                reason=reason,
                done=gettext("Archived %(obj)s."),
                failed=gettext("%(obj)s not archived: %(error)s"),
            ),
        )
