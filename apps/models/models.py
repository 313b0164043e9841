"""Model registry: a model and its versions with signed artifacts and lineage."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

# Who may change a version's or a model's lifecycle (promote, roll back, deprecate, archive,
# A/B, decide on promotion requests), in the API, the analyst pages and the admin alike.
LIFECYCLE_PERM = "models.change_modelversion"


class ModelType(models.TextChoices):
    CLASSIFICATION = "classification", "Classification"
    REGRESSION = "regression", "Regression"
    RETRIEVAL = "retrieval", "Retrieval"


class ModelStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    TRAINING = "training", "Training"
    EVALUATING = "evaluating", "Evaluating"
    DEPLOYED = "deployed", "Deployed"
    ARCHIVED = "archived", "Archived"


class VersionStatus(models.TextChoices):
    REGISTERED = "registered", "Registered"
    TESTING = "testing", "Testing"
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"
    DEPRECATED = "deprecated", "Deprecated"


class Model(models.Model):
    """A named model; its versions carry the artifacts."""

    name = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=20, choices=ModelType.choices, db_index=True)
    algorithm = models.CharField(max_length=50, db_index=True)
    description = models.TextField(blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=20, choices=ModelStatus.choices, default=ModelStatus.DRAFT, db_index=True
    )
    # A/B: this share (0-100 %) of the traffic goes to ``ab_version``, the rest to the
    # active version; a request's entity key picks its side the same way every time.
    ab_version = models.ForeignKey(
        "ModelVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ab_percent = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(ab_percent__lte=100), name="model_ab_percent_max_100"),
        ]

    def __str__(self) -> str:
        return self.name


class VersionSource(models.TextChoices):
    TRAINED = "trained", "Trained"
    UPLOADED = "uploaded", "Uploaded"


class ModelVersion(models.Model):
    """One trained (or uploaded) model with its artifact, metrics and lineage.

    ``task`` is one-to-one: a training task delivered twice still registers one version.
    Lineage foreign keys PROTECT what they point at, so the data behind a version cannot
    be deleted while the version exists.
    """

    model = models.ForeignKey(Model, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    status = models.CharField(
        max_length=20, choices=VersionStatus.choices, default=VersionStatus.REGISTERED, db_index=True
    )
    changelog = models.TextField(blank=True)
    algorithm = models.CharField(max_length=50)
    objective = models.CharField(max_length=20, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    test_results = models.JSONField(null=True, blank=True)
    source = models.CharField(max_length=20, choices=VersionSource.choices, default=VersionSource.TRAINED)
    # Set by monitoring (drift, a metric past its threshold) until someone reviews it.
    review_required = models.BooleanField(default=False, db_index=True)
    review_reason = models.TextField(blank=True)

    artifact = models.FileField(upload_to="models/", max_length=255)
    artifact_format = models.CharField(max_length=20)
    size = models.BigIntegerField()
    checksum = models.CharField(max_length=64)
    signature = models.CharField(max_length=64)
    feature_schema = models.JSONField(
        default=dict, blank=True, help_text="Features, categorical levels, label classes: what scoring needs."
    )

    task = models.OneToOneField(
        "tasks.Task", on_delete=models.SET_NULL, null=True, blank=True, related_name="model_version"
    )
    dataset_version = models.ForeignKey(
        "datasets.DatasetVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="model_versions",
    )
    dataset_sha256 = models.CharField(max_length=64, blank=True)
    feature_set = models.ForeignKey(
        "features.FeatureSet", on_delete=models.PROTECT, null=True, blank=True, related_name="model_versions"
    )
    seed = models.BigIntegerField(null=True, blank=True)
    library_versions = models.JSONField(default=dict, blank=True)
    training_info = models.JSONField(
        default=dict, blank=True, help_text="Split, rows, best iteration, fallback: how the run went."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["model", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["model", "version"], name="model_version_unique"),
            models.UniqueConstraint(
                fields=["model"], condition=Q(status="active"), name="model_one_active_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model.name} v{self.version}"


class EventAction(models.TextChoices):
    REGISTER = "register", "Register"
    PROMOTE = "promote", "Promote"
    ROLLBACK = "rollback", "Roll back"
    DEPRECATE = "deprecate", "Deprecate"
    ARCHIVE = "archive", "Archive"
    REQUEST = "request", "Promotion requested"
    APPROVE = "approve", "Promotion approved"
    REJECT = "reject", "Promotion rejected"
    GATE = "gate", "Challenger decision"
    FLAG = "flag", "Flagged for review"
    REVIEW = "review", "Review cleared"
    AB = "ab", "A/B split changed"


# Events that change which version is active: a promotion (direct, approved or by the
# gate) or a rollback makes its version active; archiving leaves none active.
ACTIVATING_ACTIONS = (EventAction.PROMOTE, EventAction.ROLLBACK, EventAction.APPROVE, EventAction.GATE)


class VersionEvent(models.Model):
    """Append-only audit trail of a model's lifecycle: who changed what, when, why, from and to.

    Rows are never updated or deleted; "which version was active at time T" is read from them.
    """

    model = models.ForeignKey(Model, on_delete=models.PROTECT, related_name="events")
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=20, choices=EventAction.choices)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    previous_active = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(blank=True)
    details = models.JSONField(
        default=dict, blank=True, help_text="Figures behind the change (gate metrics, drift)."
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.model.name} v{self.version.version} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("version events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("version events are append-only")


class RequestStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"


class PromotionRequest(models.Model):
    """Maker-checker: a promotion waiting for a different admin's approval."""

    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="promotion_requests")
    status = models.CharField(
        max_length=20, choices=RequestStatus.choices, default=RequestStatus.PENDING, db_index=True
    )
    reason = models.TextField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version"], condition=Q(status="pending"), name="promotion_one_pending_per_version"
            ),
        ]

    def __str__(self) -> str:
        return f"Promote {self.version} ({self.status})"


class PredictionLog(models.Model):
    """A sampled prediction request: which version answered, what, how fast."""

    model = models.ForeignKey(Model, on_delete=models.CASCADE, related_name="prediction_logs")
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="prediction_logs")
    request_id = models.CharField(max_length=64, db_index=True)
    records = models.PositiveIntegerField()
    arm = models.CharField(max_length=20, blank=True, help_text="A/B side: active or challenger.")
    entity_key = models.CharField(max_length=200, blank=True)
    inputs = models.JSONField(help_text="The first records of the request (up to 5).")
    scores = models.JSONField(help_text="Their scores.")
    latency_ms = models.FloatField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.request_id} {self.version}"


class BatchPrediction(models.Model):
    """Scores of a whole dataset version, computed by a prediction task, as a CSV file."""

    task = models.OneToOneField("tasks.Task", on_delete=models.PROTECT, related_name="batch_prediction")
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="batch_predictions")
    dataset_version = models.ForeignKey(
        "datasets.DatasetVersion", on_delete=models.PROTECT, related_name="batch_predictions"
    )
    file = models.FileField(upload_to="predictions/", max_length=255)
    rows = models.PositiveIntegerField()
    size = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.version} on {self.dataset_version}"
