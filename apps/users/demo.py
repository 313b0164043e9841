"""Demo accounts: one per role, passwords kept under the data folder.

Running it again keeps the accounts there are and their saved passwords.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from .models import Role, User
from .services import user_create

DEMO_USERS = [
    ("admin", Role.ADMIN, "Risk platform"),
    ("analyst", Role.ANALYST, "Risk modelling"),
    ("integrator", Role.INTEGRATOR, "Core banking"),
    ("viewer", Role.VIEWER, "Audit"),
]


def load_demo_users(*, credentials: Path) -> dict[str, str]:
    """Create the demo accounts missing; return username -> password as saved in ``credentials``
    (an account made before, whose password was not saved there, has none)."""
    saved: dict[str, str] = json.loads(credentials.read_text()) if credentials.exists() else {}
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
    credentials.write_text(json.dumps(saved, indent=2))
    credentials.chmod(0o600)
    return saved
