"""Write the demo data files: credit applications and bank records (UTF-8 and GBK).

    python manage.py generate_demo_data --out DIR [--credit-rows 100000] [--bank-rows 150000] [--seed 7]

The same seed writes the same bytes, so the files can be regenerated instead of shipped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from apps.datasets import demo_data


class Command(BaseCommand):
    help = "Generate the seeded demo datasets (credit applications, bank records) as CSV files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, default=None, help="Output folder (default: DATA_DIR/demo).")
        parser.add_argument("--credit-rows", type=int, default=100_000)
        parser.add_argument("--bank-rows", type=int, default=150_000)
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, **options) -> None:
        out: Path = options["out"] or settings.DATA_DIR / "demo"
        out.mkdir(parents=True, exist_ok=True)
        seed, credit_rows, bank_rows = options["seed"], options["credit_rows"], options["bank_rows"]

        self._timed(
            lambda: demo_data.write_credit_csv(out / "credit_applications.csv", credit_rows, seed),
            _("%(count)s credit applications") % {"count": f"{credit_rows:,}"},
        )
        descriptions = out / "credit_feature_descriptions.json"
        descriptions.write_text(
            json.dumps(demo_data.credit_feature_descriptions(), ensure_ascii=False, indent=2),
            encoding="utf-8",
        )
        self._report(descriptions, _("feature descriptions"), 0.0)
        self._timed(
            lambda: demo_data.write_bank_records_csv(
                out / "bank_records.csv",
                bank_rows,
                seed,
                bad_lines_path=out / "bank_records_bad_lines.csv",
            ),
            _("%(count)s bank records, UTF-8 (answer key: bank_records_bad_lines.csv)")
            % {"count": f"{bank_rows:,}"},
        )
        # The same records in GBK, the encoding many bank systems still export.
        self._timed(
            lambda: demo_data.write_bank_records_csv(
                out / "bank_records_gbk.csv", bank_rows, seed, encoding="gbk"
            ),
            _("%(count)s bank records, GBK") % {"count": f"{bank_rows:,}"},
        )

    def _timed(self, write: Callable[[], Path], what: str) -> None:
        started = time.perf_counter()
        path = write()
        self._report(path, what, time.perf_counter() - started)

    def _report(self, path: Path, what: str, seconds: float) -> None:
        size = path.stat().st_size
        self.stdout.write(f"  {path}  {size / 1_048_576:7.1f} MB  {seconds:5.2f} s  {what}")
