"""A version's lifecycle: promote, roll back, deprecate, archive the model, flag for review
and clear the flag; every change is appended to the model's trail (``VersionEvent``)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from apps.core.trail import trail_changed, trail_context

from ..errors import ConcurrentChange, LifecycleError, ReasonRequired
from ..labels import version_status_label
from ..models import (
    ACTIVATING_ACTIONS,
    EventAction,
    Model,
    ModelStatus,
    ModelVersion,
    PromotionRequest,
    RequestStatus,
    VersionEvent,
    VersionStatus,
)


def event_record(
    *,
    version: ModelVersion,
    action: str,
    from_status: str,
    user,
    reason: str,
    previous: ModelVersion | None = None,
    details: dict | None = None,
) -> VersionEvent:
    """Append one change of ``version`` to its model's trail (the status it has now is the new one)."""
    return VersionEvent.objects.create(
        model_id=version.model_id,
        version=version,
        action=action,
        from_status=from_status,
        to_status=version.status,
        previous_active=previous,
        reason=reason,
        details=details or {},
        actor=user,
        created_at=timezone.now(),
    )


def _reason_given(reason: str) -> str:
    """The trail keeps why every change of what serves was made: no reason, no change."""
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired(gettext("Give a reason: it is kept in the model's audit trail."))
    return reason


def version_activate(
    *, version: ModelVersion, user, reason: str, action: str = "promote", details: dict | None = None
) -> ModelVersion:
    """Make ``version`` its model's active version; the previous active one becomes inactive.

    Atomic: the model row is locked and a partial unique constraint allows one active
    version per model, so concurrent promotions serialise or fail with ConcurrentChange.
    """
    reason = _reason_given(reason)
    if version.status == VersionStatus.DEPRECATED:
        raise LifecycleError(
            gettext("%(version)s is deprecated; it cannot be made active.") % {"version": version}
        )
    if version.status == VersionStatus.ACTIVE:
        raise LifecycleError(gettext("%(version)s is already active.") % {"version": version})
    try:
        with transaction.atomic(), trail_context(reason=reason):
            model = Model.objects.select_for_update().get(pk=version.model_id)
            if model.status == ModelStatus.ARCHIVED:
                raise LifecycleError(
                    gettext("%(model)s is archived; its versions cannot be made active.") % {"model": model}
                )
            # Read under the lock, before the active version is touched: a promotion of the
            # same version that won the lock first has made it active, and this one must
            # lose (409), not demote it and record it as replacing itself.
            from_status = ModelVersion.objects.get(pk=version.pk).status
            if from_status in (VersionStatus.ACTIVE, VersionStatus.DEPRECATED):
                raise LifecycleError(
                    gettext("%(version)s is %(status)s now.")
                    % {"version": version, "status": version_status_label(from_status)}
                )
            if model.ab_version_id == version.pk:  # the challenger takes all the traffic now
                Model.objects.filter(pk=model.pk).update(ab_version=None, ab_percent=0)
                trail_changed(model, ab_version=(version.pk, None), ab_percent=(model.ab_percent, 0))
            previous = ModelVersion.objects.filter(
                model_id=version.model_id, status=VersionStatus.ACTIVE
            ).first()
            if previous is not None:
                ModelVersion.objects.filter(pk=previous.pk).update(status=VersionStatus.INACTIVE)
                previous.status = VersionStatus.INACTIVE
                trail_changed(previous, status=(VersionStatus.ACTIVE, VersionStatus.INACTIVE))
            ModelVersion.objects.filter(pk=version.pk).update(status=VersionStatus.ACTIVE)
            version.status = VersionStatus.ACTIVE
            trail_changed(version, status=(from_status, VersionStatus.ACTIVE))
            Model.objects.filter(pk=version.model_id).update(status=ModelStatus.DEPLOYED)
            trail_changed(model, status=(model.status, ModelStatus.DEPLOYED))
            event_record(
                version=version,
                action=action,
                from_status=from_status,
                user=user,
                reason=reason,
                previous=previous,
                details=details,
            )
    except IntegrityError as exc:
        raise ConcurrentChange(
            gettext("The active version of %(model)s changed meanwhile; try again.")
            % {"model": version.model}
        ) from exc
    return version


def model_rollback(
    *, model: Model, user, reason: str, to_version: ModelVersion | None = None
) -> ModelVersion:
    """Re-activate ``to_version``, or the version that was active before the current one."""
    reason = _reason_given(reason)
    if to_version is None:
        current = model.versions.filter(status=VersionStatus.ACTIVE).first()
        last = (
            VersionEvent.objects.filter(
                model=model,
                action__in=ACTIVATING_ACTIONS,
                to_status=VersionStatus.ACTIVE,
                previous_active__isnull=False,
            )
            .exclude(previous_active=current)
            .order_by("-created_at", "-id")
            .first()
        )
        if current is None or last is None or last.version_id != current.pk:
            raise LifecycleError(
                gettext("%(model)s has no earlier active version to roll back to.") % {"model": model}
            )
        to_version = last.previous_active
    if to_version.model_id != model.pk:
        raise LifecycleError(
            gettext("%(version)s is not a version of %(model)s.") % {"version": to_version, "model": model}
        )
    return version_activate(version=to_version, user=user, reason=reason, action=EventAction.ROLLBACK)


def version_deprecate(*, version: ModelVersion, user, reason: str) -> ModelVersion:
    """Retire a version that is not active (roll back or promote another one first)."""
    reason = _reason_given(reason)
    with transaction.atomic(), trail_context(reason=reason):
        from_status = ModelVersion.objects.select_for_update().get(pk=version.pk).status
        if from_status == VersionStatus.ACTIVE:
            raise LifecycleError(
                gettext("%(version)s is active; promote or roll back to another version first.")
                % {"version": version}
            )
        if from_status == VersionStatus.DEPRECATED:
            raise LifecycleError(gettext("%(version)s is already deprecated.") % {"version": version})
        ModelVersion.objects.filter(pk=version.pk).update(status=VersionStatus.DEPRECATED)
        version.status = VersionStatus.DEPRECATED
        trail_changed(version, status=(from_status, VersionStatus.DEPRECATED))
        event_record(
            version=version, action=EventAction.DEPRECATE, from_status=from_status, user=user, reason=reason
        )
    return version


def model_archive(*, model: Model, user, reason: str) -> Model:
    """Retire a whole model: its active version stops serving, nothing can be promoted again."""
    reason = _reason_given(reason)
    with transaction.atomic(), trail_context(reason=reason):
        model = Model.objects.select_for_update().get(pk=model.pk)
        if model.status == ModelStatus.ARCHIVED:
            raise LifecycleError(gettext("%(model)s is already archived.") % {"model": model})
        active = model.versions.filter(status=VersionStatus.ACTIVE).first()
        latest = active or model.versions.order_by("-version").first()
        if active is not None:
            ModelVersion.objects.filter(pk=active.pk).update(status=VersionStatus.INACTIVE)
            active.status = VersionStatus.INACTIVE
            trail_changed(active, status=(VersionStatus.ACTIVE, VersionStatus.INACTIVE))
        Model.objects.filter(pk=model.pk).update(status=ModelStatus.ARCHIVED, ab_version=None, ab_percent=0)
        trail_changed(
            model,
            status=(model.status, ModelStatus.ARCHIVED),
            ab_version=(model.ab_version_id, None),
            ab_percent=(model.ab_percent, 0),
        )
        pending = list(PromotionRequest.objects.filter(version__model=model, status=RequestStatus.PENDING))
        withdrawn = gettext("The model was archived.")
        PromotionRequest.objects.filter(pk__in=[r.pk for r in pending]).update(
            status=RequestStatus.WITHDRAWN, decided_at=timezone.now(), decision_reason=withdrawn
        )
        for request in pending:
            trail_changed(
                request,
                status=(RequestStatus.PENDING, RequestStatus.WITHDRAWN),
                decision_reason=(request.decision_reason, withdrawn),
            )
        if latest is not None:
            event_record(
                version=latest,
                action=EventAction.ARCHIVE,
                from_status=VersionStatus.ACTIVE if active else latest.status,
                user=user,
                reason=reason,
                previous=active,
            )
        model.refresh_from_db()
    return model


def version_flag(*, version: ModelVersion, reason: str, details: dict | None = None, user=None) -> bool:
    """Mark a version for review (monitoring found drift or a metric past its threshold).

    Returns False, recording nothing new, when it is already flagged.
    """
    with transaction.atomic(), trail_context(reason=reason):
        before = ModelVersion.objects.filter(pk=version.pk).values_list("review_reason", flat=True).first()
        flagged = ModelVersion.objects.filter(pk=version.pk, review_required=False).update(
            review_required=True, review_reason=reason
        )
        if flagged:
            version.refresh_from_db()
            trail_changed(version, review_required=(False, True), review_reason=(before, reason))
            event_record(
                version=version,
                action=EventAction.FLAG,
                from_status=version.status,
                user=user,
                reason=reason,
                details=details,
            )
    return bool(flagged)


def version_review_clear(*, version: ModelVersion, user, reason: str) -> ModelVersion:
    """An admin has looked at a flagged version; the flag goes, the trail keeps both."""
    with transaction.atomic(), trail_context(reason=reason):
        if not ModelVersion.objects.filter(pk=version.pk, review_required=True).update(review_required=False):
            raise LifecycleError(gettext("%(version)s is not marked for review.") % {"version": version})
        version.refresh_from_db()
        trail_changed(version, review_required=(True, False))
        event_record(
            version=version, action=EventAction.REVIEW, from_status=version.status, user=user, reason=reason
        )
    return version
