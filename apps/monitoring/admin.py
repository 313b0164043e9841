from django.contrib import admin

from .models import MonitoringBaseline, MonitoringPeriod, Outcome, Vintage


@admin.register(Outcome)
class OutcomeAdmin(admin.ModelAdmin):
    list_display = ("entity_key", "model", "outcome", "outcome_at", "source", "created_at")
    list_filter = ("outcome",)
    search_fields = ("entity_key",)
    raw_id_fields = ("model",)


@admin.register(MonitoringPeriod)
class MonitoringPeriodAdmin(admin.ModelAdmin):
    list_display = ("version", "granularity", "period_start", "rows", "status", "updated_at")
    list_filter = ("granularity", "status")
    raw_id_fields = ("version",)
    readonly_fields = ("figures",)


@admin.register(Vintage)
class VintageAdmin(admin.ModelAdmin):
    list_display = ("version", "cohort", "size", "age", "updated_at")
    raw_id_fields = ("version",)


@admin.register(MonitoringBaseline)
class MonitoringBaselineAdmin(admin.ModelAdmin):
    list_display = ("version", "source", "created_at")
    raw_id_fields = ("version",)
