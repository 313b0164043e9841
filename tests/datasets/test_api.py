"""Datasets through the API as an integrator or analyst would use them."""

from __future__ import annotations

import pytest

from apps.datasets.models import Dataset, DatasetRecord, DatasetStatus, DatasetVersion
from apps.users.models import Role
from tests.core.test_api_conventions import assert_error
from tests.sample_data import CREDIT_CSV, bank_csv

pytestmark = pytest.mark.django_db


def test_tabular_upload_is_validated_with_types_and_quality(api, upload):
    response = upload(
        CREDIT_CSV,
        "credit.csv",
        name="credit",
        kind="tabular",
        labelColumn="is_bad",
        timeColumn="application_date",
        keyColumns=["application_id"],
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["success"] and body["data"]["version"] == 1 and body["data"]["status"] == "uploaded"
    dataset_id = body["data"]["dataset"]

    detail = api.get(f"/api/datasets/{dataset_id}/versions/1").json()
    assert detail["status"] == "validated" and detail["progress"] == 100
    assert detail["rowCount"] == 6 and detail["columnCount"] == 6
    columns = {c["name"]: c for c in detail["validationResult"]["columns"]}
    assert columns["user_age"]["kind"] == "numerical"
    assert columns["city"]["dtype"] == "string"

    quality = api.get(f"/api/datasets/{dataset_id}/quality").json()
    assert quality["rowCount"] == 6 and 0 <= quality["score"] <= 100
    by_name = {c["name"]: c for c in quality["columns"]}
    assert by_name["user_age"]["missing"] == 1 and by_name["income"]["missing"] == 1
    assert quality["label"]["column"] == "is_bad"
    assert quality["label"]["badRate"] == pytest.approx(2 / 6)
    # Chinese values round-trip exactly.
    assert "北京" in {t["value"] for t in by_name["city"]["topValues"]}


def test_same_bytes_answer_the_existing_version(api, upload):
    first = upload(CREDIT_CSV, "a.csv", name="credit")
    again = upload(CREDIT_CSV, "renamed.csv", name="another-name")
    assert again.status_code == 200
    assert again.json()["data"]["id"] == first.json()["data"]["id"]
    assert "already uploaded" in again.json()["message"]
    assert DatasetVersion.objects.count() == 1 and not Dataset.objects.filter(name="another-name").exists()


def test_new_upload_under_a_name_is_the_next_version_and_old_ones_stay(api, upload):
    upload(CREDIT_CSV, "v1.csv", name="credit")
    second = upload(CREDIT_CSV + "A7,2024-01-07,29,成都,7000,0\n", "v2.csv", name="credit")
    assert second.json()["data"]["version"] == 2
    dataset_id = second.json()["data"]["dataset"]
    versions = api.get(f"/api/datasets/{dataset_id}/versions").json()
    assert [v["version"] for v in versions["data"]] == [2, 1]
    assert api.get(f"/api/datasets/{dataset_id}/quality", {"version": 1}).json()["rowCount"] == 6
    assert api.get(f"/api/datasets/{dataset_id}/quality").json()["rowCount"] == 7
    old = DatasetVersion.objects.get(version=1)
    assert old.file.storage.exists(old.file.name) and old.parquet.storage.exists(old.parquet.name)


def test_stored_file_name_is_chosen_by_the_server(upload):
    response = upload(CREDIT_CSV, "../../etc/pass\x07wd.csv", name="traversal")
    assert response.status_code == 201
    version = DatasetVersion.objects.get()
    assert version.original_filename == "pass wd.csv" or "/" not in version.original_filename
    assert ".." not in version.file.name and "pass" not in version.file.name
    assert version.file.name.startswith("datasets/")


def test_bank_records_keep_every_line_and_explain_the_bad_ones(api, upload):
    response = upload(bank_csv(5), "banks.csv", name="banks", kind="bank_records")
    dataset_id = response.json()["data"]["dataset"]
    version = api.get(f"/api/datasets/{dataset_id}/versions/1").json()
    assert version["status"] == "validated"
    assert version["rowCount"] == 8 and version["validCount"] == 5 and version["invalidCount"] == 3
    assert DatasetRecord.objects.count() == 8

    bad = api.get(f"/api/datasets/{dataset_id}/records", {"isValid": "false"}).json()
    assert bad["total"] == 3
    reasons = {r["lineNumber"]: r["errorMessage"] for r in bad["data"]}
    assert "bank_name" in reasons[7]
    assert "12 digits" in reasons[8]
    assert "duplicate" in reasons[9] and "line 3" in reasons[9]
    good = api.get(f"/api/datasets/{dataset_id}/records", {"isValid": "true", "search": "北京第3支行"}).json()
    assert good["total"] == 1 and good["data"][0]["bankCode"].startswith("1021000")


def test_bank_records_in_gbk_with_english_headers(api, upload):
    content = bank_csv(3, bad=False, header="bank_name,bank_code,clearing_code").encode("gbk")
    response = upload(content, "banks-gbk.txt", name="banks-gbk", kind="bank_records")
    version = DatasetVersion.objects.get(pk=response.json()["data"]["id"])
    assert version.status == DatasetStatus.VALIDATED, version.error_message
    assert version.encoding.lower() in {"gb18030", "gbk"}
    assert DatasetRecord.objects.filter(
        version=version, bank_name="中国工商银行股份有限公司北京第2支行"
    ).exists()


def test_xlsx_upload(api, upload, xlsx_bytes):
    response = upload(xlsx_bytes, "credit.xlsx", name="credit-xlsx", labelColumn="is_bad")
    version = DatasetVersion.objects.get(pk=response.json()["data"]["id"])
    assert version.status == DatasetStatus.VALIDATED, version.error_message
    assert version.format == "xlsx" and version.row_count == 6


@pytest.mark.parametrize(
    ("content", "filename", "fields", "field"),
    [
        (CREDIT_CSV, "credit.exe", {}, "file"),
        (b"", "empty.csv", {}, "file"),
        (b"<!doctype html><html><body>hi</body></html>", "page.csv", {}, "file"),
        (b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64, "binary.csv", {}, "file"),
        (CREDIT_CSV, "text.xlsx", {}, "file"),
        (CREDIT_CSV, "c.csv", {"kind": "pictures"}, "kind"),
        (CREDIT_CSV, "c.csv", {"name": ""}, "name"),
        (CREDIT_CSV, "c.csv", {"name": "a/b"}, "name"),
        (CREDIT_CSV, "c.csv", {"colour": "red"}, "colour"),
        (CREDIT_CSV, "c.csv", {"encoding": "ebcdic"}, "encoding"),
        (CREDIT_CSV, "c.csv", {"kind": "bank_records", "labelColumn": "x"}, "labelColumn"),
    ],
)
def test_bad_uploads_are_refused_and_store_nothing(upload, content, filename, fields, field):
    fields = {"name": "bad", **fields}
    body = assert_error(upload(content, filename, **fields), 400, "validation_error")
    assert field in body["errors"], body
    assert not DatasetVersion.objects.exists()


def test_missing_file_is_a_field_error(api):
    body = assert_error(api.post("/api/datasets", {"name": "x"}, format="multipart"), 400, "validation_error")
    assert "file" in body["errors"]


def test_oversized_upload_is_413_before_storing(upload, settings):
    settings.OMM_MAX_UPLOAD_BYTES = 100
    response = upload(CREDIT_CSV * 10, "big.csv", name="big")
    assert_error(response, 413, "file_too_large")
    assert not DatasetVersion.objects.exists()


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("a,b,c\n", "no data"),
        ("a,a,b\n1,2,3\n", "a"),
        ("a,b\n1,2\n3,4,5\n", "line 3"),
        (b"a,b\n1,\xff\xfe\xfa\n", "line 2"),
    ],
)
def test_bad_content_ends_in_error_with_the_reason(api, upload, content, needle):
    response = upload(content, "bad.csv", name="bad-content")
    assert response.status_code == 201
    version = DatasetVersion.objects.get()
    assert version.status == DatasetStatus.ERROR
    assert needle in version.error_message.lower() or needle in version.error_message
    detail = api.get(f"/api/datasets/{version.dataset_id}/versions/1").json()
    assert detail["errorMessage"] == version.error_message and detail["validationResult"]["problems"]


def test_named_label_column_must_exist(upload):
    upload(CREDIT_CSV, "c.csv", name="c", labelColumn="nope")
    version = DatasetVersion.objects.get()
    assert version.status == DatasetStatus.ERROR and "nope" in version.error_message


def test_validation_runs_once(upload):
    from apps.datasets.services import dataset_version_validate

    upload(CREDIT_CSV, "c.csv", name="c")
    version = DatasetVersion.objects.get()
    assert dataset_version_validate(version_id=version.pk) is None  # a second delivery is a no-op
    version.refresh_from_db()
    assert version.status == DatasetStatus.VALIDATED and version.task.attempts == 1


def test_name_of_another_kind_is_a_conflict(upload):
    upload(CREDIT_CSV, "c.csv", name="shared")
    assert_error(upload(bank_csv(2, bad=False), "b.csv", name="shared", kind="bank_records"), 409, "conflict")


def test_list_filters_and_search(api, upload):
    upload(CREDIT_CSV, "c.csv", name="credit-2024", description="retail loans")
    upload(bank_csv(2, bad=False), "b.csv", name="banks", kind="bank_records")
    names = lambda params: [d["name"] for d in api.get("/api/datasets", params).json()["data"]]  # noqa: E731
    assert names({"kind": "bank_records"}) == ["banks"]
    assert names({"search": "retail"}) == ["credit-2024"]
    assert set(names({"status": "validated"})) == {"credit-2024", "banks"}
    assert_error(api.get("/api/datasets", {"status": "done"}), 400, "validation_error")
    listed = api.get("/api/datasets", {"kind": "tabular"}).json()["data"][0]
    assert listed["latestVersion"]["status"] == "validated" and listed["latestVersion"]["version"] == 1


def test_archive_hides_from_list_and_delete_is_for_admins(
    api, upload, client_for, make_user, django_capture_on_commit_callbacks
):
    dataset_id = upload(CREDIT_CSV, "c.csv", name="old").json()["data"]["dataset"]
    analyst = client_for(make_user(Role.ANALYST))
    response = analyst.post(f"/api/datasets/{dataset_id}/archive", {}, format="json")
    assert response.status_code == 200 and response.json()["data"]["isArchived"] is True
    assert api.get("/api/datasets").json()["total"] == 0
    assert api.get("/api/datasets", {"archived": "true"}).json()["total"] == 1
    assert analyst.delete(f"/api/datasets/{dataset_id}").status_code == 403
    version = DatasetVersion.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/datasets/{dataset_id}").status_code == 204
    assert not Dataset.objects.exists()
    assert not version.file.storage.exists(version.file.name)


@pytest.mark.parametrize(
    ("role", "can_upload"),
    [(Role.ANALYST, True), (Role.ADMIN, True), (Role.INTEGRATOR, True), (Role.VIEWER, False)],
)
def test_who_may_upload_and_read(upload, client_for, make_user, role, can_upload):
    client = client_for(make_user(role))
    response = upload(CREDIT_CSV, "c.csv", name="perm", client=client)
    assert response.status_code == (201 if can_upload else 403)
    assert client.get("/api/datasets").status_code == 200


def test_quality_and_records_answer_clear_errors(api, upload):
    tab = upload(CREDIT_CSV, "c.csv", name="t").json()["data"]["dataset"]
    bank = upload(bank_csv(2, bad=False), "b.csv", name="b", kind="bank_records").json()["data"]["dataset"]
    # Bank records have a quality report too (issue #16): lines per kind and per code scheme.
    quality = api.get(f"/api/datasets/{bank}/quality").json()
    assert quality["rowCount"] == 2 and quality["invalidCount"] == 0 and quality["schemes"] == {"cnaps": 2}
    assert_error(api.get(f"/api/datasets/{tab}/records"), 400, "validation_error")
    assert_error(api.get(f"/api/datasets/{tab}/quality", {"version": 9}), 404, "not_found")
    assert_error(api.get(f"/api/datasets/{tab}/quality", {"version": "x"}), 400, "validation_error")
    assert_error(api.get("/api/datasets/999999"), 404, "not_found")
