"""Authentication for hot paths (predictions, QA): trust the signed token, skip the user row.

Access tokens carry the user's ``role`` (added at login). On the endpoints that opt in, a
token with a role claim authenticates without reading the user row: the account's current
role and state come from one cache round trip (``apps.users.access``), so a role change or
a deactivation takes effect on the next request, and permissions come from that role's
grants (``roles.granted``), the same map the role groups are built from. Tokens without the
claim fall back to the database lookup. No password is ever hashed here.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.models import TokenUser
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.settings import api_settings

from .access import access_remember, current_access
from .roles import granted


class RoleTokenObtainPairSerializer(TokenObtainPairSerializer):
    """Login: the tokens also carry the username and role."""

    @classmethod
    def get_token(cls, user):
        token = super().get_token(user)
        token["role"] = user.role
        token["username"] = user.username
        access_remember(user)
        return token


class AccountTokenUser(TokenUser):
    """The caller named by a token, with the role their account has now."""

    def __init__(self, token, role: str) -> None:
        super().__init__(token)
        self.current_role = role

    @property
    def role(self) -> str:
        return self.current_role

    @property
    def is_superuser(self) -> bool:
        return False  # a superuser's state says "admin" (apps.users.access)


class RoleClaimJWTAuthentication(JWTAuthentication):
    """JWT authentication that reads no user row when the token names a role."""

    def get_user(self, validated_token):
        if not validated_token.get("role"):
            return super().get_user(validated_token)
        try:
            user_id = int(validated_token[api_settings.USER_ID_CLAIM])
        except (KeyError, TypeError, ValueError):
            raise AuthenticationFailed(
                _("Token contained no recognizable user identification"), code="token_not_valid"
            ) from None
        state = current_access(user_id)
        if state is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        role, active = state
        if not active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        return AccountTokenUser(validated_token, role)


def token_role(user) -> str | None:
    """The current role of a token-authenticated caller; None for a database user."""
    if isinstance(user, AccountTokenUser):
        return user.current_role
    return None


def role_has_perms(role: str, perms: tuple[str, ...] | list[str]) -> bool:
    for perm in perms:
        app, codename = perm.split(".", 1)
        action, _, model = codename.partition("_")
        if not granted(role, app, action, model):
            return False
    return True


try:  # OpenAPI: the same bearer scheme as the JWT authentication it extends
    from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme

    class RoleClaimJWTScheme(SimpleJWTScheme):
        target_class = "apps.users.authentication.RoleClaimJWTAuthentication"
        name = "jwtRoleAuth"  # the same bearer token; a distinct component name
except ImportError:  # pragma: no cover - drf-spectacular is a platform dependency
    pass
