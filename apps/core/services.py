"""Writes of the core domain: settings, audit purge, liveness rows, worker pings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from . import sealing
from .config import DECLARED, config_get, config_invalidate
from .errors import NotFound
from .models import ApiAuditLog, SystemConfig, WorkerHeartbeat, WorkerPing, coerce_config_value

PURGE_BATCH = 5000


def system_config_update(*, config: SystemConfig, value: Any, user=None) -> SystemConfig:
    """Set a setting's value after checking it against its type and declared range."""
    config.value = coerce_config_value(config.value_type, value, key=config.key)
    config.updated_by = user
    config.save(update_fields=["value", "updated_by", "updated_at"])
    # Now for this process, and again at commit so no reader re-caches the old value.
    config_invalidate(config.key)
    transaction.on_commit(lambda: config_invalidate(config.key))
    return config


def system_config_edit(*, key: str, value: Any, user) -> SystemConfig:
    """A person's edit of setting ``key`` (the settings page): checked and saved by
    ``system_config_update`` and recorded in the admin's change history as the admin records
    its own edits, so both appear in one trail. A declared key without a row gets one made
    from its declaration; a refused value (ValidationError) leaves nothing behind.
    """
    from django.contrib.admin.models import ADDITION, CHANGE, LogEntry

    with transaction.atomic():
        config = SystemConfig.objects.select_for_update().filter(key=key).first()
        created = config is None
        if created:
            declared = DECLARED.get(key)
            if declared is None:
                raise NotFound(f"No setting {key!r}.")
            config = SystemConfig.objects.create(
                key=key,
                value_type=declared.value_type,
                value=declared.default,
                description=str(declared.description)[:255],
                is_secret=declared.is_secret,
            )
        config = system_config_update(config=config, value=value, user=user)
        # The admin's own change message for this form (see SystemConfigAdmin).
        message = [{"added": {}}] if created else [{"changed": {"fields": ["value"]}}]
        LogEntry.objects.log_actions(
            user_id=user.pk,
            queryset=[config],
            action_flag=ADDITION if created else CHANGE,
            change_message=message,
            single_object=True,
        )
    return config


@dataclass
class SecretsRotation:
    """What ``secrets_rotate`` did to the secret settings, by count (and the unreadable by key)."""

    encrypted: int = 0  # stored in the clear until now
    reencrypted: int = 0  # sealed with another key than the first until now
    current: int = 0  # sealed with the first key already: left as they were
    empty: int = 0  # nothing stored (None or ""): nothing to hide
    unreadable: list[str] = field(default_factory=list)  # no configured key opens them: left as they were


def secrets_rotate() -> SecretsRotation:
    """Encrypt every secret setting still stored in the clear and re-encrypt with the first key
    of OMM_SECRETS_KEY every one sealed with another. Idempotent: a second run changes nothing."""
    result, changed = SecretsRotation(), []
    with transaction.atomic():
        for row in SystemConfig.objects.select_for_update().filter(is_secret=True).order_by("key"):
            if sealing.is_empty(row.value):
                result.empty += 1
                continue
            if not sealing.is_sealed(row.value):
                stored = sealing.seal(row.value)
                result.encrypted += 1
            else:
                try:
                    stored = sealing.reseal(row.value)
                except sealing.SecretUnreadable:
                    result.unreadable.append(row.key)
                    continue
                if stored is None:
                    result.current += 1
                    continue
                result.reencrypted += 1
            # An update, not save(): the value is sealed already and its meaning (and so the
            # time and author of its last edit) is unchanged.
            SystemConfig.objects.filter(pk=row.pk).update(value=stored)
            changed.append(row.key)
        for key in changed:
            config_invalidate(key)
            transaction.on_commit(lambda key=key: config_invalidate(key))
    return result


def audit_log_purge(*, now=None) -> int:
    """Delete API log entries past the retention period, in batches. Returns rows deleted."""
    days = int(config_get("audit-api-log-retention-days"))
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted = 0
    while True:
        ids = list(
            ApiAuditLog.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[:PURGE_BATCH]
        )
        if not ids:
            return deleted
        deleted += ApiAuditLog.objects.filter(pk__in=ids).delete()[0]


def heartbeat_beat(*, kind: str, hostname: str, pid: int, queues: list[str]) -> None:
    now = timezone.now()
    updated = WorkerHeartbeat.objects.filter(hostname=hostname, pid=pid).update(last_seen=now, queues=queues)
    if not updated:
        # New process (or a restart reusing the hostname): start a fresh row.
        WorkerHeartbeat.objects.update_or_create(
            hostname=hostname,
            defaults={"kind": kind, "pid": pid, "queues": queues, "started_at": now, "last_seen": now},
        )


def heartbeat_forget(*, hostname: str) -> None:
    WorkerHeartbeat.objects.filter(hostname=hostname).delete()


def heartbeat_purge_stale(*, older_than: timedelta = timedelta(days=1)) -> int:
    return WorkerHeartbeat.objects.filter(last_seen__lt=timezone.now() - older_than).delete()[0]


def worker_ping_request(*, user, queue: str = "default") -> WorkerPing:
    """Record a ping and enqueue it once the row is committed."""
    # Sent by name: the task module calls these services, so they do not import it back.
    from celery import current_app as app  # the OMM app, with no import of omm (which imports core)

    ping = WorkerPing.objects.create(requested_by=user, queue=queue)
    transaction.on_commit(lambda: app.send_task("core.worker_ping", args=[str(ping.pk)], queue=queue))
    return ping


def worker_ping_complete(*, ping_id: str, worker: str) -> bool:
    """Mark a ping answered. Idempotent: a redelivered message changes nothing."""
    return bool(
        WorkerPing.objects.filter(pk=ping_id, completed_at__isnull=True).update(
            completed_at=timezone.now(), worker=worker
        )
    )
