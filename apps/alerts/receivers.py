"""Registry events (``apps.models.VersionEvent`` rows) published to subscribed webhooks."""

from __future__ import annotations

from typing import Any

from apps.models.models import EventAction, VersionEvent, VersionStatus

from .models import WebhookEvent

# A lifecycle action and the webhook events it is; an approval also makes its version active.
EVENTS_OF_ACTION: dict[str, tuple[str, ...]] = {
    EventAction.REGISTER: (WebhookEvent.VERSION_REGISTERED,),
    EventAction.PROMOTE: (WebhookEvent.VERSION_PROMOTED,),
    EventAction.GATE: (WebhookEvent.VERSION_PROMOTED,),
    EventAction.APPROVE: (WebhookEvent.VERSION_APPROVED, WebhookEvent.VERSION_PROMOTED),
    EventAction.ROLLBACK: (WebhookEvent.VERSION_ROLLED_BACK,),
    EventAction.FLAG: (WebhookEvent.VERSION_FLAGGED,),
}


def version_event_payload(event: VersionEvent) -> dict[str, Any]:
    version = event.version
    return {
        "model": {"id": event.model_id, "name": version.model.name},
        "version": {"id": version.pk, "version": version.version, "status": version.status},
        "action": event.action,
        "fromStatus": event.from_status,
        "toStatus": event.to_status,
        "previousActiveId": event.previous_active_id,
        "reason": event.reason,
        "actor": event.actor.get_username() if event.actor_id else None,
        "at": event.created_at.isoformat(),
    }


def version_event_saved(sender, instance: VersionEvent, created: bool, raw: bool = False, **kwargs) -> None:
    if not created or raw:
        return
    events = EVENTS_OF_ACTION.get(instance.action, ())
    if instance.action == EventAction.GATE and instance.to_status != VersionStatus.ACTIVE:
        events = ()  # the challenger lost: nothing was promoted
    if not events:
        return
    from .services import event_publish

    payload = version_event_payload(instance)
    for event in events:
        event_publish(event=event, payload=payload, model_id=instance.model_id)
