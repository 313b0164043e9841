"""The roles, what each may do (declared once), and the groups that carry it.

Permissions are Django model permissions (``app.action_model``). The map is applied by a
data migration and again after every migrate, so models added later are covered.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Role(models.TextChoices):
    ADMIN = "admin", pgettext_lazy("role", "Admin")
    ANALYST = "analyst", _("Analyst")
    INTEGRATOR = "integrator", _("Integrator")
    VIEWER = "viewer", _("Viewer")


GROUP_NAMES = {
    Role.ADMIN: "Admins",
    Role.ANALYST: "Analysts",
    Role.INTEGRATOR: "Integrators",
    Role.VIEWER: "Viewers",
}

# Apps whose records every role may read.
DOMAIN_APPS = ("datasets", "features", "models", "tasks", "evaluations", "qa", "alerts", "monitoring")
ALL_APPS = (*DOMAIN_APPS, "core", "users", "django_celery_beat", "axes", "token_blacklist", "auth")

# (app_label, action, model or "*") granted to each role on top of reading the domain.
ROLE_GRANTS: dict[str, list[tuple[str, str, str]]] = {
    Role.VIEWER: [],
    Role.ANALYST: [
        (app, action, "*")
        for app in ("datasets", "features", "tasks", "evaluations", "qa")
        for action in ("add", "change")
    ]
    # Analysts run monitoring and post outcomes.
    + [("monitoring", "add", "monitoringperiod"), ("monitoring", "add", "outcome")]
    + [("core", "add", "workerping"), ("core", "view", "workerping")]
    # Analysts create and upload models, score with them and reproduce them; promoting
    # (changing a version) stays with admins.
    + [("models", "add", m) for m in ("model", "modelversion", "predictionlog", "batchprediction")]
    # Analysts acknowledge and resolve alerts; rules and webhooks stay with admins.
    + [("alerts", "change", "alert")],
    # Integrators are systems: they push data files and register features through the API.
    Role.INTEGRATOR: [
        ("datasets", "add", "*"),
        ("datasets", "change", "*"),
        ("features", "add", "*"),
        ("features", "change", "*"),
        ("models", "add", "predictionlog"),
        ("models", "add", "batchprediction"),
        ("qa", "add", "*"),
        ("tasks", "add", "task"),
        ("monitoring", "add", "outcome"),  # the bank's systems report what became of a decision
    ],
    Role.ADMIN: [(app, action, "*") for app in ALL_APPS for action in ("add", "change", "delete", "view")]
    + [("core", "view", "*")],
}


def granted(role: str, app: str, action: str, model: str) -> bool:
    """Whether ``role`` holds ``app.<action>_<model>``."""
    if app in DOMAIN_APPS and action == "view":
        return True
    return any(
        g_app == app and g_action == action and g_model in ("*", model)
        for g_app, g_action, g_model in ROLE_GRANTS[role]
    )


def sync_role_groups(group_model, permission_model) -> None:
    """Create the four role groups and set their permissions exactly. Idempotent.

    Takes the models as arguments so a data migration can pass its historical ones.
    """
    perms = list(permission_model.objects.select_related("content_type"))
    for role, name in GROUP_NAMES.items():
        group, _created = group_model.objects.get_or_create(name=name)
        wanted = {
            p.pk
            for p in perms
            if granted(role, p.content_type.app_label, p.codename.split("_", 1)[0], p.content_type.model)
        }
        current = set(group.permissions.values_list("pk", flat=True))
        if wanted != current:
            group.permissions.set(wanted)


def sync_user_group(user) -> None:
    """Put a user in their role's group and in no other role group."""
    from django.contrib.auth.models import Group

    role_groups = set(GROUP_NAMES.values())
    wanted = GROUP_NAMES[user.role]
    current = {g.name: g for g in user.groups.filter(name__in=role_groups)}
    if set(current) == {wanted}:
        return
    for name, group in current.items():
        if name != wanted:
            user.groups.remove(group)
    if wanted not in current:
        group, _created = Group.objects.get_or_create(name=wanted)
        user.groups.add(group)
