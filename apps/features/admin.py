"""Feature center admin: features with their versions, tags, feature sets."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from apps.core.admin import ReadOnlyAdmin
from apps.datasets.admin import DatasetAdmin
from apps.datasets.selectors import dataset_version

from . import services
from .models import Feature, FeatureSet, FeatureSetItem, FeatureVersion, Tag


class FeatureVersionInline(admin.TabularInline):
    model = FeatureVersion
    fields = [
        "version",
        "type",
        "data_type",
        "dataset_version",
        "source_column",
        "iv",
        "change_note",
        "created_by",
        "created_at",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="IV")
    def iv(self, obj) -> str:
        iv = ((obj.statistics or {}).get("iv") or {}).get("iv")
        return f"{iv:.4f}" if isinstance(iv, float) else "-"


@admin.register(Feature)
class FeatureAdmin(admin.ModelAdmin):
    list_display = ["name", "display_name", "type", "tag_list", "version", "created_by", "updated_at"]
    list_filter = ["type", "tags", "created_by"]
    search_fields = ["name", "display_name", "description"]
    list_select_related = ["created_by"]
    readonly_fields = ["version", "created_by", "created_at", "updated_at", "current_statistics"]
    filter_horizontal = ["tags"]
    inlines = [FeatureVersionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("tags")

    @admin.display(description=gettext_lazy("tags"))
    def tag_list(self, obj) -> str:
        return ", ".join(sorted(t.name for t in obj.tags.all()))

    @admin.display(description=gettext_lazy("statistics (current version)"))
    def current_statistics(self, obj):
        current = obj.current_version()
        text = (
            json.dumps(current.statistics, ensure_ascii=False, indent=2)
            if current and current.statistics
            else "-"
        )
        return format_html("<pre style='max-height:30em;overflow:auto'>{}</pre>", text)

    def save_model(self, request, obj, form, change):
        from . import services

        if not change:
            obj.created_by = request.user
            super().save_model(request, obj, form, change)
            services.feature_version_snapshot(feature=obj, user=request.user, note=_("created in admin"))
            return
        fields = {
            f: form.cleaned_data[f] for f in form.changed_data if f in form.cleaned_data and f != "tags"
        }
        services.feature_update(feature=obj, user=request.user, **fields)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "feature_count"]
    search_fields = ["name"]
    list_filter = []

    @admin.display(description=gettext_lazy("features"))
    def feature_count(self, obj) -> int:
        return obj.features.count()


class FeatureSetItemInline(admin.TabularInline):
    model = FeatureSetItem
    fields = ["position", "feature_version"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(FeatureSet)
class FeatureSetAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "version",
        "dataset_version",
        "label_column",
        "item_count",
        "locked_at",
        "created_by",
        "created_at",
    ]
    list_filter = ["locked_at", "dataset_version__dataset"]
    search_fields = ["name", "description"]
    list_select_related = ["dataset_version__dataset", "created_by"]
    inlines = [FeatureSetItemInline]

    @admin.display(description=gettext_lazy("features"))
    def item_count(self, obj) -> int:
        return obj.items.count()


@admin.register(FeatureVersion)
class FeatureVersionAdmin(ReadOnlyAdmin):
    list_display = [
        "feature",
        "version",
        "type",
        "data_type",
        "dataset_version",
        "source_column",
        "created_at",
    ]
    list_filter = ["type"]
    search_fields = ["feature__name", "source_column"]
    list_select_related = ["feature", "dataset_version__dataset"]


# On the datasets admin's list, but a features action: datasets sit below features.
@admin.action(description=gettext_lazy("Register all columns as features (newest validated version)"))
def register_features(modeladmin, request, queryset):
    for dataset in queryset:
        version = dataset_version(dataset, None)
        if version is None:
            modeladmin.message_user(
                request, _("%(dataset)s has no version yet.") % {"dataset": dataset}, messages.ERROR
            )
            continue
        try:
            proposals = services.features_propose(dataset_version=version)
            features, _set = services.features_register(
                dataset_version=version,
                columns=[{"column": p["column"]} for p in proposals],
                user=request.user,
                proposals=proposals,
            )
        except services.NotReady as exc:
            modeladmin.message_user(
                request, _("%(dataset)s: %(error)s") % {"dataset": dataset, "error": exc}, messages.ERROR
            )
            continue
        modeladmin.message_user(
            request,
            ngettext(
                "%(dataset)s: registered %(count)d feature from %(version)s.",
                "%(dataset)s: registered %(count)d features from %(version)s.",
                len(features),
            )
            % {"dataset": dataset, "count": len(features), "version": version},
        )


DatasetAdmin.actions = [*DatasetAdmin.actions, register_features]
