"""People and their role. A role maps to a Django group holding its permissions."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

# Role lives with its grants in roles.py, which imports nothing of this module (no cycle);
# it is imported here too, as apps.users.models.Role, the name every app uses.
from .access import access_changed, access_forgotten
from .roles import Role, sync_user_group


class OMMUserManager(UserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    email = models.EmailField(_("email address"), unique=True)
    role = models.CharField(
        _("role"), max_length=20, choices=Role.choices, default=Role.VIEWER, db_index=True
    )
    department = models.CharField(_("department"), max_length=100, blank=True)
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("The language of OMM's pages for this user; empty follows the browser."),
    )

    REQUIRED_FIELDS = ["email"]
    objects = OMMUserManager()

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def save(self, *args, **kwargs) -> None:
        # Admins govern in the Django admin; nobody else gets in there.
        self.is_staff = self.role == Role.ADMIN or self.is_superuser
        super().save(*args, **kwargs)
        sync_user_group(self)
        access_changed(self)  # predictions and QA see the new role or state on the next request

    def delete(self, *args, **kwargs):
        user_id = self.pk
        deleted = super().delete(*args, **kwargs)
        access_forgotten(user_id)
        return deleted

    @property
    def is_admin_role(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser
