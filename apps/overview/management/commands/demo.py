"""Load the demo: one account per role (passwords kept under the data folder) and print them.

Running it again keeps what is there and prints the same logins.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.translation import gettext

from apps.alerts.demo import load_demo_alerts
from apps.datasets.demo import load_demo_datasets
from apps.features.demo import load_demo_features
from apps.models.demo import load_demo_model
from apps.monitoring.demo import load_demo_monitoring
from apps.qa.demo import load_demo_qa
from apps.users.demo import DEMO_USERS, load_demo_users
from apps.users.models import User


class Command(BaseCommand):
    help = "Create the demo accounts and data, then print the logins."

    def handle(self, *args, **options) -> None:
        saved = load_demo_users(credentials=settings.DATA_DIR / "demo-credentials.json")

        self.stdout.write(gettext("Demo data:"))
        analyst = User.objects.get(username="analyst")
        load_demo_datasets(user=analyst, write=self.stdout.write)
        load_demo_features(user=analyst, write=self.stdout.write)
        load_demo_model(user=analyst, write=self.stdout.write)
        load_demo_qa(user=User.objects.get(username="admin"), write=self.stdout.write)
        load_demo_alerts(write=self.stdout.write)  # before the history: its drifting month opens one
        load_demo_monitoring(write=self.stdout.write)

        self.stdout.write(self.style.SUCCESS(gettext("Demo logins (role: username / password):")))
        for username, role, _department in DEMO_USERS:
            unknown = gettext("(set before; reset with: manage.py changepassword %(username)s)")
            password = saved.get(username, unknown % {"username": username})
            self.stdout.write(f"  {role:<11} {username} / {password}")
