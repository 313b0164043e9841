"""Monitoring rows: outcomes of scored entities, figures per (version, period), vintage
curves per version, and the training baseline a version is compared with."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.models.models import Model, ModelVersion


class Granularity(models.TextChoices):
    WEEK = "week", _("week")
    MONTH = "month", _("month")


class PeriodStatus(models.TextChoices):
    OK = "ok", _("ok")
    INSUFFICIENT = "insufficient", _("insufficient rows")


class Outcome(models.Model):
    """What became of one scored entity (1: the event, e.g. default; 0: none), and when."""

    model = models.ForeignKey(Model, on_delete=models.CASCADE, related_name="+", verbose_name=_("model"))
    entity_key = models.CharField(_("entity key"), max_length=200)
    outcome = models.PositiveSmallIntegerField(
        _("outcome"), help_text=_("1: the event happened; 0: it did not.")
    )
    outcome_at = models.DateTimeField(_("outcome date"))
    source = models.CharField(_("source"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now=True)

    class Meta:
        verbose_name = _("outcome")
        verbose_name_plural = _("outcomes")
        constraints = [models.UniqueConstraint(fields=["model", "entity_key"], name="outcome_model_entity")]
        indexes = [models.Index(fields=["model", "created_at"], name="outcome_model_time")]

    def __str__(self) -> str:
        return f"{self.entity_key}: {self.outcome}"


class MonitoringBaseline(models.Model):
    """The training baseline of a version (score bands, feature bins and counts), kept once."""

    version = models.OneToOneField(
        ModelVersion, on_delete=models.CASCADE, related_name="monitoring_baseline", verbose_name=_("version")
    )
    figures = models.JSONField(_("figures"))
    source = models.CharField(_("source"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("monitoring baseline")
        verbose_name_plural = _("monitoring baselines")

    def __str__(self) -> str:
        return str(self.version)


class MonitoringPeriod(models.Model):
    """The monitoring figures of one version over one complete week or month."""

    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="monitoring_periods", verbose_name=_("version")
    )
    granularity = models.CharField(_("granularity"), max_length=10, choices=Granularity.choices)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"), help_text=_("The first day after the period."))
    rows = models.PositiveIntegerField(_("rows"))
    status = models.CharField(_("status"), max_length=20, choices=PeriodStatus.choices)
    figures = models.JSONField(_("figures"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["version", "granularity", "period_start"]
        verbose_name = _("monitoring period")
        verbose_name_plural = _("monitoring periods")
        constraints = [
            models.UniqueConstraint(
                fields=["version", "granularity", "period_start"], name="monitoring_period_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.version} {self.granularity} {self.period_start}"


class Vintage(models.Model):
    """Cumulative event rate by months on book of one origination cohort (month) of a version."""

    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="vintages", verbose_name=_("version")
    )
    cohort = models.DateField(_("cohort"), help_text=_("The first day of the origination month."))
    size = models.PositiveIntegerField(_("size"))
    age = models.IntegerField(_("age in months"))
    points = models.JSONField(_("points"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["version", "cohort"]
        verbose_name = _("vintage")
        verbose_name_plural = _("vintages")
        constraints = [models.UniqueConstraint(fields=["version", "cohort"], name="vintage_once")]

    def __str__(self) -> str:
        return f"{self.version} {self.cohort}"


class MonitoringDay(models.Model):
    """The sketch of one version's decisions of one day (counts on the baseline's bins; see
    ``apps.monitoring.figures.sketch``): made once the day is over, so that a period's figures
    add up its days instead of reading the month's decisions again."""

    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="monitoring_days", verbose_name=_("version")
    )
    day = models.DateField(_("day"))
    rows = models.PositiveIntegerField(_("rows"))
    sketch = models.JSONField(_("sketch"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["version", "day"]
        verbose_name = _("monitoring day")
        verbose_name_plural = _("monitoring days")
        constraints = [models.UniqueConstraint(fields=["version", "day"], name="monitoring_day_once")]

    def __str__(self) -> str:
        return f"{self.version} {self.day}"
