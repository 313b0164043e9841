"""Datasets: a named dataset, its immutable versions (files), and bank-record lines."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class DatasetKind(models.TextChoices):
    TABULAR = "tabular", "Tabular"
    BANK_RECORDS = "bank_records", "Bank records"


class DatasetStatus(models.TextChoices):
    UPLOADED = "uploaded", "Uploaded"
    VALIDATING = "validating", "Validating"
    VALIDATED = "validated", "Validated"
    ERROR = "error", "Error"


class DatasetFormat(models.TextChoices):
    CSV = "csv", "CSV"
    TXT = "txt", "Delimited text"
    XLSX = "xlsx", "Excel (.xlsx)"


class Dataset(models.Model):
    """A named dataset. Each upload under its name is a new, immutable version."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=DatasetKind.choices, db_index=True)
    description = models.TextField(blank=True)
    is_archived = models.BooleanField(default=False, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="datasets"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.name

    def latest_version(self) -> DatasetVersion | None:
        return self.versions.order_by("-version").first()


class DatasetVersion(models.Model):
    """One uploaded file of a dataset: original bytes, columnar copy, validation, quality.

    The file is stored under a server-chosen name; ``sha256`` is unique so the same bytes
    are never stored twice. Model lineage points here (with PROTECT), which is what keeps
    a version that a model used from being deleted.
    """

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    status = models.CharField(
        max_length=20, choices=DatasetStatus.choices, default=DatasetStatus.UPLOADED, db_index=True
    )
    format = models.CharField(max_length=10, choices=DatasetFormat.choices)
    original_filename = models.CharField(max_length=255)
    file = models.FileField(upload_to="datasets/", max_length=255)
    file_size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64, unique=True)
    parquet = models.FileField(upload_to="datasets/", max_length=255, blank=True)
    declared_encoding = models.CharField(max_length=30, blank=True)
    encoding = models.CharField(max_length=30, blank=True)
    delimiter = models.CharField(max_length=4, blank=True)
    label_column = models.CharField(max_length=200, blank=True)
    time_column = models.CharField(max_length=200, blank=True)
    key_columns = models.JSONField(default=list, blank=True)
    row_count = models.BigIntegerField(null=True, blank=True)
    column_count = models.PositiveIntegerField(null=True, blank=True)
    valid_count = models.BigIntegerField(null=True, blank=True)
    invalid_count = models.BigIntegerField(null=True, blank=True)
    validation_result = models.JSONField(null=True, blank=True)
    quality = models.JSONField(null=True, blank=True)
    quality_score = models.FloatField(null=True, blank=True)
    progress = models.FloatField(default=0)
    error_message = models.TextField(blank=True)
    # The ingestion task that validates (or last validated) this version: the work queue
    # claims, retries, reaps and cancels it; ``status`` and ``progress`` follow it.
    task = models.ForeignKey("tasks.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    is_archived = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="dataset_versions"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    validated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["dataset", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "version"], name="dataset_version_unique"),
            models.CheckConstraint(
                condition=Q(progress__gte=0, progress__lte=100), name="dataset_progress_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dataset.name} v{self.version}"

    @property
    def kind(self) -> str:
        return self.dataset.kind


class DatasetRecord(models.Model):
    """One line of a bank-records file, valid or not, with the reason when not.

    Written only by the validation service, with one COPY inside the version's final
    transaction. The table carries a single index and no database-level foreign key:
    measured on a 150,000-line COPY, the per-row FK check and the extra indexes cost
    about 2 s of a 3.4 s insert. Deletion still cascades through the ORM.
    """

    version = models.ForeignKey(
        DatasetVersion, on_delete=models.CASCADE, related_name="records", db_constraint=False, db_index=False
    )
    line_number = models.PositiveIntegerField()
    bank_name = models.CharField(max_length=200, blank=True)
    bank_code = models.CharField(max_length=50, blank=True)
    clearing_code = models.CharField(max_length=50, blank=True)
    fields = models.JSONField(null=True, blank=True, help_text="Other columns of the line, if any.")
    is_valid = models.BooleanField()
    error_message = models.TextField(blank=True)

    class Meta:
        ordering = ["version", "line_number"]
        indexes = [
            # Serves "lines of a version", "invalid lines of a version", both in line order.
            models.Index(fields=["version", "is_valid", "line_number"], name="dataset_record_validity"),
        ]

    def __str__(self) -> str:
        return f"line {self.line_number}"
