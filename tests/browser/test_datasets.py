"""Datasets in a real browser: upload, live validation by a real worker, quality report,
bank-record lines, refused files, the viewer's read-only list and the admin upload."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.template.defaultfilters import floatformat
from playwright.sync_api import Page, Request, expect

from apps.datasets import services
from apps.datasets.models import Dataset, DatasetRecord, DatasetStatus, DatasetVersion
from apps.users.models import Role
from tests.browser.conftest import wait_for_charts
from tests.sample_data import CREDIT_CSV, bank_csv

pytestmark = pytest.mark.browser

# A worker has to start, pick the message up and validate; generous, never the norm.
VALIDATION_TIMEOUT_MS = 60_000
CREDIT_COLUMNS = ["application_id", "application_date", "user_age", "city", "income", "is_bad"]


def _path(url: str) -> str:
    return urlsplit(url).path


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def _stored_files() -> set[str]:
    folder = Path(settings.MEDIA_ROOT) / "datasets"
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def _fill_upload_form(page: Page, *, name: str, kind: str, file, label: str = "", time_column: str = ""):
    # The analyst page's form has an id; the admin's upload page holds one form of its own.
    form = page.locator("#upload-form") if page.locator("#upload-form").count() else page
    form.get_by_label("Name", exact=True).fill(name)
    form.get_by_label("Kind", exact=True).select_option(kind)
    form.get_by_label("File", exact=True).set_input_files(file)
    form.get_by_label("Label column", exact=True).fill(label)
    form.get_by_label("Time column", exact=True).fill(time_column)


def _worker_log(worker) -> str:
    return worker["log"].read_text(errors="replace")[-3000:]


def _wait_for_validated_page(page: Page, worker) -> None:
    """The detail page polls, reloads once validation ends; the summary exists only then."""
    try:
        expect(page.locator("#summary")).to_be_visible(timeout=VALIDATION_TIMEOUT_MS)
    except AssertionError:
        status = page.locator("#status").text_content() if page.locator("#status").count() else "?"
        pytest.fail(f"validation did not end (badge says {status!r}); worker log:\n{_worker_log(worker)}")


def _sqlite_write_lock_free() -> bool:
    """True unless some process holds the SQLite test database's write lock."""
    if connection.vendor != "sqlite":
        return True
    probe = sqlite3.connect(connection.settings_dict["NAME"], timeout=0.2)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        probe.close()


@contextlib.contextmanager
def _worker_paused(worker) -> Iterator[None]:
    """Freeze the worker's process group (SIGSTOP) so a page can be seen before validation.

    A worker frozen inside a SQLite write (its heartbeat) would block every other writer,
    so it is thawed and frozen again until it holds no lock.
    """
    group = worker["process"].pid
    for _ in range(20):
        os.killpg(group, signal.SIGSTOP)
        if _sqlite_write_lock_free():
            break
        os.killpg(group, signal.SIGCONT)
        time.sleep(0.05)
    else:
        pytest.fail("the worker kept the database locked")
    try:
        yield
    finally:
        os.killpg(group, signal.SIGCONT)


def test_analyst_uploads_watches_validation_and_reads_the_quality_report(
    page: Page, make_user, password, login, celery_worker, tmp_path
):
    user = make_user(Role.ANALYST)
    csv = _write(tmp_path, "credit.csv", CREDIT_CSV)
    login(page, user, password)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Datasets", exact=True).click()
    expect(page).to_have_url(re.compile(r"/datasets/$"))
    expect(page.get_by_role("heading", name="Datasets", level=1)).to_be_visible()
    expect(page.locator("#datasets")).to_contain_text("No datasets yet.")

    polls: list[str] = []

    def record(request: Request) -> None:
        if re.fullmatch(r"/api/datasets/\d+/versions/1", _path(request.url)):
            polls.append(request.url)

    page.on("request", record)

    # Frozen worker: the page is first seen waiting, whatever the worker's speed.
    with _worker_paused(celery_worker):
        _fill_upload_form(
            page, name="credit", kind="tabular", file=csv, label="is_bad", time_column="application_date"
        )
        page.get_by_role("button", name="Upload", exact=True).click()

        version = DatasetVersion.objects.select_related("dataset").get()
        dataset = version.dataset
        expect(page).to_have_url(re.compile(rf"/datasets/{dataset.pk}/$"))
        expect(page.get_by_role("heading", name="credit", level=1)).to_contain_text("Tabular")
        assert (dataset.kind, dataset.created_by_id) == ("tabular", user.pk)
        assert (version.label_column, version.time_column) == ("is_bad", "application_date")
        assert version.original_filename == "credit.csv"

        card = page.locator("#version")
        expect(card).to_have_attribute("data-running", "1")
        expect(page.locator("#status")).to_have_text(re.compile(r"^(uploaded|validating)$"))
        expect(page.locator("#summary")).to_have_count(0)
        # The page asks the API for progress while nothing moves.
        deadline = time.monotonic() + 5
        while not polls and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        assert polls, "the detail page never polled the version's status"

    _wait_for_validated_page(page, celery_worker)
    expect(page.locator("#status")).to_have_text("validated")
    expect(page.locator("#status")).to_have_class(re.compile(r"\bvalidated\b"))
    expect(page.locator("#version")).to_have_attribute("data-running", "0")
    expect(page.locator("#progress-text")).to_have_text("100%")

    version.refresh_from_db()
    assert version.status == DatasetStatus.VALIDATED, version.error_message
    assert version.quality_score is not None
    # Validation is a task of the work queue, linked from the version.
    expect(page.locator("#task-link")).to_have_attribute("href", f"/tasks/{version.task_id}/")
    score = floatformat(version.quality_score, 1)  # as the templates round: half up
    summary = page.locator("#summary")
    expect(summary).to_contain_text("6 rows · 6 columns")
    expect(summary).to_contain_text(f"quality score {score}")

    rows = page.locator("#columns tbody tr")
    expect(rows).to_have_count(6)
    expect(rows.locator("td:first-child")).to_have_text(CREDIT_COLUMNS)
    expect(rows.filter(has_text="user_age")).to_contain_text("numerical")
    expect(rows.filter(has_text="application_date")).to_contain_text("datetime")
    expect(page.locator("#versions tbody tr")).to_have_count(1)
    expect(page.locator("#versions tbody tr")).to_contain_text(user.username)

    page.get_by_role("link", name="quality report").click()
    expect(page).to_have_url(re.compile(rf"/datasets/{dataset.pk}/quality/\?version=1$"))
    expect(page).to_have_title(re.compile(r"Quality · credit"))
    expect(page.locator("#score")).to_have_text(score)
    expect(page.get_by_role("heading", name="Alerts")).to_be_visible()
    alerts = version.quality["alerts"]
    assert alerts, "the credit sample should raise at least one alert (income outliers)"
    expect(page.locator("#alerts .alert")).to_have_count(len(alerts))
    for alert in alerts:
        expect(page.locator("#alerts")).to_contain_text(alert["message"])
    expect(page.locator("#time")).to_contain_text("6 of 6 periods present")

    # Chart.js drew the missing-values chart and one chart per column.
    wait_for_charts(page, "#missing-chart")
    missing = page.evaluate(
        "() => { const c = Chart.getChart(document.getElementById('missing-chart'));"
        " return c && {labels: c.data.labels, data: c.data.datasets[0].data}; }"
    )
    assert missing is not None, "no chart on #missing-chart"
    assert missing["labels"] == CREDIT_COLUMNS
    assert missing["data"][CREDIT_COLUMNS.index("user_age")] == pytest.approx(1 / 6)
    assert missing["data"][CREDIT_COLUMNS.index("city")] == 0
    expect(page.locator("#column-charts canvas")).to_have_count(6)
    wait_for_charts(page, "#column-charts canvas")
    drawn = page.evaluate(
        "() => Array.from(document.querySelectorAll('#column-charts canvas'))"
        ".map((c) => { const ch = Chart.getChart(c); return ch ? ch.data.datasets[0].data.length : null; })"
    )
    assert None not in drawn, f"some column canvases have no chart: {drawn}"
    assert all(n > 0 for n in drawn), f"a column chart has no bars: {drawn}"
    expect(page.locator("#column-charts .column-card h3").first).to_have_text("application_id · text")


def test_analyst_uploads_bank_records_and_sees_the_invalid_lines(
    page: Page, make_user, password, login, celery_worker, tmp_path
):
    user = make_user(Role.ANALYST)
    csv = _write(tmp_path, "banks.csv", bank_csv(5))
    login(page, user, password)

    page.goto("/datasets/")
    _fill_upload_form(page, name="banks", kind="bank_records", file=csv)
    page.get_by_role("button", name="Upload", exact=True).click()
    dataset = Dataset.objects.get(name="banks")
    expect(page).to_have_url(re.compile(rf"/datasets/{dataset.pk}/$"))
    expect(page.get_by_role("heading", name="banks", level=1)).to_contain_text("Bank records")

    _wait_for_validated_page(page, celery_worker)
    expect(page.locator("#status")).to_have_text("validated")
    expect(page.locator("#summary")).to_have_text(re.compile(r"^8 rows · 3 columns · 5 valid · 3 invalid$"))
    expect(page.locator("#summary strong.error")).to_have_text("3")
    # Bank records get no quality report.
    expect(page.get_by_role("link", name="quality report")).to_have_count(0)

    lines = page.locator("#invalid-lines tbody tr")
    expect(lines).to_have_count(3)
    expect(lines.locator("td:first-child")).to_have_text(["7", "8", "9"])
    expect(lines.nth(0).locator("td.error")).to_contain_text("bank_name: missing")
    expect(lines.nth(1).locator("td.error")).to_contain_text("12 digits")
    expect(lines.nth(1)).to_contain_text("10210000901")
    expect(lines.nth(2).locator("td.error")).to_contain_text("duplicate")
    expect(lines.nth(2).locator("td.error")).to_contain_text("first on line 3")
    expect(page.locator("#problems")).to_have_count(0)

    assert DatasetRecord.objects.count() == 8
    assert DatasetRecord.objects.filter(is_valid=False).count() == 3

    # The list shows the dataset's latest state.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Datasets", exact=True).click()
    row = page.locator("#datasets tbody tr", has_text="banks")
    expect(row).to_contain_text("Bank records")
    expect(row).to_contain_text("v1")
    expect(row.locator(".badge")).to_have_text("validated")


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("empty.csv", b"", "The submitted file is empty."),
        ("tool.exe", b"MZ\x90\x00\x03\x00\x00\x00", "Unsupported file type '.exe'"),
    ],
    ids=["empty", "exe"],
)
def test_a_refused_file_shows_the_error_by_the_file_field_and_stores_nothing(
    page: Page, make_user, password, login, tmp_path, browser_errors, filename, content, message
):
    user = make_user(Role.ANALYST)
    upload = _write(tmp_path, filename, content)
    before = _stored_files()
    login(page, user, password)
    page.goto("/datasets/")

    _fill_upload_form(page, name="refused", kind="tabular", file=upload)
    with page.expect_response(
        lambda r: r.request.method == "POST" and _path(r.url) == "/datasets/"
    ) as answer:
        page.get_by_role("button", name="Upload", exact=True).click()
    assert answer.value.status == 400
    assert answer.value.request.redirected_from is None
    page.wait_for_load_state()
    # Chromium logs the 400 answer to the document itself; that one is expected, nothing else.
    page.evaluate("0")
    assert browser_errors.all() == [
        "console error: Failed to load resource: the server responded with a status of 400 "
        f"(Bad Request) ({answer.value.url})"
    ]
    browser_errors.clear()

    expect(page).to_have_url(re.compile(r"/datasets/$"))
    file_field = page.locator("#upload-form .field", has=page.locator("#id_file"))
    expect(file_field).to_have_class(re.compile(r"\bhas-error\b"))
    expect(file_field.get_by_role("alert")).to_contain_text(message)
    # Only the file is wrong; the rest of the form keeps what was typed.
    expect(page.locator("#upload-form .has-error")).to_have_count(1)
    expect(page.locator("#upload-form").get_by_label("Name", exact=True)).to_have_value("refused")
    expect(page.locator("#datasets")).to_contain_text("No datasets yet.")

    assert DatasetVersion.objects.count() == 0
    assert Dataset.objects.count() == 0
    assert _stored_files() == before


def test_viewer_sees_the_list_but_no_upload_form(page: Page, make_user, password, login):
    analyst = make_user(Role.ANALYST)
    viewer = make_user(Role.VIEWER)
    # A validated dataset to list, validated here rather than by a worker.
    version, created = services.dataset_upload(
        name="shared-credit",
        kind="tabular",
        file=SimpleUploadedFile("credit.csv", CREDIT_CSV.encode()),
        original_name="credit.csv",
        user=analyst,
        enqueue=False,
    )
    assert created
    services.dataset_version_validate(version_id=version.pk)

    login(page, viewer, password)
    page.goto("/datasets/")
    expect(page.get_by_role("heading", name="Datasets", level=1)).to_be_visible()
    row = page.locator("#datasets tbody tr", has_text="shared-credit")
    expect(row).to_contain_text("Tabular")
    expect(row.locator(".badge")).to_have_text("validated")
    expect(row).to_contain_text(analyst.username)
    expect(page.locator("#upload-form")).to_have_count(0)
    expect(page.get_by_role("heading", name="Upload")).to_have_count(0)
    expect(page.locator("input[type=file]")).to_have_count(0)

    # The dataset itself is readable.
    row.get_by_role("link", name="shared-credit").click()
    expect(page.locator("#summary")).to_contain_text("6 rows · 6 columns")

    # Posting anyway is refused and stores nothing.
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    refused = page.request.post(
        "/datasets/",
        headers={"X-CSRFToken": token},
        multipart={
            "name": "sneaky",
            "kind": "tabular",
            "file": {"name": "s.csv", "mimeType": "text/csv", "buffer": b"a,b\n1,2\n"},
        },
    )
    assert refused.status == 403
    assert list(Dataset.objects.values_list("name", flat=True)) == ["shared-credit"]


def test_admin_uploads_through_the_django_admin(
    page: Page, make_user, password, login, celery_worker, tmp_path
):
    user = make_user(Role.ADMIN)
    csv = _write(tmp_path, "admin-credit.csv", CREDIT_CSV)
    login(page, user, password)

    page.goto("/admin/datasets/dataset/")
    expect(page.get_by_role("heading", name="Select dataset to change")).to_be_visible()
    page.get_by_role("link", name="Upload a dataset").click()
    expect(page).to_have_url(re.compile(r"/admin/datasets/dataset/upload/$"))
    expect(page.locator(".breadcrumbs")).to_contain_text("Upload")

    _fill_upload_form(
        page, name="admin-credit", kind="tabular", file=csv, label="is_bad", time_column="application_date"
    )
    page.locator("input[type=submit][value=Upload]").click()

    version = DatasetVersion.objects.select_related("dataset").get()
    assert version.dataset.name == "admin-credit"
    assert version.created_by_id == user.pk
    expect(page).to_have_url(re.compile(rf"/admin/datasets/datasetversion/{version.pk}/change/$"))
    expect(page.locator(".messagelist li.success")).to_have_text(
        "Uploaded admin-credit v1; validation queued."
    )

    deadline = time.monotonic() + VALIDATION_TIMEOUT_MS / 1000
    while version.status in (DatasetStatus.UPLOADED, DatasetStatus.VALIDATING):
        if time.monotonic() > deadline:
            pytest.fail(f"validation did not end; worker log:\n{_worker_log(celery_worker)}")
        time.sleep(0.2)
        version.refresh_from_db()
    assert version.status == DatasetStatus.VALIDATED, version.error_message

    page.reload()
    expect(page.locator(".field-status .readonly")).to_have_text("Validated")
    expect(page.locator(".field-row_count .readonly")).to_have_text("6")
    expect(page.locator(".field-validation_pretty pre")).to_contain_text('"rowCount": 6')
    expect(page.locator(".field-validation_pretty pre")).to_contain_text('"name": "is_bad"')

    page.goto("/admin/datasets/dataset/")
    row = page.locator("#result_list tbody tr", has_text="admin-credit")
    expect(row).to_contain_text("Validated")
