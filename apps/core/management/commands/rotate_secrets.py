"""Encrypt the secret settings still stored in the clear and re-encrypt the others with the
first key of OMM_SECRETS_KEY. Safe to run again: a second run changes nothing.

To replace a key: put the new one first (OMM_SECRETS_KEY=new,old), restart, run this, then
drop the old one.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from apps.core import services


class Command(BaseCommand):
    help = "Encrypt secret settings at rest and re-encrypt them with the first key of OMM_SECRETS_KEY."

    def handle(self, *args, **options) -> None:
        result = services.secrets_rotate()
        self.stdout.write(
            _(
                "Secret settings: %(encrypted)s encrypted, %(reencrypted)s re-encrypted with the "
                "first key, %(current)s already current, %(empty)s empty, %(unreadable)s unreadable."
            )
            % {
                "encrypted": result.encrypted,
                "reencrypted": result.reencrypted,
                "current": result.current,
                "empty": result.empty,
                "unreadable": len(result.unreadable),
            }
        )
        if result.unreadable:
            raise CommandError(
                _(
                    "No configured key decrypts %(keys)s: add the key they were encrypted with to "
                    "OMM_SECRETS_KEY and run this again, or set them anew."
                )
                % {"keys": ", ".join(result.unreadable)}
            )
