"""The settings page: every platform setting with its type, range, description and value;
admins edit one at a time (the same check and the same change history as the admin)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from . import services
from .config import DECLARED
from .forms import setting_form
from .models import SystemConfig
from .selectors import settings_listing

# Who may edit settings: the permission the admin's SystemConfig page asks for.
EDIT_PERM = "core.change_systemconfig"


@login_required
def settings_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "core/settings.html",
        {"settings": settings_listing(), "can_edit": request.user.has_perm(EDIT_PERM)},
    )


@login_required
def setting_edit(request: HttpRequest, key: str) -> HttpResponse:
    if not request.user.has_perm(EDIT_PERM):
        raise PermissionDenied
    config = SystemConfig.objects.filter(key=key).first()
    declared = DECLARED.get(key)
    if config is None and declared is None:
        raise Http404
    form = setting_form(config, declared, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            if not form.keeps_secret:  # a secret left empty stays as stored: nothing to save
                services.system_config_edit(key=key, value=form.cleaned_data["value"], user=request.user)
        except ValidationError as exc:  # changed meanwhile (a bound moved): nothing was saved
            form.add_error("value", exc)
        else:
            messages.success(request, _("Setting %(key)s saved.") % {"key": key})
            return redirect("settings")
    row = next(r for r in settings_listing() if r["key"] == key)
    return render(
        request,
        "core/setting_edit.html",
        {"form": form, "setting": row},
        status=400 if form.errors else 200,
    )
