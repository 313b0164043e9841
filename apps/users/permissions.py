"""DRF permission classes. Deny by default; roles act through their groups' permissions."""

from __future__ import annotations

from rest_framework.permissions import BasePermission, DjangoModelPermissions

from .authentication import role_has_perms, token_role


class RoleModelPermissions(DjangoModelPermissions):
    """Model permissions for every method, reads included (``view_<model>``).

    Views without a queryset (and so without a model) must declare their own permission
    classes; this one refuses them rather than guessing.
    """

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        if getattr(view, "queryset", None) is None and not hasattr(view, "get_queryset"):
            return False
        return super().has_permission(request, view)


class HasRole(BasePermission):
    """Allow only the listed roles; use as ``HasRole.of(Role.ADMIN)``."""

    roles: tuple[str, ...] = ()

    @classmethod
    def of(cls, *roles: str) -> type[HasRole]:
        return type(f"HasRole_{'_'.join(roles)}", (cls,), {"roles": roles})

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        return user.is_superuser or user.role in self.roles


class HasPerms(BasePermission):
    """Require explicit model permissions; use as ``HasPerms.of("app.change_model")``."""

    perms: tuple[str, ...] = ()

    @classmethod
    def of(cls, *perms: str) -> type[HasPerms]:
        return type("HasPerms_" + "_".join(p.replace(".", "_") for p in perms), (cls,), {"perms": perms})

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        role = token_role(user)
        if role is not None:  # a stateless token user (see apps.users.authentication)
            return role_has_perms(role, self.perms)
        return user.has_perms(self.perms)
