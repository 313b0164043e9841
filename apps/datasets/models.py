"""Datasets: a named dataset, its immutable versions (files), and bank-record lines."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .bank_issues import WARNINGS


class DatasetKind(models.TextChoices):
    TABULAR = "tabular", _("Tabular")
    BANK_RECORDS = "bank_records", _("Bank records")


class DatasetStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    VALIDATING = "validating", _("Validating")
    VALIDATED = "validated", _("Validated")
    ERROR = "error", _("Error")


class DatasetFormat(models.TextChoices):
    CSV = "csv", "CSV"
    TXT = "txt", _("Delimited text")
    XLSX = "xlsx", _("Excel (.xlsx)")


class CodeScheme(models.TextChoices):
    """How a bank-records dataset's codes are read (see ``apps.datasets.codes``)."""

    AUTO = "auto", _("Detected per line")
    CNAPS = "cnaps", _("CNAPS (12 digits)")
    BIC = "bic", _("BIC / SWIFT (ISO 9362)")
    NATIONAL = "national", _("National bank code")


class WarningRule(models.TextChoices):
    """The warning kinds of ``apps.datasets.bank_issues.WARNINGS``, which an admin may turn
    into errors for one dataset."""

    CODE_NORMALISED = "code_normalised", _("Code rewritten (full-width digits, spaces, lower case)")
    SCHEME_MIXED = "scheme_mixed", _("Code in another scheme than most lines")
    CATEGORY_MISMATCH = "category_mismatch", _("Clearing code of another bank category")
    DUPLICATE_NAME = "duplicate_name", _("Bank name already on an earlier line")
    COUNTRY_UNKNOWN = "country_unknown", _("Country not in ISO 3166-1")
    COUNTRY_MISMATCH = "country_mismatch", _("Country differs from the code's")


assert set(WarningRule.values) == set(WARNINGS), "WarningRule must list bank_issues.WARNINGS"


class Dataset(models.Model):
    """A named dataset. Each upload under its name is a new, immutable version."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=DatasetKind.choices, db_index=True)
    description = models.TextField(_("description"), blank=True)
    code_scheme = models.CharField(
        _("code scheme"),
        max_length=10,
        choices=CodeScheme.choices,
        default=CodeScheme.AUTO,
        help_text=_("Bank records: the scheme of the codes, or detected per line."),
    )
    error_rules = models.JSONField(
        _("warnings treated as errors"),
        default=list,
        blank=True,
        help_text=_(
            "Bank records: warning kinds that make a line invalid. Validate a version again to apply."
        ),
    )
    is_archived = models.BooleanField(_("archived"), default=False, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="datasets",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        verbose_name = _("dataset")
        verbose_name_plural = _("datasets")

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

    dataset = models.ForeignKey(
        Dataset, on_delete=models.CASCADE, related_name="versions", verbose_name=_("dataset")
    )
    version = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=DatasetStatus.choices,
        default=DatasetStatus.UPLOADED,
        db_index=True,
    )
    format = models.CharField(_("format"), max_length=10, choices=DatasetFormat.choices)
    original_filename = models.CharField(_("original file name"), max_length=255)
    file = models.FileField(_("file"), upload_to="datasets/", max_length=255)
    file_size = models.BigIntegerField(_("file size"))
    sha256 = models.CharField("SHA-256", max_length=64, unique=True)
    parquet = models.FileField(_("columnar copy"), upload_to="datasets/", max_length=255, blank=True)
    declared_encoding = models.CharField(_("declared encoding"), max_length=30, blank=True)
    encoding = models.CharField(_("encoding"), max_length=30, blank=True)
    delimiter = models.CharField(_("delimiter"), max_length=4, blank=True)
    label_column = models.CharField(_("label column"), max_length=200, blank=True)
    time_column = models.CharField(_("time column"), max_length=200, blank=True)
    key_columns = models.JSONField(_("key columns"), default=list, blank=True)
    row_count = models.BigIntegerField(_("rows"), null=True, blank=True)
    column_count = models.PositiveIntegerField(_("columns"), null=True, blank=True)
    valid_count = models.BigIntegerField(_("valid lines"), null=True, blank=True)
    invalid_count = models.BigIntegerField(_("invalid lines"), null=True, blank=True)
    validation_result = models.JSONField(_("validation result"), null=True, blank=True)
    quality = models.JSONField(_("quality report"), null=True, blank=True)
    quality_score = models.FloatField(_("quality score"), null=True, blank=True)
    progress = models.FloatField(_("progress"), default=0)
    error_message = models.TextField(_("error message"), blank=True)
    # The ingestion task that validates (or last validated) this version: the work queue
    # claims, retries, reaps and cancels it; ``status`` and ``progress`` follow it.
    task = models.ForeignKey(
        "tasks.Task",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("validation task"),
    )
    is_archived = models.BooleanField(_("archived"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="dataset_versions",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    validated_at = models.DateTimeField(_("validated at"), null=True, blank=True)

    class Meta:
        ordering = ["dataset", "-version"]
        verbose_name = _("dataset version")
        verbose_name_plural = _("dataset versions")
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

    ``problems`` (what makes the line invalid) and ``warnings`` hold ``[kind, params]``
    pairs (``apps.datasets.bank_issues``), NULL when none, shown in the reader's language;
    ``error_message`` keeps the problems in English for search; ``issue_kinds`` lists the
    kinds of both as ",kind,kind," so that lines can be filtered by kind.

    Written only by the validation service, with one COPY inside the version's final
    transaction. The table carries a single index and no database-level foreign key:
    measured on a 150,000-line COPY, the per-row FK check and the extra indexes cost
    about 2 s of a 3.4 s insert. Deletion still cascades through the ORM.
    """

    version = models.ForeignKey(
        DatasetVersion,
        on_delete=models.CASCADE,
        related_name="records",
        db_constraint=False,
        db_index=False,
        verbose_name=_("dataset version"),
    )
    line_number = models.PositiveIntegerField(_("line"))
    bank_name = models.CharField(_("bank name"), max_length=200, blank=True)
    bank_code = models.CharField(_("bank code"), max_length=50, blank=True)
    clearing_code = models.CharField(_("clearing code"), max_length=50, blank=True)
    # Database defaults too: rows written by a COPY that names only the older columns stay valid.
    scheme = models.CharField(
        _("code scheme"), max_length=10, blank=True, choices=CodeScheme.choices[1:], default="", db_default=""
    )
    country = models.CharField(_("country"), max_length=60, blank=True, default="", db_default="")
    city = models.CharField(_("city"), max_length=100, blank=True, default="", db_default="")
    bic = models.CharField(_("BIC / SWIFT code"), max_length=50, blank=True, default="", db_default="")
    address = models.CharField(_("address"), max_length=300, blank=True, default="", db_default="")
    fields = models.JSONField(
        _("other columns"), null=True, blank=True, help_text=_("Other columns of the line, if any.")
    )
    is_valid = models.BooleanField(_("valid"))
    error_message = models.TextField(_("error message"), blank=True)
    # NULL when the line has none: most lines, and a NULL costs the COPY nothing.
    problems = models.JSONField(_("problems"), null=True, blank=True)
    warnings = models.JSONField(_("warnings"), null=True, blank=True)
    issue_kinds = models.CharField(_("issue kinds"), max_length=400, blank=True, default="", db_default="")

    class Meta:
        ordering = ["version", "line_number"]
        verbose_name = _("bank record")
        verbose_name_plural = _("bank records")
        indexes = [
            # Serves "lines of a version", "invalid lines of a version", both in line order.
            models.Index(fields=["version", "is_valid", "line_number"], name="dataset_record_validity"),
        ]

    def __str__(self) -> str:
        return _("line %(number)s") % {"number": self.line_number}
