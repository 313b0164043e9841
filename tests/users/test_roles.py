"""Roles map to groups with permissions; a user's role decides group and admin access."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from apps.users.models import Role, User
from apps.users.roles import GROUP_NAMES
from apps.users.services import user_create, user_update

pytestmark = pytest.mark.django_db


def perms(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return {
        f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")
    }


def test_the_four_role_groups_exist_with_their_permissions():
    assert set(Group.objects.values_list("name", flat=True)) >= set(GROUP_NAMES.values())
    admins, analysts, viewers = perms("Admins"), perms("Analysts"), perms("Viewers")
    assert {"users.add_user", "core.change_systemconfig", "django_celery_beat.change_periodictask"} <= admins
    assert "core.add_workerping" in analysts
    assert not any(
        p.startswith(("users.", "core.view_systemconfig", "core.view_apiauditlog")) for p in analysts
    )
    assert not any(p.split(".")[1].startswith(("add_", "change_", "delete_")) for p in viewers)


def test_user_lands_in_the_group_of_their_role_and_moves_with_it():
    user = user_create(username="ann", email="ann@example.com", password="Str0ng-Pass!", role=Role.ANALYST)
    assert list(user.groups.values_list("name", flat=True)) == ["Analysts"]
    assert not user.is_staff
    user_update(user=user, role=Role.ADMIN)
    user = User.objects.get(pk=user.pk)
    assert list(user.groups.values_list("name", flat=True)) == ["Admins"]
    assert user.is_staff and user.has_perm("core.change_systemconfig")


def test_other_groups_are_kept_when_the_role_changes():
    extra = Group.objects.create(name="Model reviewers")
    user = user_create(username="bo", email="bo@example.com", password="Str0ng-Pass!", role=Role.VIEWER)
    user.groups.add(extra)
    user_update(user=user, role=Role.INTEGRATOR)
    assert set(user.groups.values_list("name", flat=True)) == {"Integrators", "Model reviewers"}


def test_createsuperuser_gets_the_admin_role():
    user = User.objects.create_superuser("root", "root@example.com", "Str0ng-Pass!")
    assert user.role == Role.ADMIN and user.groups.filter(name="Admins").exists()


def test_weak_password_is_refused_through_the_api(api):
    response = api.post(
        "/api/users", {"username": "weak", "email": "w@x.io", "password": "123"}, format="json"
    )
    assert response.status_code == 400 and "password" in response.json()["errors"]
    assert not User.objects.filter(username="weak").exists()


def test_duplicate_email_and_unknown_role_are_refused(api, admin_user):
    dup = api.post(
        "/api/users", {"username": "x", "email": admin_user.email, "password": "Str0ng-Pass!"}, format="json"
    )
    assert dup.status_code == 400 and "email" in dup.json()["errors"]
    bad = api.post(
        "/api/users",
        {"username": "y", "email": "y@x.io", "password": "Str0ng-Pass!", "role": "god"},
        format="json",
    )
    assert bad.status_code == 400 and "role" in bad.json()["errors"]


def test_admin_changes_a_role_through_the_api(api, make_user):
    user = make_user(Role.VIEWER)
    response = api.put(
        f"/api/users/{user.pk}",
        {"username": user.username, "email": user.email, "role": "analyst"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    user.refresh_from_db()
    assert user.role == Role.ANALYST and user.groups.filter(name="Analysts").exists()


def test_has_role_allows_only_the_listed_roles(rf, make_user):
    from django.contrib.auth.models import AnonymousUser

    from apps.users.permissions import HasRole

    permission = HasRole.of(Role.ADMIN, Role.ANALYST)()
    for role, allowed in [
        (Role.ADMIN, True),
        (Role.ANALYST, True),
        (Role.INTEGRATOR, False),
        (Role.VIEWER, False),
    ]:
        request = rf.get("/")
        request.user = make_user(role)
        assert permission.has_permission(request, None) is allowed, role
    request = rf.get("/")
    request.user = AnonymousUser()
    assert permission.has_permission(request, None) is False


def test_a_weak_password_given_to_the_services_is_invalid_on_the_password_field():
    from apps.core.errors import Invalid

    with pytest.raises(Invalid) as caught:
        user_create(username="weak", email="w@x.io", password="123")
    assert caught.value.code == "validation_error" and caught.value.errors["password"]
    assert not User.objects.filter(username="weak").exists()
    user = user_create(username="ok", email="ok@x.io", password="Str0ng-Pass!")
    with pytest.raises(Invalid):
        user_update(user=user, password="123")


def test_role_groups_are_synced_after_the_last_app_that_has_models():
    # post_migrate is never sent for an app without models (the overview app, installed
    # last): the sync waits for the last app that has some, so it still runs.
    from django.apps import apps

    from apps.users.apps import _sync_role_groups

    analysts = Group.objects.get(name="Analysts")
    analysts.permissions.clear()
    with_models = [c for c in apps.get_app_configs() if c.models_module is not None]
    _sync_role_groups(sender=with_models[-2])
    assert not perms("Analysts")
    _sync_role_groups(sender=with_models[-1])
    assert "core.add_workerping" in perms("Analysts")
    last = list(apps.get_app_configs())[-1]
    assert last.label == "overview" and last.models_module is None


def test_role_is_declared_with_its_grants_and_known_to_the_user_model():
    from apps.users import models, roles

    assert models.Role is roles.Role and set(roles.GROUP_NAMES) == set(Role)
