from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


def _sync_role_groups(sender, **kwargs) -> None:
    # Run once, after the last app: by then every app's permissions exist.
    if sender.label != list(apps.get_app_configs())[-1].label:
        return
    from django.contrib.auth.models import Group, Permission

    from .roles import sync_role_groups

    sync_role_groups(Group, Permission)


class UsersConfig(AppConfig):
    name = "apps.users"
    label = "users"
    verbose_name = "People, roles and access"

    def ready(self) -> None:
        post_migrate.connect(_sync_role_groups, dispatch_uid="omm-sync-role-groups")
