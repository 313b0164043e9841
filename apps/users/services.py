"""Writes of the users domain."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from .errors import PasswordInvalid, TokenInvalid
from .models import Role, User


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise PasswordInvalid(exc.messages) from None


@transaction.atomic
def user_create(
    *, username: str, email: str, password: str, role: str = Role.VIEWER, department: str = ""
) -> User:
    user = User(username=username, email=email, role=role, department=department)
    _check_password(password, user)
    user.set_password(password)
    user.save()
    return user


@transaction.atomic
def user_update(*, user: User, password: str | None = None, **fields: object) -> User:
    for name, value in fields.items():
        setattr(user, name, value)
    if password:
        _check_password(password, user)
        user.set_password(password)
    user.save()
    return user


def user_logout(*, refresh: str) -> None:
    """Revoke a refresh token (and so every access token it could mint again)."""
    try:
        RefreshToken(refresh).blacklist()
    except TokenError as exc:
        raise TokenInvalid(str(exc)) from None


def user_language_set(*, user: User, language: str) -> None:
    """Remember the language ``user`` chose for OMM's pages."""
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
