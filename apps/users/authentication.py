"""Authentication for hot paths (predictions, QA): trust the signed token, skip the database.

Access tokens carry the user's ``role`` (added at login). On the endpoints that opt in,
a token with a role claim authenticates without reading the user row, and permissions
come from the role's grants (``roles.granted``), the same map the role groups are built
from. The cost: a role change or deactivation reaches these endpoints when the access
token expires (``JWT_ACCESS_MINUTES``, 15 by default), as with any stateless JWT. Tokens
without the claim fall back to the database lookup. No password is ever hashed here.
"""

from __future__ import annotations

from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.models import TokenUser
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer

from .roles import granted


class RoleTokenObtainPairSerializer(TokenObtainPairSerializer):
    """Login: the tokens also carry the username and role."""

    @classmethod
    def get_token(cls, user):
        token = super().get_token(user)
        token["role"] = user.role
        token["username"] = user.username
        return token


class RoleClaimJWTAuthentication(JWTAuthentication):
    """JWT authentication that reads no user row when the token names a role."""

    def get_user(self, validated_token):
        if validated_token.get("role"):
            return TokenUser(validated_token)
        return super().get_user(validated_token)


def token_role(user) -> str | None:
    """The role a stateless token user carries; None for a database user."""
    if isinstance(user, TokenUser):
        return user.token.get("role")
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
