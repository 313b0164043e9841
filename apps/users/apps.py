from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_role_groups(sender, **kwargs) -> None:
    # Run once, after the last app with models (post_migrate skips apps without): by then
    # every app's permissions exist.
    with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
    if sender.label != with_models[-1].label:
        return
    from django.contrib.auth.models import Group, Permission

    from .roles import sync_role_groups

    sync_role_groups(Group, Permission)


class UsersConfig(AppConfig):
    name = "apps.users"
    label = "users"
    verbose_name = _("People, roles and access")

    def ready(self) -> None:
        from django.contrib.auth.models import Group

        from apps.core.trail import trail_track

        from .models import User

        post_migrate.connect(_sync_role_groups, dispatch_uid="omm-sync-role-groups")
        # The governance trail: accounts, their roles and groups, and what each group may do.
        # A password change is recorded, its hash never; logins and the page language are not
        # governance.
        trail_track(
            User,
            exclude=["last_login", "language"],
            masked=["password"],
            m2m=["groups", "user_permissions"],
        )
        trail_track(Group, m2m=["permissions"])
