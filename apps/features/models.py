"""The feature center: features, their versions, tags and feature sets."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Value
from django.db.models.functions import Concat, Lower
from django.utils.translation import gettext_lazy as _

# Unicode word characters, not starting with a digit: column headers in Chinese are common.
FEATURE_NAME_RE = r"^[^\W\d]\w{0,99}$"


class FeatureType(models.TextChoices):
    NUMERICAL = "numerical", _("Numerical")
    CATEGORICAL = "categorical", _("Categorical")
    TEXT = "text", _("Text")
    DATETIME = "datetime", _("Datetime")


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class Feature(models.Model):
    """A named feature. Its definition is versioned; descriptive fields are edited in place."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    display_name = models.CharField(_("display name"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    type = models.CharField(_("type"), max_length=20, choices=FeatureType.choices, db_index=True)
    data_type = models.CharField(_("data type"), max_length=50, blank=True)
    shape = models.JSONField(_("shape"), default=list, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    tags = models.ManyToManyField(Tag, related_name="features", blank=True, verbose_name=_("tags"))
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="features",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)
    # " tag1 tag2 " (sorted): lets the tag filter be a trigram-indexed LIKE on the same row as
    # the search, so PostgreSQL can AND both index bitmaps. Kept in sync by signals.py.
    tag_text = models.TextField(default=" ", editable=False)
    # What search looks in, kept by the database itself; one trigram index on PostgreSQL.
    search_text = models.GeneratedField(
        expression=Lower(
            Concat(
                "name", Value(" "), "display_name", Value(" "), "description", output_field=models.TextField()
            )
        ),
        output_field=models.TextField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["type", "name"], name="feature_type_name")]
        verbose_name = _("feature")
        verbose_name_plural = _("features")

    def __str__(self) -> str:
        return self.name

    def current_version(self) -> FeatureVersion | None:
        return self.versions.filter(version=self.version).first()


class FeatureVersion(models.Model):
    """The definition of a feature at one version, with statistics from a dataset version."""

    feature = models.ForeignKey(
        Feature, on_delete=models.CASCADE, related_name="versions", verbose_name=_("feature")
    )
    version = models.PositiveIntegerField(_("version"))
    type = models.CharField(_("type"), max_length=20, choices=FeatureType.choices)
    data_type = models.CharField(_("data type"), max_length=50, blank=True)
    shape = models.JSONField(_("shape"), default=list, blank=True)
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)
    statistics = models.JSONField(_("statistics"), null=True, blank=True)
    dataset_version = models.ForeignKey(
        "datasets.DatasetVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="feature_versions",
        verbose_name=_("dataset version"),
    )
    source_column = models.CharField(_("source column"), max_length=200, blank=True)
    change_note = models.CharField(_("change note"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["feature", "-version"]
        constraints = [models.UniqueConstraint(fields=["feature", "version"], name="feature_version_unique")]
        verbose_name = _("feature version")
        verbose_name_plural = _("feature versions")

    def __str__(self) -> str:
        return f"{self.feature.name} v{self.version}"


class FeatureSet(models.Model):
    """A named, versioned list of feature versions drawn from one dataset version.

    Once a model version uses it (``locked_at`` set by training), it never changes again:
    changes make a new version of the set.
    """

    name = models.CharField(_("name"), max_length=100)
    version = models.PositiveIntegerField(_("version"), default=1)
    description = models.TextField(_("description"), blank=True)
    dataset_version = models.ForeignKey(
        "datasets.DatasetVersion",
        on_delete=models.PROTECT,
        related_name="feature_sets",
        verbose_name=_("dataset version"),
    )
    label_column = models.CharField(_("label column"), max_length=200, blank=True)
    features = models.ManyToManyField(
        FeatureVersion, through="FeatureSetItem", related_name="feature_sets", verbose_name=_("features")
    )
    locked_at = models.DateTimeField(_("locked at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [models.UniqueConstraint(fields=["name", "version"], name="feature_set_version_unique")]
        verbose_name = _("feature set")
        verbose_name_plural = _("feature sets")

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None


class FeatureSetItem(models.Model):
    feature_set = models.ForeignKey(
        FeatureSet, on_delete=models.CASCADE, related_name="items", verbose_name=_("feature set")
    )
    feature_version = models.ForeignKey(
        FeatureVersion, on_delete=models.PROTECT, related_name="+", verbose_name=_("feature version")
    )
    position = models.PositiveIntegerField(_("position"))

    class Meta:
        ordering = ["feature_set", "position"]
        verbose_name = _("feature set item")
        verbose_name_plural = _("feature set items")
        constraints = [
            models.UniqueConstraint(
                fields=["feature_set", "feature_version"], name="feature_set_item_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}: {self.feature_version}"
