"""Users pages: login and logout (Django's views, throttled by axes) and the language switch."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponseBadRequest, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language, gettext
from django.views.decorators.http import require_POST

from . import services

LoginView = auth_views.LoginView.as_view(redirect_authenticated_user=True)
LogoutView = auth_views.LogoutView.as_view()


@require_POST
def set_language(request: HttpRequest) -> HttpResponseRedirect | HttpResponseBadRequest:
    """Switch the pages' language: kept in a cookie, and on the user when signed in."""
    code = request.POST.get("language", "")
    if code not in dict(settings.LANGUAGES) or not check_for_language(code):
        return HttpResponseBadRequest(gettext("Unknown language."))
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = "/"
    if request.user.is_authenticated:
        services.user_language_set(user=request.user, language=code)
    response = HttpResponseRedirect(target)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite="Lax",
        secure=request.is_secure(),
    )
    return response
