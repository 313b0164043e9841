"""The feature center: features, their versions, tags and feature sets."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Value
from django.db.models.functions import Concat, Lower

# Unicode word characters, not starting with a digit: column headers in Chinese are common.
FEATURE_NAME_RE = r"^[^\W\d]\w{0,99}$"


class FeatureType(models.TextChoices):
    NUMERICAL = "numerical", "Numerical"
    CATEGORICAL = "categorical", "Categorical"
    TEXT = "text", "Text"
    DATETIME = "datetime", "Datetime"


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Feature(models.Model):
    """A named feature. Its definition is versioned; descriptive fields are edited in place."""

    name = models.CharField(max_length=100, unique=True)
    display_name = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    type = models.CharField(max_length=20, choices=FeatureType.choices, db_index=True)
    data_type = models.CharField(max_length=50, blank=True)
    shape = models.JSONField(default=list, blank=True)
    version = models.PositiveIntegerField(default=1)
    tags = models.ManyToManyField(Tag, related_name="features", blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="features"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
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

    def __str__(self) -> str:
        return self.name

    def current_version(self) -> FeatureVersion | None:
        return self.versions.filter(version=self.version).first()


class FeatureVersion(models.Model):
    """The definition of a feature at one version, with statistics from a dataset version."""

    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    type = models.CharField(max_length=20, choices=FeatureType.choices)
    data_type = models.CharField(max_length=50, blank=True)
    shape = models.JSONField(default=list, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    statistics = models.JSONField(null=True, blank=True)
    dataset_version = models.ForeignKey(
        "datasets.DatasetVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="feature_versions",
    )
    source_column = models.CharField(max_length=200, blank=True)
    change_note = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["feature", "-version"]
        constraints = [models.UniqueConstraint(fields=["feature", "version"], name="feature_version_unique")]

    def __str__(self) -> str:
        return f"{self.feature.name} v{self.version}"


class FeatureSet(models.Model):
    """A named, versioned list of feature versions drawn from one dataset version.

    Once a model version uses it (``locked_at`` set by training), it never changes again:
    changes make a new version of the set.
    """

    name = models.CharField(max_length=100)
    version = models.PositiveIntegerField(default=1)
    description = models.TextField(blank=True)
    dataset_version = models.ForeignKey(
        "datasets.DatasetVersion", on_delete=models.PROTECT, related_name="feature_sets"
    )
    label_column = models.CharField(max_length=200, blank=True)
    features = models.ManyToManyField(FeatureVersion, through="FeatureSetItem", related_name="feature_sets")
    locked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [models.UniqueConstraint(fields=["name", "version"], name="feature_set_version_unique")]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None


class FeatureSetItem(models.Model):
    feature_set = models.ForeignKey(FeatureSet, on_delete=models.CASCADE, related_name="items")
    feature_version = models.ForeignKey(FeatureVersion, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["feature_set", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["feature_set", "feature_version"], name="feature_set_item_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}: {self.feature_version}"
