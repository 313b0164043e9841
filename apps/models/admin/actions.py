"""Lifecycle actions in the admin: a reason asked for first, then one service call and one
message per selected row."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.contrib import messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.translation import gettext

from ..errors import ConcurrentChange, LifecycleError
from ..forms import ReasonForm
from ..models import LIFECYCLE_PERM


class ReasonActionsMixin:
    """Lifecycle actions: each asks for a reason on an intermediate page, then calls a
    service once per selected row with one message each. A change the service refuses
    (LifecycleError, ConcurrentChange) is an error message, never a 500."""

    def has_lifecycle_permission(self, request) -> bool:
        return request.user.has_perm(LIFECYCLE_PERM)

    def ask_reason(
        self,
        request,
        rows: Sequence[tuple[Any, str]],
        *,
        title: str,
        confirm: str,
        apply: Callable[[str], None],
        note: str = "",
    ) -> TemplateResponse | None:
        """The reason page for ``rows`` ((object, what to know about it) each); once a
        reason is posted, ``apply(reason)`` runs and the admin goes back to the list."""
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            apply(form.cleaned_data["reason"])
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "confirm": confirm,
            "note": note,
            "rows": rows,
            "form": form,
            "opts": self.opts,
            "action": request.POST.get("action", ""),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "back": request.get_full_path(),
        }
        return TemplateResponse(request, "admin/models/reason.html", context)

    def change_each(
        self,
        request,
        objs: Sequence[Any],
        change: Callable[[Any], object],
        *,
        reason: str,
        done: str,
        failed: str,
        level: int = messages.SUCCESS,
        about: Callable[[Any], dict[str, Any]] | None = None,
    ) -> None:
        """``change(obj)`` for each object; ``done`` and ``failed`` word the messages, both
        translated templates: ``done`` formatted with ``obj``, ``failed`` with ``obj`` and
        ``error`` (the service's refusal), and both with what ``about(obj)`` adds."""
        for obj in objs:
            params = {"obj": obj, **(about(obj) if about else {})}
            try:
                change(obj)
            except (LifecycleError, ConcurrentChange) as exc:
                self.message_user(request, failed % {**params, "error": exc}, messages.ERROR)
                continue
            text = done % params
            self.log_change(
                request, obj, gettext("%(done)s Reason: %(reason)s") % {"done": text, "reason": reason}
            )
            self.message_user(request, text, level)
