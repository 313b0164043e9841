"""Writes of the users domain."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from rest_framework_simplejwt.tokens import RefreshToken

from .models import Role, User


@transaction.atomic
def user_create(
    *, username: str, email: str, password: str, role: str = Role.VIEWER, department: str = ""
) -> User:
    user = User(username=username, email=email, role=role, department=department)
    validate_password(password, user)
    user.set_password(password)
    user.save()
    return user


@transaction.atomic
def user_update(*, user: User, password: str | None = None, **fields) -> User:
    for name, value in fields.items():
        setattr(user, name, value)
    if password:
        validate_password(password, user)
        user.set_password(password)
    user.save()
    return user


def user_logout(*, refresh: str) -> None:
    """Revoke a refresh token (and so every access token it could mint again)."""
    RefreshToken(refresh).blacklist()
