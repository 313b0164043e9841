"""Restore a backup archive taken with ``backup``: python manage.py restore omm-backup.tar.gz

Stop the web, worker and beat processes first and start them again afterwards. The archive
is checked whole before anything is written; the database must be empty (only what
``migrate`` creates) unless --force, which replaces everything in it.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from apps.core.backups import backup_restore, describe_created_at
from apps.core.errors import ApplicationError


class Command(BaseCommand):
    help = "Restore the database, media files and model artifacts from a backup archive."

    def add_arguments(self, parser) -> None:
        parser.add_argument("archive", type=Path)
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace a database that holds data, and media files of the same names",
        )

    def handle(self, *args, archive: Path, force: bool, **options) -> None:
        try:
            result = backup_restore(archive=archive, force=force)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            _(
                "Restored %(rows)s rows of %(tables)s tables and %(files)s files from %(path)s "
                "(OMM %(version)s, taken %(created)s)."
            )
            % {
                "rows": sum(result.rows.values()),
                "tables": len(result.rows),
                "files": result.files,
                "path": archive,
                "version": result.manifest.get("omm_version", "?"),
                "created": describe_created_at(result.manifest),
            }
        )
        for warning in result.warnings:
            self.stderr.write(self.style.WARNING(warning))
