"""Registers as banks publish them, through the API, the admin and the pages (issue #16):
uploads in any scheme, warnings counted and filtered, warnings made errors by an admin,
and every message in the reader's language."""

from __future__ import annotations

import pytest

from apps.datasets import selectors, services
from apps.datasets.cnaps import make_code
from apps.datasets.models import Dataset, DatasetRecord, DatasetVersion
from apps.users.models import Role
from tests.core.test_api_conventions import assert_error

pytestmark = pytest.mark.django_db

ICBC_CLEARING = "102100099996"
# 中国农业银行 clears through ICBC here: another bank category, a warning only.
WARNED_CSV = (
    "银行名称,联行号,清算行行号\n"
    f"中国工商银行清算中心,{ICBC_CLEARING},{ICBC_CLEARING}\n"
    f"中国农业银行资金清算中心,103100000026,{ICBC_CLEARING}\n"
    "中国银行总行,１０４１０００００００４,104100000004\n"  # noqa: RUF001
    "中国银行总行,104100000012,104100000004\n"
    "中国建设银行总行,105100000017,105100000017\n"
)


def validated(response) -> DatasetVersion:
    assert response.status_code == 201, response.content
    version = DatasetVersion.objects.get(pk=response.json()["data"]["id"])
    assert version.status == "validated", version.error_message
    return version


def test_a_gbk_register_of_luhn_failing_codes_loads_without_invalid_lines(api, upload):
    lines = ["行名,行号,清算行号"]
    clearing = "102100099996"
    for i in range(5000):
        code = make_code("102", f"{1000 + i // 1000}", f"{i % 1000:04d}")
        code = code[:11] + str((int(code[11]) + 1) % 10)  # the published codes' way: not Luhn
        lines.append(f"中国工商银行股份有限公司北京市分行第{i}支行,{code},{clearing}")
    version = validated(
        upload(("\n".join(lines) + "\n").encode("gbk"), "cnaps.csv", name="cnaps", kind="bank_records")
    )
    assert version.encoding.lower() in {"gb18030", "gbk"}
    assert (version.row_count, version.valid_count, version.invalid_count) == (5000, 5000, 0)
    detail = api.get(f"/api/datasets/{version.dataset_id}/versions/1").json()
    assert detail["validationResult"]["schemes"] == {"cnaps": 5000}


def test_warnings_are_counted_filtered_and_shown_next_to_errors(api, upload):
    version = validated(upload(WARNED_CSV, "warned.csv", name="warned", kind="bank_records"))
    assert (version.valid_count, version.invalid_count) == (5, 0)
    dataset_id = version.dataset_id

    quality = api.get(f"/api/datasets/{dataset_id}/quality").json()
    assert quality["warningsByKind"] == {"category_mismatch": 1, "code_normalised": 1, "duplicate_name": 1}
    assert quality["warnedCount"] == 3 and quality["schemes"] == {"cnaps": 5}
    labels = {k["kind"]: (k["level"], k["count"]) for k in quality["kinds"]}
    assert labels["category_mismatch"] == ("warning", 1)

    records = lambda **params: api.get(f"/api/datasets/{dataset_id}/records", params).json()  # noqa: E731
    mismatch = records(kind="category_mismatch")
    assert mismatch["total"] == 1
    line = mismatch["data"][0]
    assert line["lineNumber"] == 3 and line["isValid"] is True and line["problems"] == []
    assert line["warnings"] == [
        {
            "kind": "category_mismatch",
            "message": "clearing_code: bank category 102 differs from bank_code's 103",
        }
    ]
    assert line["scheme"] == "cnaps" and line["country"] == "CN"
    assert records(kind="duplicate_name")["data"][0]["warnings"][0]["message"] == "bank_name: also on line 4"
    assert records(hasWarnings="true")["total"] == 3 and records(hasWarnings="false")["total"] == 2
    assert records(kind="code_normalised")["data"][0]["bankCode"] == "104100000004"
    assert_error(api.get(f"/api/datasets/{dataset_id}/records", {"kind": "luhn"}), 400, "validation_error")


def test_an_admin_makes_a_warning_an_error_in_the_admin_and_validating_again_applies_it(
    client, admin_user, upload, django_capture_on_commit_callbacks
):
    version = validated(upload(WARNED_CSV, "warned.csv", name="warned", kind="bank_records"))
    dataset = version.dataset
    client.force_login(admin_user)
    change = f"/admin/datasets/dataset/{dataset.pk}/change/"
    assert client.get(change).status_code == 200
    response = client.post(
        change,
        {
            "name": dataset.name,
            "description": "",
            "code_scheme": "auto",
            "error_rules": ["category_mismatch", "duplicate_name"],
            "versions-TOTAL_FORMS": "1",
            "versions-INITIAL_FORMS": "1",
            "versions-MIN_NUM_FORMS": "0",
            "versions-MAX_NUM_FORMS": "1000",
            "versions-0-id": str(version.pk),
            "versions-0-dataset": str(dataset.pk),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    dataset.refresh_from_db()
    assert dataset.error_rules == ["category_mismatch", "duplicate_name"]

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            "/admin/datasets/datasetversion/",
            {"action": "revalidate", "_selected_action": [str(version.pk)]},
        )
    assert response.status_code == 302
    assert services.dataset_version_validate(version_id=version.pk) is not None
    version.refresh_from_db()
    assert (version.valid_count, version.invalid_count) == (3, 2)
    assert version.validation_result["errorRules"] == ["category_mismatch", "duplicate_name"]
    invalid = DatasetRecord.objects.filter(version=version, is_valid=False).order_by("line_number")
    assert [r.line_number for r in invalid] == [3, 5]
    assert invalid[0].problems[0][0] == "category_mismatch" and not invalid[0].warnings
    assert "bank_name: also on line 4" in invalid[1].error_message


def test_settings_through_the_api_and_validating_again(
    api, upload, client_for, make_user, django_capture_on_commit_callbacks
):
    version = validated(upload(WARNED_CSV, "warned.csv", name="warned", kind="bank_records"))
    url = f"/api/datasets/{version.dataset_id}"
    analyst = client_for(make_user(Role.ANALYST))
    assert analyst.patch(url, {"errorRules": ["category_mismatch"]}, format="json").status_code == 403
    assert analyst.patch(url, {"codeScheme": "cnaps"}, format="json").status_code == 200
    body = assert_error(
        api.patch(url, {"errorRules": ["luhn_check_digit"]}, format="json"), 400, "validation_error"
    )
    assert "errorRules" in body["errors"]
    saved = api.patch(url, {"errorRules": ["category_mismatch"]}, format="json").json()
    assert saved["data"]["errorRules"] == ["category_mismatch"] and saved["data"]["codeScheme"] == "cnaps"

    with django_capture_on_commit_callbacks(execute=False):
        queued = api.post(f"{url}/versions/1/validate")
    assert queued.status_code == 201 and queued.json()["data"]["taskId"]
    assert_error(api.post(f"{url}/versions/1/validate"), 409, "validation_running")
    services.dataset_version_validate(version_id=version.pk)
    version.refresh_from_db()
    assert version.invalid_count == 1
    assert version.validation_result["codeScheme"] == "cnaps"
    bad = api.get(f"{url}/records", {"isValid": "false"}).json()["data"]
    assert [r["lineNumber"] for r in bad] == [3]
    assert bad[0]["problems"][0]["kind"] == "category_mismatch"


def test_a_bic_register_declared_at_upload(api, upload):
    csv = (
        "Bank name,SWIFT code,Country,City,Address\n"
        "Deutsche Bank AG,DEUTDEFFXXX,Germany,Frankfurt am Main,Taunusanlage 12\n"
        "BNP Paribas,BNPAFRPPXXX,FR,Paris,16 boulevard des Italiens\n"
        "中国工商银行,ICBKCNBJ,中国,北京,北京市西城区复兴门内大街55号\n"
        "中国银行北京分行,BKCHCNBJ110,CN,北京,\n"
        "Nowhere Bank,NOWHZZ22,,,\n"
    )
    version = validated(upload(csv, "bics.csv", name="bics", kind="bank_records", codeScheme="bic"))
    assert version.dataset.code_scheme == "bic"
    assert (version.valid_count, version.invalid_count) == (4, 1)
    records = api.get(f"/api/datasets/{version.dataset_id}/records").json()["data"]
    assert [(r["scheme"], r["country"], r["bic"]) for r in records[:4]] == [
        ("bic", "DE", "DEUTDEFFXXX"),
        ("bic", "FR", "BNPAFRPPXXX"),
        ("bic", "CN", "ICBKCNBJ"),
        ("bic", "CN", "BKCHCNBJ110"),
    ]
    assert (
        records[2]["address"] == "北京市西城区复兴门内大街55号" and records[0]["city"] == "Frankfurt am Main"
    )
    assert records[4]["problems"][0]["kind"] == "bank_code_country"

    columns = selectors.bank_records(version)
    assert list(columns) == ["bank_name", "bank_code", "clearing_code", "scheme", "country", "city", "bic"]
    assert columns["bank_code"] == ["DEUTDEFFXXX", "BNPAFRPPXXX", "ICBKCNBJ", "BKCHCNBJ110"]
    assert columns["clearing_code"] == ["", "", "", ""] and columns["country"] == ["DE", "FR", "CN", "CN"]


def test_a_national_register_loads(upload):
    csv = "bank_name,bank_code,country\nFirst Bank,01-0001,NZ\nBundesbank Berlin,DE10010010,DE\nBundesbank,10010010,DE\n"  # noqa: E501
    version = validated(upload(csv, "national.csv", name="national", kind="bank_records"))
    assert (version.valid_count, version.invalid_count) == (3, 0)
    assert set(version.records.values_list("scheme", flat=True)) == {"national"}


def test_a_code_scheme_for_tabular_data_is_refused(upload):
    body = assert_error(
        upload("a,b\n1,2\n", "t.csv", name="t", kind="tabular", codeScheme="cnaps"), 400, "validation_error"
    )
    assert "codeScheme" in body["errors"] and not Dataset.objects.exists()


def test_validation_messages_follow_the_readers_language(api, upload):
    version = validated(upload(WARNED_CSV + ",10210009999,\n", "zh.csv", name="zh", kind="bank_records"))
    api.credentials(HTTP_ACCEPT_LANGUAGE="zh-hans")
    bad = api.get(f"/api/datasets/{version.dataset_id}/records", {"isValid": "false"}).json()["data"][0]
    assert bad["errorMessage"].startswith("银行名称：缺失")  # noqa: RUF001
    assert "丢失了前导零" in bad["errorMessage"] and "lost" not in bad["errorMessage"]
    warned = api.get(f"/api/datasets/{version.dataset_id}/records", {"kind": "duplicate_name"}).json()[
        "data"
    ][0]
    assert warned["warnings"][0]["message"] == "银行名称：第 4 行也有此名称"  # noqa: RUF001
    quality = api.get(f"/api/datasets/{version.dataset_id}/quality").json()
    assert {k["label"] for k in quality["kinds"]} >= {"缺少银行名称", "清算行行号属于其他行别"}


def test_an_api_validation_error_in_chinese(api, upload):
    api.credentials(HTTP_ACCEPT_LANGUAGE="zh-hans")
    body = assert_error(upload(b"", "empty.csv", name="empty"), 400, "validation_error")
    assert body["errors"]["file"] == ["文件为空。"]
    body = assert_error(
        upload("a\n1\n", "t.csv", name="t", kind="tabular", codeScheme="bic"), 400, "validation_error"
    )
    assert body["errors"]["codeScheme"] == ["只有银行行号数据集才有编码体系。"]
    failed = upload("a,b\n1,2\n3,4,5\n", "bad.csv", name="bad")
    version = DatasetVersion.objects.get(pk=failed.json()["data"]["id"])
    assert (
        version.status == "error" and "do not have the header" in version.error_message
    )  # stored in English
    detail = api.get(f"/api/datasets/{version.dataset_id}/versions/1").json()
    assert detail["errorMessage"] == "1 行的字段数与表头的 2 个不一致：第 3 行（3 个字段）。"  # noqa: RUF001
    assert detail["validationResult"]["problems"][0]["message"] == detail["errorMessage"]


def test_the_dataset_pages_in_chinese(client, admin_user, upload):
    version = validated(
        upload(WARNED_CSV + ",10210009999,\n", "zh.csv", name="zh-banks", kind="bank_records")
    )
    client.force_login(admin_user)
    client.cookies["omm_language"] = "zh-hans"
    listing = client.get("/datasets/").content.decode()
    assert (
        "暂无数据集" not in listing
        and "银行行号数据" in listing
        and "上传" in listing
        and "已校验" in listing
    )
    assert "No datasets yet" not in listing and "Bank records" not in listing
    page = client.get(f"/datasets/{version.dataset_id}/").content.decode()
    for text in (
        "版本 1",
        "有效",
        "无效行",
        "有警告的行",
        "编码体系",
        "银行名称：缺失",  # noqa: RUF001
        "清算行行号属于其他行别",
    ):
        assert text in page, text
    for text in ("Invalid lines", "Versions", "bank_name: missing", "Lines with warnings"):
        assert text not in page, text
    only = client.get(f"/datasets/{version.dataset_id}/", {"kind": "duplicate_name"}).content.decode()
    assert "银行名称：第 4 行也有此名称" in only and 'id="kind-lines"' in only  # noqa: RUF001
    admin_page = client.get(f"/admin/datasets/datasetversion/{version.pk}/change/").content.decode()
    assert "按问题类型与编码体系统计的行数" in admin_page and "缺少银行名称" in admin_page
    assert "上传数据集" in client.get("/admin/datasets/dataset/upload/").content.decode()
    records = client.get("/admin/datasets/datasetrecord/", {"kind": "bank_name_missing"}).content.decode()
    assert "银行名称：缺失" in records  # noqa: RUF001


def test_the_dataset_pages_in_english_keep_their_texts(client, admin_user, upload):
    version = validated(upload(WARNED_CSV, "en.csv", name="en-banks", kind="bank_records"))
    client.force_login(admin_user)
    client.cookies["omm_language"] = "en"
    page = client.get(f"/datasets/{version.dataset_id}/").content.decode()
    assert "5 rows · 3 columns · <strong>5</strong> valid" in page
    assert (
        "Lines with warnings" in page
        and "clearing_code: bank category 102 differs from bank_code&#x27;s 103" in page
    )
