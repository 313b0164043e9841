"""A/B: send a share of a model's traffic to another of its versions."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext

from apps.core.trail import trail_changed, trail_context

from ..errors import LifecycleError
from ..models import EventAction, Model, ModelStatus, ModelVersion, VersionStatus
from .lifecycle import event_record


def ab_set(*, model: Model, version: ModelVersion | None, percent: int, user, reason: str = "") -> Model:
    """Send ``percent`` % of the model's traffic to ``version`` (0 or None ends the split)."""
    if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
        raise LifecycleError(gettext("percent must be an integer between 0 and 100."))
    with transaction.atomic(), trail_context(reason=reason):
        model = Model.objects.select_for_update().get(pk=model.pk)
        if model.status == ModelStatus.ARCHIVED:
            raise LifecycleError(gettext("%(model)s is archived.") % {"model": model})
        active = model.versions.filter(status=VersionStatus.ACTIVE).first()
        if version is None or percent == 0:
            version, percent = None, 0
        else:
            if version.model_id != model.pk:
                raise LifecycleError(
                    gettext("%(version)s is not a version of %(model)s.")
                    % {"version": version, "model": model}
                )
            if active is None:
                raise LifecycleError(
                    gettext("%(model)s has no active version to split traffic with.") % {"model": model}
                )
            if version.pk == active.pk:
                raise LifecycleError(
                    gettext("%(version)s is the active version; choose another one for B.")
                    % {"version": version}
                )
            if version.status == VersionStatus.DEPRECATED:
                raise LifecycleError(gettext("%(version)s is deprecated.") % {"version": version})
        previous = model.ab_version
        Model.objects.filter(pk=model.pk).update(ab_version=version, ab_percent=percent)
        trail_changed(model, ab_version=(previous, version), ab_percent=(model.ab_percent, percent))
        subject = version or previous or active
        if subject is not None:
            event_record(
                version=subject,
                action=EventAction.AB,
                from_status=subject.status,
                user=user,
                reason=reason,
                details={
                    "abVersion": version.version if version else None,
                    "abPercent": percent,
                    "previousAbVersion": previous.version if previous else None,
                    "previousAbPercent": model.ab_percent,
                },
            )
        model.refresh_from_db()
    return model
