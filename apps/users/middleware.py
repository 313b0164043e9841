"""A signed-in user's remembered language, applied after Django's LocaleMiddleware."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation


class UserLanguageMiddleware:
    """Use the language a user chose (``User.language``) when the request does not choose.

    The request chooses with the language cookie (the top bar's switch, this browser) or,
    on the API, with Accept-Language; otherwise a user who picked a language on another
    device sees it here too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        chosen = getattr(user, "language", "") if user is not None and user.is_authenticated else ""
        if chosen and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            api_choice = request.path.startswith("/api/") and "HTTP_ACCEPT_LANGUAGE" in request.META
            if not api_choice:
                translation.activate(chosen)
                request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
