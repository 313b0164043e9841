"""Model registry: a model and its versions with signed artifacts and lineage."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# Who may change a version's or a model's lifecycle (promote, roll back, deprecate, archive,
# A/B, decide on promotion requests), in the API, the analyst pages and the admin alike.
LIFECYCLE_PERM = "models.change_modelversion"


class ModelType(models.TextChoices):
    CLASSIFICATION = "classification", pgettext_lazy("model type", "Classification")
    REGRESSION = "regression", pgettext_lazy("model type", "Regression")
    RETRIEVAL = "retrieval", pgettext_lazy("model type", "Retrieval")


class ModelStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("model status", "Draft")
    TRAINING = "training", pgettext_lazy("model status", "Training")
    EVALUATING = "evaluating", pgettext_lazy("model status", "Evaluating")
    DEPLOYED = "deployed", pgettext_lazy("model status", "Deployed")
    ARCHIVED = "archived", pgettext_lazy("model status", "Archived")


class VersionStatus(models.TextChoices):
    REGISTERED = "registered", pgettext_lazy("version status", "Registered")
    TESTING = "testing", pgettext_lazy("version status", "Testing")
    ACTIVE = "active", pgettext_lazy("version status", "Active")
    INACTIVE = "inactive", pgettext_lazy("version status", "Inactive")
    DEPRECATED = "deprecated", pgettext_lazy("version status", "Deprecated")


class Model(models.Model):
    """A named model; its versions carry the artifacts."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    type = models.CharField(_("type"), max_length=20, choices=ModelType.choices, db_index=True)
    algorithm = models.CharField(_("algorithm"), max_length=50, db_index=True)
    description = models.TextField(_("description"), blank=True)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=ModelStatus.choices, default=ModelStatus.DRAFT, db_index=True
    )
    # A/B: this share (0-100 %) of the traffic goes to ``ab_version``, the rest to the
    # active version; a request's entity key picks its side the same way every time.
    ab_version = models.ForeignKey(
        "ModelVersion",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("A/B version"),
    )
    ab_percent = models.PositiveSmallIntegerField(_("A/B share (%)"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("model")
        verbose_name_plural = _("models")
        constraints = [
            models.CheckConstraint(condition=Q(ab_percent__lte=100), name="model_ab_percent_max_100"),
        ]

    def __str__(self) -> str:
        return self.name


class VersionSource(models.TextChoices):
    TRAINED = "trained", pgettext_lazy("version source", "Trained")
    UPLOADED = "uploaded", pgettext_lazy("version source", "Uploaded")


class ModelVersion(models.Model):
    """One trained (or uploaded) model with its artifact, metrics and lineage.

    ``task`` is one-to-one: a training task delivered twice still registers one version.
    Lineage foreign keys PROTECT what they point at, so the data behind a version cannot
    be deleted while the version exists.
    """

    model = models.ForeignKey(
        Model, on_delete=models.PROTECT, related_name="versions", verbose_name=_("model")
    )
    version = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=VersionStatus.choices,
        default=VersionStatus.REGISTERED,
        db_index=True,
    )
    changelog = models.TextField(_("changelog"), blank=True)
    algorithm = models.CharField(_("algorithm"), max_length=50)
    objective = models.CharField(_("objective"), max_length=20, blank=True)
    metrics = models.JSONField(_("metrics"), default=dict, blank=True)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    test_results = models.JSONField(_("test results"), null=True, blank=True)
    source = models.CharField(
        _("source"), max_length=20, choices=VersionSource.choices, default=VersionSource.TRAINED
    )
    # Set by monitoring (drift, a metric past its threshold) until someone reviews it.
    review_required = models.BooleanField(_("review required"), default=False, db_index=True)
    review_reason = models.TextField(_("review reason"), blank=True)

    artifact = models.FileField(_("artifact"), upload_to="models/", max_length=255)
    artifact_format = models.CharField(_("artifact format"), max_length=20)
    size = models.BigIntegerField(_("size"))
    checksum = models.CharField(_("checksum"), max_length=64)
    signature = models.CharField(_("signature"), max_length=64)
    feature_schema = models.JSONField(
        _("feature schema"),
        default=dict,
        blank=True,
        help_text=_("Features, categorical levels, label classes: what scoring needs."),
    )

    # A scorecard's card: every feature's bins with counts, event rates, WOE, IV and points.
    card = models.JSONField(_("scorecard"), null=True, blank=True)
    # The version this one was refitted from (a scorecard with bins edited), the edits in training_info.
    derived_from = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="derived_versions",
        verbose_name=_("derived from"),
    )
    # The reference population a linear model's reasons compare records with, when the training
    # named one: its dataset version and rows (the figures travel in the artifact).
    reasons_reference = models.JSONField(_("reasons reference"), null=True, blank=True)

    task = models.OneToOneField(
        "tasks.Task",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="model_version",
        verbose_name=_("task"),
    )
    dataset_version = models.ForeignKey(
        "datasets.DatasetVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="model_versions",
        verbose_name=_("dataset version"),
    )
    dataset_sha256 = models.CharField(_("dataset sha256"), max_length=64, blank=True)
    feature_set = models.ForeignKey(
        "features.FeatureSet",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="model_versions",
        verbose_name=_("feature set"),
    )
    seed = models.BigIntegerField(_("seed"), null=True, blank=True)
    library_versions = models.JSONField(_("library versions"), default=dict, blank=True)
    training_info = models.JSONField(
        _("training info"),
        default=dict,
        blank=True,
        help_text=_("Split, rows, best iteration, fallback: how the run went."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["model", "-version"]
        verbose_name = _("model version")
        verbose_name_plural = _("model versions")
        constraints = [
            models.UniqueConstraint(fields=["model", "version"], name="model_version_unique"),
            models.UniqueConstraint(
                fields=["model"], condition=Q(status="active"), name="model_one_active_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model.name} v{self.version}"


class EventAction(models.TextChoices):
    REGISTER = "register", pgettext_lazy("lifecycle action", "Register")
    PROMOTE = "promote", pgettext_lazy("lifecycle action", "Promote")
    ROLLBACK = "rollback", pgettext_lazy("lifecycle action", "Roll back")
    DEPRECATE = "deprecate", pgettext_lazy("lifecycle action", "Deprecate")
    ARCHIVE = "archive", pgettext_lazy("lifecycle action", "Archive")
    REQUEST = "request", pgettext_lazy("lifecycle action", "Promotion requested")
    APPROVE = "approve", pgettext_lazy("lifecycle action", "Promotion approved")
    REJECT = "reject", pgettext_lazy("lifecycle action", "Promotion rejected")
    GATE = "gate", pgettext_lazy("lifecycle action", "Challenger decision")
    FLAG = "flag", pgettext_lazy("lifecycle action", "Flagged for review")
    REVIEW = "review", pgettext_lazy("lifecycle action", "Review cleared")
    AB = "ab", pgettext_lazy("lifecycle action", "A/B split changed")


# Events that change which version is active: a promotion (direct, approved or by the
# gate) or a rollback makes its version active; archiving leaves none active.
ACTIVATING_ACTIONS = (EventAction.PROMOTE, EventAction.ROLLBACK, EventAction.APPROVE, EventAction.GATE)


class VersionEvent(models.Model):
    """Append-only audit trail of a model's lifecycle: who changed what, when, why, from and to.

    Rows are never updated or deleted; "which version was active at time T" is read from them.
    """

    model = models.ForeignKey(Model, on_delete=models.PROTECT, related_name="events", verbose_name=_("model"))
    version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="events", verbose_name=_("version")
    )
    action = models.CharField(_("action"), max_length=20, choices=EventAction.choices)
    from_status = models.CharField(_("from status"), max_length=20, blank=True)
    to_status = models.CharField(_("to status"), max_length=20)
    previous_active = models.ForeignKey(
        ModelVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("previously active"),
    )
    reason = models.TextField(_("reason"), blank=True)
    details = models.JSONField(
        _("details"),
        default=dict,
        blank=True,
        help_text=_("Figures behind the change (gate metrics, drift)."),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    created_at = models.DateTimeField(_("created at"), db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("lifecycle event")
        verbose_name_plural = _("lifecycle events")

    def __str__(self) -> str:
        return f"{self.model.name} v{self.version.version} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("version events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("version events are append-only")


class RequestStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("promotion request status", "Pending")
    APPROVED = "approved", pgettext_lazy("promotion request status", "Approved")
    REJECTED = "rejected", pgettext_lazy("promotion request status", "Rejected")
    WITHDRAWN = "withdrawn", pgettext_lazy("promotion request status", "Withdrawn")


class PromotionRequest(models.Model):
    """Maker-checker: a promotion waiting for a different admin's approval."""

    version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="promotion_requests", verbose_name=_("version")
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=RequestStatus.choices,
        default=RequestStatus.PENDING,
        db_index=True,
    )
    reason = models.TextField(_("reason"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("decision reason"), blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("promotion request")
        verbose_name_plural = _("promotion requests")
        constraints = [
            models.UniqueConstraint(
                fields=["version"], condition=Q(status="pending"), name="promotion_one_pending_per_version"
            ),
        ]

    def __str__(self) -> str:
        return _("Promote %(version)s (%(status)s)") % {
            "version": self.version,
            "status": self.get_status_display(),
        }


class PredictionLog(models.Model):
    """A sampled prediction request: which version answered, what, how fast."""

    model = models.ForeignKey(
        Model, on_delete=models.CASCADE, related_name="prediction_logs", verbose_name=_("model")
    )
    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="prediction_logs", verbose_name=_("version")
    )
    request_id = models.CharField(_("request ID"), max_length=64, db_index=True)
    records = models.PositiveIntegerField(_("records"))
    arm = models.CharField(
        _("A/B side"), max_length=20, blank=True, help_text=_("A/B side: active or challenger.")
    )
    entity_key = models.CharField(_("entity key"), max_length=200, blank=True)
    inputs = models.JSONField(_("inputs"), help_text=_("The first records of the request (up to 5)."))
    scores = models.JSONField(_("scores"), help_text=_("Their scores."))
    reasons = models.JSONField(
        _("reasons"), null=True, blank=True, help_text=_("Their reason codes, where the model gives them.")
    )
    latency_ms = models.FloatField(_("latency (ms)"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    created_at = models.DateTimeField(_("created at"), db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("prediction log")
        verbose_name_plural = _("prediction logs")

    def __str__(self) -> str:
        return f"{self.request_id} {self.version}"


class Decision(models.Model):
    """One scored record as it was decided: inputs, score, reasons, version and caller.

    Every record of every online prediction is kept (the decision log), written in bulk off
    the request path. ``model`` and ``version`` carry no database constraint so the log can
    be written by COPY and partitioned by month on PostgreSQL; a version is never deleted
    while it has decisions (the registry archives, it does not delete).
    """

    model = models.ForeignKey(
        Model,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("model"),
    )
    version = models.ForeignKey(
        ModelVersion,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("version"),
    )
    request_id = models.CharField(_("request ID"), max_length=64)
    position = models.PositiveIntegerField(_("position"), help_text=_("The record's place in its request."))
    arm = models.CharField(_("A/B side"), max_length=20, blank=True)
    entity_key = models.CharField(_("entity key"), max_length=200, blank=True)
    caller = models.CharField(
        _("caller"), max_length=150, blank=True, help_text=_("Who asked: the account name.")
    )
    inputs = models.JSONField(_("inputs"))
    score = models.FloatField(
        _("score"),
        null=True,
        blank=True,
        help_text=_("Binary: probability of the event; regression: the value."),
    )
    output = models.JSONField(
        _("output"),
        null=True,
        blank=True,
        help_text=_("What else the model answered: class probabilities, scorecard points."),
    )
    reasons = models.JSONField(_("reasons"), null=True, blank=True)
    created_at = models.DateTimeField(_("decided at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("decision")
        verbose_name_plural = _("decision log")
        indexes = [
            models.Index(fields=["entity_key", "created_at"], name="decision_entity_time"),
            models.Index(fields=["request_id"], name="decision_request"),
            models.Index(fields=["version", "created_at"], name="decision_version_time"),
            models.Index(fields=["created_at"], name="decision_time"),
        ]

    def __str__(self) -> str:
        return f"{self.request_id}#{self.position} {self.entity_key}"


class BatchPrediction(models.Model):
    """Scores of a whole dataset version, computed by a prediction task, as a CSV file."""

    task = models.OneToOneField(
        "tasks.Task", on_delete=models.PROTECT, related_name="batch_prediction", verbose_name=_("task")
    )
    version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="batch_predictions", verbose_name=_("version")
    )
    dataset_version = models.ForeignKey(
        "datasets.DatasetVersion",
        on_delete=models.PROTECT,
        related_name="batch_predictions",
        verbose_name=_("dataset version"),
    )
    file = models.FileField(_("file"), upload_to="predictions/", max_length=255)
    rows = models.PositiveIntegerField(_("rows"))
    size = models.BigIntegerField(_("size"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("batch prediction")
        verbose_name_plural = _("batch predictions")

    def __str__(self) -> str:
        return _("%(version)s on %(dataset)s") % {"version": self.version, "dataset": self.dataset_version}


class ReasonText(models.Model):
    """The reason dictionary: what a reason code says to the applicant, in Chinese and English.

    A row names a feature (and optionally one of its bins) for one model, or for every model
    when ``model`` is empty; the most specific row wins.
    """

    model = models.ForeignKey(
        Model,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reason_texts",
        verbose_name=_("model"),
        help_text=_("Empty: every model with this feature."),
    )
    feature = models.CharField(_("feature"), max_length=100, db_index=True)
    bin_label = models.CharField(
        _("bin"), max_length=200, blank=True, help_text=_("Empty: any bin or value of the feature.")
    )
    code = models.CharField(_("reason code"), max_length=20)
    text_zh = models.CharField(_("text (Chinese)"), max_length=300)
    text_en = models.CharField(_("text (English)"), max_length=300)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["feature", "bin_label", "id"]
        verbose_name = _("reason text")
        verbose_name_plural = _("reason dictionary")
        constraints = [
            models.UniqueConstraint(
                fields=["model", "feature", "bin_label"],
                condition=Q(model__isnull=False),
                name="reason_text_unique_per_model",
            ),
            models.UniqueConstraint(
                fields=["feature", "bin_label"],
                condition=Q(model__isnull=True),
                name="reason_text_unique_global",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.feature}"
