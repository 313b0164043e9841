"""Back up the whole platform into one archive: python manage.py backup /srv/backups/

The database (every app's rows), the media files (uploaded datasets, model artifacts,
prediction files) and a manifest with the sha256 of each file. Restore with ``restore``.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from apps.core.backups import backup_create
from apps.core.errors import ApplicationError


class Command(BaseCommand):
    help = "Write a backup archive (tar.gz) of the database, media files and model artifacts."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "target", type=Path, help="a folder (the archive gets a dated name) or a new .tar.gz"
        )

    def handle(self, *args, target: Path, **options) -> None:
        try:
            result = backup_create(target=target)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            _(
                "Backup written to %(path)s: %(rows)s rows of %(tables)s tables, %(files)s files, "
                "%(size)s bytes."
            )
            % {
                "path": result.path,
                "rows": sum(result.rows.values()),
                "tables": len(result.rows),
                "files": result.files,
                "size": result.size,
            }
        )
