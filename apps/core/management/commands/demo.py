"""Load the demo: one account per role (passwords kept under the data folder) and print them.

Running it again keeps what is there and prints the same logins.
"""

from __future__ import annotations

import json
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.users.models import Role, User
from apps.users.services import user_create

DEMO_USERS = [
    ("admin", Role.ADMIN, "Risk platform"),
    ("analyst", Role.ANALYST, "Risk modelling"),
    ("integrator", Role.INTEGRATOR, "Core banking"),
    ("viewer", Role.VIEWER, "Audit"),
]


class Command(BaseCommand):
    help = "Create the demo accounts and data, then print the logins."

    def handle(self, *args, **options) -> None:
        path = settings.DATA_DIR / "demo-credentials.json"
        saved: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
        for username, role, department in DEMO_USERS:
            if User.objects.filter(username=username).exists():
                continue
            password = secrets.token_urlsafe(12)
            user_create(
                username=username,
                email=f"{username}@omm.local",
                password=password,
                role=role,
                department=department,
            )
            saved[username] = password
        path.write_text(json.dumps(saved, indent=2))
        path.chmod(0o600)

        from apps.datasets.demo import load_demo_datasets

        self.stdout.write("Demo data:")
        from apps.features.demo import load_demo_features

        analyst = User.objects.get(username="analyst")
        load_demo_datasets(user=analyst, write=self.stdout.write)
        load_demo_features(user=analyst, write=self.stdout.write)
        from apps.models.demo import load_demo_model

        load_demo_model(user=analyst, write=self.stdout.write)
        from apps.qa.demo import load_demo_qa

        load_demo_qa(user=User.objects.get(username="admin"), write=self.stdout.write)

        self.stdout.write(self.style.SUCCESS("Demo logins (role: username / password):"))
        for username, role, _ in DEMO_USERS:
            password = saved.get(username, f"(set before; reset with: manage.py changepassword {username})")
            self.stdout.write(f"  {role:<11} {username} / {password}")
