"""The governance trail: every change people make to the records that govern OMM (accounts
and roles, settings, datasets, features, schedules, aliases, models and their versions),
with who, when, from which address, the values before and after and, where one was given,
the reason.

The rows are django-auditlog's ``LogEntry`` (read as ``TrailEntry``). Each app names its
tracked models from its ``AppConfig.ready()`` with ``trail_track``; writes that bypass model
signals (a conditional ``QuerySet.update``) are recorded by their service with
``trail_changed``, and services that take a reason wrap their writes in ``trail_context``.

Who: an entry is completed just before it is inserted (``fill_entry``), from the request
being served. DRF authenticates inside the view, after every middleware has run, and then
copies its user onto the Django request, so reading ``request.user`` at that moment names a
JWT caller as well as a session user; no authentication class needs a hook. Celery tasks and
commands write entries without an actor: the system. Predictions and QA answers save no
tracked model, so the hot paths write nothing here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import Any

from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.db import models
from django.http import HttpRequest

from .models import SECRET_MASK, SystemConfig


@dataclasses.dataclass(frozen=True)
class _Context:
    request: HttpRequest | None = None
    remote_addr: str | None = None
    reason: str = ""


_NONE = _Context()
_context: ContextVar[_Context | None] = ContextVar("omm_trail_context", default=None)


def _current() -> _Context:
    return _context.get() or _NONE


def _untracked_by_default(model: type[models.Model]) -> list[str]:
    # A save's own timestamps and values the database computes are not changes anyone made
    # (the entry has its own time).
    return [
        f.name
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False)
        or getattr(f, "auto_now_add", False)
        or isinstance(f, models.GeneratedField)
    ]


def trail_track(
    model: type[models.Model],
    *,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    m2m: Iterable[str] = (),
    masked: Iterable[str] = (),
) -> None:
    """Record every create, update and delete of ``model`` (``include``: only these fields;
    ``exclude``: never these; ``m2m``: many-to-many fields whose adds and removes count;
    ``masked``: fields whose change is recorded but never their value)."""
    auditlog.register(
        model,
        include_fields=list(include),
        exclude_fields=[*_untracked_by_default(model), *exclude],
        m2m_fields=set(m2m),
        mask_fields=list(masked),
        mask_callable="apps.core.trail.mask",
    )


def mask(value: str) -> str | None:
    """What the trail shows of a masked field (a password hash, say): that it was set."""
    return None if value in ("", "None") else SECRET_MASK


@contextlib.contextmanager
def trail_request(request: HttpRequest, *, remote_addr: str | None) -> Iterator[None]:
    """While serving ``request``: entries name its user (read when written) and address."""
    token = _context.set(_Context(request=request, remote_addr=remote_addr))
    try:
        yield
    finally:
        _context.reset(token)


@contextlib.contextmanager
def trail_context(*, reason: str) -> Iterator[None]:
    """Entries written inside carry ``reason`` (promote, roll back, deprecate, archive...)."""
    token = _context.set(dataclasses.replace(_current(), reason=reason))
    try:
        yield
    finally:
        _context.reset(token)


def _json_value(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    return str(value)


def trail_changed(obj: models.Model, **changes: tuple[Any, Any]) -> None:
    """Record a change of ``obj`` written without a model signal (``QuerySet.update``):
    ``field=(before, after)`` for each field it set. Unchanged or untracked fields are left
    out; nothing is written when none is left."""
    model = type(obj)
    if not auditlog.contains(model):
        return
    rules = auditlog.get_model_fields(model)
    diff = {
        name: [_json_value(before), _json_value(after)]
        for name, (before, after) in changes.items()
        if (not rules["include_fields"] or name in rules["include_fields"])
        and name not in rules["exclude_fields"]
        and _json_value(before) != _json_value(after)
    }
    if diff:
        LogEntry.objects.log_create(obj, action=LogEntry.Action.UPDATE, changes=diff)


def _mask_secret_setting(entry: LogEntry) -> None:
    """A secret setting's value never reaches the trail, before or after (the change still does)."""
    changes = entry.changes or {}
    if "value" not in changes:
        return
    secret = True in changes.get("is_secret", ()) or (
        SystemConfig.objects.filter(pk=entry.object_id, is_secret=True).exists()
    )
    if secret:
        changes["value"] = [None if v in (None, "") else SECRET_MASK for v in changes["value"]]
        entry.changes = changes


def _actor(request: HttpRequest | None) -> Any:
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated and user.pk else None


def _valid_ip(address: str | None) -> str | None:
    # A forwarded header may say anything; an unreadable address is left out, not a failed save.
    try:
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return None


def fill_entry(sender, instance: LogEntry, **kwargs) -> None:
    """pre_save of a trail entry: the actor, address and reason of the current context, the
    secrets masked; an entry already written is never written again."""
    if not instance._state.adding:
        raise ValueError("the audit trail is append-only")
    if kwargs.get("raw"):
        return  # loaded as it was recorded (loaddata, a restore)
    context = _current()
    actor = _actor(context.request)
    if instance.actor_id is None and actor is not None:
        # A stateless token user (hot paths) is no row: its id is enough.
        instance.actor_id = actor.pk
        instance.actor_email = getattr(actor, "email", None) or None
    if instance.remote_addr is None:
        instance.remote_addr = _valid_ip(context.remote_addr)
    if context.reason:
        instance.additional_data = {**(instance.additional_data or {}), "reason": context.reason}
    if instance.content_type.model_class() is SystemConfig:
        _mask_secret_setting(instance)


def refuse_delete(sender, instance: LogEntry, **kwargs) -> None:
    """pre_delete of a trail entry: refused (PostgreSQL refuses it in the database too)."""
    raise ValueError("the audit trail is append-only")
