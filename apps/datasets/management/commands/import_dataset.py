"""Import a data file from the shell and validate it, with a progress bar.

python manage.py import_dataset credit.csv --name credit --kind tabular --label is_bad
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils.translation import gettext as _
from tqdm import tqdm

from apps.core.errors import ApplicationError
from apps.datasets import services, texts
from apps.datasets.models import CodeScheme, DatasetKind, DatasetStatus, DatasetVersion
from apps.users.models import User


class Command(BaseCommand):
    help = "Upload a CSV/TXT/XLSX file as a new dataset version and validate it."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--name", required=True)
        parser.add_argument("--kind", choices=list(DatasetKind.values), default=DatasetKind.TABULAR)
        parser.add_argument("--label", default="", help="label column (tabular)")
        parser.add_argument("--time-column", default="", help="time column (tabular)")
        parser.add_argument("--key", action="append", default=[], help="key column(s) for duplicate checks")
        parser.add_argument("--encoding", default="", help="declared encoding (default: detected)")
        parser.add_argument(
            "--code-scheme",
            choices=list(CodeScheme.values),
            default="",
            help="bank records: how the codes are read (default: the dataset's, auto for a new one)",
        )
        parser.add_argument("--description", default="")
        parser.add_argument("--user", default="", help="username recorded as uploader")
        parser.add_argument(
            "--async",
            dest="run_async",
            action="store_true",
            help="leave validation to a worker instead of running it here",
        )

    def handle(self, *args, path: Path, **opts) -> None:
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        user = User.objects.filter(username=opts["user"]).first() if opts["user"] else None
        if opts["user"] and user is None:
            raise CommandError(_("No such user: %(user)s") % {"user": opts["user"]})
        try:
            with path.open("rb") as fh:
                version, created = services.dataset_upload(
                    name=opts["name"],
                    kind=opts["kind"],
                    file=File(fh, name=path.name),
                    original_name=path.name,
                    user=user,
                    description=opts["description"],
                    label_column=opts["label"],
                    time_column=opts["time_column"],
                    key_columns=opts["key"],
                    declared_encoding=opts["encoding"],
                    code_scheme=opts["code_scheme"],
                    enqueue=opts["run_async"],
                )
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        if not created:
            self.stdout.write(
                _("Already imported as %(version)s (%(status)s).")
                % {"version": version, "status": version.get_status_display()}
            )
            return
        self.stdout.write(_("Stored as %(version)s.") % {"version": version})
        if opts["run_async"]:
            self.stdout.write(_("Validation queued for a worker."))
            return
        # The ingestion task runs here, in this process, as a worker would run it.
        worker = f"import_dataset@{socket.gethostname()}:{os.getpid()}"
        with (
            tqdm(total=100, desc=_("validating"), unit="%", bar_format="{l_bar}{bar}| {n:.0f}%") as bar,
            _following(version.pk, bar),
        ):
            result = services.dataset_version_validate(version_id=version.pk, worker=worker)
            bar.update(100 - bar.n)
        if result is None:
            self.stdout.write(_("Validation is already running elsewhere."))
            return
        if result.status == DatasetStatus.ERROR:
            raise CommandError(f"{result}: {texts.version_error_text(result)}")
        numbers = {
            "version": result,
            "rows": result.row_count,
            "valid": result.valid_count,
            "invalid": result.invalid_count,
            "score": result.quality_score,
        }
        if result.invalid_count is not None:
            summary = (
                _("%(version)s: validated, %(rows)s rows, %(valid)s valid, %(invalid)s invalid") % numbers
            )
        elif result.quality_score is not None:
            summary = _("%(version)s: validated, %(rows)s rows, quality score %(score).1f") % numbers
        else:
            summary = _("%(version)s: validated, %(rows)s rows") % numbers
        self.stdout.write(self.style.SUCCESS(summary))


@contextlib.contextmanager
def _following(version_id: int, bar: tqdm, every: float = 0.5) -> Iterator[None]:
    """Move ``bar`` with the version's progress, read from a thread while the task runs."""
    stop = threading.Event()

    def follow() -> None:
        try:
            while not stop.wait(every):
                rows = DatasetVersion.objects.filter(pk=version_id).values_list("progress", flat=True)
                percent = rows.first()
                if percent is not None and percent > bar.n:
                    bar.update(percent - bar.n)
        finally:
            connection.close()

    thread = threading.Thread(target=follow, name=f"import-{version_id}-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
