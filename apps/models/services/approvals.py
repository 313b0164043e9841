"""Maker-checker: with ``models-promotion-approval`` on, a promotion is a request that a
different admin approves (the version becomes active) or rejects."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from apps.core.config import config_get
from apps.core.trail import trail_changed, trail_context

from ..errors import LifecycleError
from ..models import EventAction, ModelStatus, ModelVersion, PromotionRequest, RequestStatus, VersionStatus
from .lifecycle import event_record, version_activate


def approval_required() -> bool:
    return bool(config_get("models-promotion-approval"))


def promotion_request(*, version: ModelVersion, user, reason: str) -> PromotionRequest:
    """Ask for ``version`` to be promoted; a different admin approves or rejects it."""
    if not reason.strip():
        raise LifecycleError(gettext("A promotion request needs a reason."))
    _check_promotable(version)
    try:
        with transaction.atomic(), trail_context(reason=reason):
            request = PromotionRequest.objects.create(version=version, reason=reason, requested_by=user)
            event_record(
                version=version,
                action=EventAction.REQUEST,
                from_status=version.status,
                user=user,
                reason=reason,
            )
    except IntegrityError:
        raise LifecycleError(
            gettext("A promotion of %(version)s is already waiting for approval.") % {"version": version}
        ) from None
    return request


def _check_promotable(version: ModelVersion) -> None:
    version.refresh_from_db()
    if version.model.status == ModelStatus.ARCHIVED:
        raise LifecycleError(
            gettext("%(model)s is archived; its versions cannot be made active.") % {"model": version.model}
        )
    if version.status in (VersionStatus.ACTIVE, VersionStatus.DEPRECATED):
        raise LifecycleError(
            gettext("%(version)s is %(status)s; it cannot be promoted.")
            % {"version": version, "status": str(version.get_status_display()).lower()}
        )


def _decide(request: PromotionRequest, user) -> PromotionRequest:
    request = PromotionRequest.objects.select_for_update().select_related("version__model").get(pk=request.pk)
    if request.status != RequestStatus.PENDING:
        raise LifecycleError(
            gettext("This request is already %(status)s.")
            % {"status": str(request.get_status_display()).lower()}
        )
    if request.requested_by_id == user.pk:
        raise LifecycleError(gettext("A different admin must decide on a promotion you requested."))
    return request


def promotion_approve(*, request: PromotionRequest, user, reason: str = "") -> ModelVersion:
    """Approve a pending promotion (not your own): the version becomes active."""
    with transaction.atomic(), trail_context(reason=reason or request.reason):
        request = _decide(request, user)
        version = version_activate(
            version=request.version, user=user, reason=reason or request.reason, action=EventAction.APPROVE
        )
        PromotionRequest.objects.filter(pk=request.pk).update(
            status=RequestStatus.APPROVED, decided_by=user, decided_at=timezone.now(), decision_reason=reason
        )
        trail_changed(
            request,
            status=(RequestStatus.PENDING, RequestStatus.APPROVED),
            decided_by=(None, user),
            decision_reason=(request.decision_reason, reason),
        )
    return version


def promotion_reject(*, request: PromotionRequest, user, reason: str) -> PromotionRequest:
    """Reject a pending promotion (not your own); the version keeps its status."""
    if not reason.strip():
        raise LifecycleError(gettext("Say why the promotion is rejected."))
    with transaction.atomic(), trail_context(reason=reason):
        request = _decide(request, user)
        PromotionRequest.objects.filter(pk=request.pk).update(
            status=RequestStatus.REJECTED, decided_by=user, decided_at=timezone.now(), decision_reason=reason
        )
        trail_changed(
            request,
            status=(RequestStatus.PENDING, RequestStatus.REJECTED),
            decided_by=(None, user),
            decision_reason=(request.decision_reason, reason),
        )
        event_record(
            version=request.version,
            action=EventAction.REJECT,
            from_status=request.version.status,
            user=user,
            reason=reason,
        )
        request.refresh_from_db()
    return request
