"""Alerts: admin. Rules and webhooks are edited here; alerts and deliveries are what the
system wrote: shown, acted on (acknowledge, resolve, replay), never edited by hand."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from apps.core.admin import ProtectedDeleteMixin, ReadOnlyAdmin, ReadOnlyInlineMixin, json_display
from apps.core.errors import ApplicationError

from . import services
from .metrics import CATALOGUE
from .models import Alert, AlertEvent, AlertRule, AlertStatus, Webhook, WebhookDelivery, WebhookEvent


class AlertRuleForm(forms.ModelForm):
    class Meta:
        model = AlertRule
        fields = [
            "name",
            "model",
            "metric",
            "comparison",
            "threshold",
            "window",
            "severity",
            "enabled",
            "email_recipients",
        ]

    def clean_metric(self) -> str:
        metric = self.cleaned_data.get("metric", "")
        if metric not in CATALOGUE:
            raise forms.ValidationError(gettext("Unknown metric %(metric)s.") % {"metric": repr(metric)})
        return metric


@admin.register(AlertRule)
class AlertRuleAdmin(ProtectedDeleteMixin, admin.ModelAdmin):
    form = AlertRuleForm
    list_display = ["name", "model", "metric", "comparison", "threshold", "window", "severity", "enabled"]
    list_filter = ["enabled", "severity", "metric"]
    list_editable = ["enabled"]
    search_fields = ["name", "model__name"]
    list_select_related = ["model"]


class AlertEventInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = AlertEvent
    fields = ["created_at", "kind", "actor", "note"]
    readonly_fields = fields


def _alert_action(service, done_message: str):
    def act(modeladmin, request, queryset):
        done = 0
        for alert in queryset.select_related("version__model", "rule"):
            try:
                service(alert=alert, user=request.user, note=gettext("From the admin."))
            except ApplicationError as exc:
                modeladmin.message_user(request, f"{alert}: {exc.message}", messages.WARNING)
            else:
                done += 1
        if done:
            modeladmin.message_user(request, done_message % {"count": done}, messages.SUCCESS)

    return act


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["opened_at", "rule", "version", "period_start", "value", "severity", "status"]
    list_filter = ["status", "severity", "rule", "version__model"]
    search_fields = ["rule__name", "version__model__name", "message"]
    list_select_related = ["rule", "version__model"]
    date_hierarchy = "opened_at"
    inlines = [AlertEventInline]
    actions = ["acknowledge", "resolve"]

    def has_act_permission(self, request) -> bool:
        return request.user.has_perm("alerts.change_alert")

    @admin.action(description=_("Acknowledge selected alerts"), permissions=["act"])
    def acknowledge(self, request, queryset):
        _alert_action(services.alert_acknowledge, gettext("%(count)s alert(s) acknowledged."))(
            self, request, queryset.filter(status=AlertStatus.OPEN)
        )

    @admin.action(description=_("Resolve selected alerts"), permissions=["act"])
    def resolve(self, request, queryset):
        _alert_action(services.alert_resolve, gettext("%(count)s alert(s) resolved."))(
            self, request, queryset.exclude(status=AlertStatus.RESOLVED)
        )


class WebhookForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=1000, assume_scheme="https")
    # Write-only: the stored secret is never put back into the page.
    secret = forms.CharField(
        label=_("secret"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Signs every delivery (HMAC-SHA256). Leave empty to keep the current secret."),
    )
    clear_secret = forms.BooleanField(label=_("remove the secret"), required=False)
    events = forms.MultipleChoiceField(
        label=_("events"), choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = Webhook
        fields = ["name", "url", "events", "enabled"]

    def save(self, commit: bool = True):
        hook = super().save(commit=False)
        if self.cleaned_data.get("clear_secret"):
            hook.set_secret("")
        elif self.cleaned_data.get("secret"):
            hook.set_secret(self.cleaned_data["secret"])
        if commit:
            hook.save()
        return hook


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    form = WebhookForm
    list_display = ["name", "url", "enabled", "has_secret_display", "created_at"]
    list_filter = ["enabled"]
    search_fields = ["name", "url"]
    fields = ["name", "url", "secret", "clear_secret", "events", "enabled"]

    @admin.display(description=_("secret set"), boolean=True)
    def has_secret_display(self, obj: Webhook) -> bool:
        return obj.has_secret()


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "created_at",
        "webhook",
        "event",
        "status",
        "attempts",
        "last_status_code",
        "delivered_at",
    ]
    list_filter = ["status", "event", "webhook"]
    list_select_related = ["webhook"]
    search_fields = ["webhook__name", "last_error"]
    date_hierarchy = "created_at"
    readonly_fields = ["payload_display"]
    exclude = ["payload"]
    actions = ["replay"]
    payload_display = json_display("payload", _("payload"))

    def has_replay_permission(self, request) -> bool:
        return request.user.has_perm("alerts.change_webhook")

    @admin.action(description=_("Replay selected deliveries"), permissions=["replay"])
    def replay(self, request, queryset):
        count = 0
        for d in queryset:
            services.delivery_replay(delivery=d)
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d delivery queued again.", "%(count)d deliveries queued again.", count)
            % {"count": count},
            messages.SUCCESS,
        )
