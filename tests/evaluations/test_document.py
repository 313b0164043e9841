"""The model document of a version: the page in Chinese and English, the PDF (read back
with pypdf), the API with its errors, who may read it, and a scorecard's bins."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from apps.evaluations import services
from apps.evaluations.document import version_document
from apps.models import services as registry
from apps.models.models import ModelVersion, ReasonText
from apps.users.models import Role
from tests.evaluations.conftest import run

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}

# A small two-feature card, as the scorecard engine stores it on ``version.card``.
CARD = {
    "scaling": {
        "pdo": 20,
        "baseOdds": 50,
        "baseScore": 600,
        "rounding": "integer",
        "factor": 28.85,
        "offset": 487.1,
    },
    "intercept": -2.31,
    "features": [
        {
            "name": "age",
            "kind": "numerical",
            "coef": 0.83,
            "iv": 0.2412,
            "trend": "descending",
            "bins": [
                {
                    "label": "(-inf, 30]",
                    "kind": "range",
                    "count": 812,
                    "events": 121,
                    "eventRate": 0.149,
                    "woe": -0.4312,
                    "iv": 0.0611,
                    "points": -11.0,
                },
                {
                    "label": "(30, inf)",
                    "kind": "range",
                    "count": 2188,
                    "events": 139,
                    "eventRate": 0.0635,
                    "woe": 0.2157,
                    "iv": 0.0306,
                    "points": 6.0,
                },
            ],
        },
        {
            "name": "city",
            "kind": "categorical",
            "coef": 1.02,
            "iv": 0.0905,
            "trend": None,
            "bins": [
                {
                    "label": "北京",
                    "kind": "values",
                    "count": 900,
                    "events": 60,
                    "eventRate": 0.0667,
                    "woe": 0.3811,
                    "iv": 0.0402,
                    "points": 11.0,
                },
                {
                    "label": "__missing__",
                    "kind": "missing",
                    "count": 30,
                    "events": 9,
                    "eventRate": 0.3,
                    "woe": -1.22,
                    "iv": 0.0333,
                    "points": -36.0,
                },
            ],
        },
    ],
    "candidates": [
        {"name": "age", "iv": 0.2412, "selected": True, "reason": ""},
        {"name": "city", "iv": 0.0905, "selected": True, "reason": ""},
        {"name": "income", "iv": 0.0071, "selected": False, "reason": "IV below 0.02"},
    ],
    "edits": [],
}


@pytest.fixture
def evaluated(admin_user, trained, holdout):
    """The trained version, evaluated on the holdout (AUC, KS, deciles, PSI, CSI)."""
    return run(
        services.evaluation_create(
            user=admin_user,
            request={"model_version": trained.pk, "dataset": holdout.dataset_id},
            enqueue=False,
        )
    )


@pytest.fixture
def viewer_client(client, make_user):
    client.force_login(make_user(Role.VIEWER))
    return client


def _url(version: ModelVersion, query: str = "") -> str:
    return f"/models/versions/{version.pk}/document/{query}"


def _table(html: str, table_id: str) -> str:
    found = re.search(rf'<table class="table[^"]*" id="{table_id}">(.*?)</table>', html, re.S)
    assert found is not None, table_id
    return found.group(1)


def _field(html: str, label: str) -> str:
    found = re.search(rf'<th scope="row">{re.escape(label)}</th><td>([^<]*)</td>', html)
    assert found is not None, label
    return found.group(1)


def test_viewer_reads_the_document_in_chinese_with_the_versions_figures(viewer_client, evaluated):
    version = evaluated.model_version
    response = viewer_client.get(_url(version), **ZH)
    assert response.status_code == 200 and response["Content-Language"] == "zh-hans"
    html = response.content.decode()
    for title in ("3. 数据质量", "4. 特征", "6. 训练", "7. 评估"):
        assert f"<h2>{title}</h2>" in html, title
    assert '<html lang="zh-hans">' in html and "Asia/Shanghai" in html
    # The AUC of the evaluation, as the report page writes it (floatformat:4).
    metrics = _table(html, "evaluation-metrics")
    assert f"<td>AUC</td><td>{evaluated.metrics['auc']:.4f}</td>" in metrics
    assert f"<td>KS</td><td>{evaluated.metrics['ks']:.4f}</td>" in metrics
    assert len(re.findall(r"<tr>", _table(html, "evaluation-deciles"))) == 1 + 10
    confusion = evaluated.report["confusion_matrix"]
    assert f"<td>{confusion['tn']}</td><td>{confusion['fp']}</td>" in _table(html, "evaluation-confusion")
    # Lineage and stability come from the version and the evaluation, not from defaults.
    assert version.dataset_sha256 and f"<td>{version.dataset_sha256}</td>" in html
    assert f"<td>{evaluated.metrics['psi']:.4f}</td>" in _table(html, "stability-history")
    assert 'id="stability-csi"' in html and 'id="stability-psi"' in html
    assert 'href="?format=pdf&amp;lang=zh-hans" id="download-pdf"' in html


def test_lang_parameter_renders_english_without_changing_the_readers_language(viewer_client, evaluated):
    version = evaluated.model_version
    html = viewer_client.get(_url(version, "?lang=en"), **ZH).content.decode()
    for number, title in enumerate(
        (
            "Purpose and owner",
            "Data and lineage",
            "Data quality",
            "Features",
            "Parameters",
            "Training",
            "Evaluation",
            "Stability",
            "Reason code dictionary",
            "Approvals and trail",
        ),
        start=1,
    ):
        assert f"<h2>{number}. {title}</h2>" in html, title
    assert _field(html, "Model") == version.model.name
    assert _field(html, "Event value (scored as bad)") == str(version.feature_schema["labelClasses"][1])
    assert _field(html, "Training rows") == str(version.training_info["rows"]["train"])
    assert _field(html, "Seed") == str(version.seed)
    # The registration is the first event of the trail.
    assert "<td>Register</td>" in _table(html, "events")
    # The reader's own language is untouched: the next page is Chinese again.
    again = viewer_client.get(_url(version), **ZH).content.decode()
    assert "<h2>3. 数据质量</h2>" in again and "<h2>3. Data quality</h2>" not in again


def test_pdf_download_holds_the_model_name_and_chinese_titles(viewer_client, evaluated):
    version = evaluated.model_version
    response = viewer_client.get(_url(version, "?format=pdf&lang=zh-hans"), **ZH)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="credit-v1-document-zh-hans.pdf"'
    body = response.content
    assert body.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(body))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert version.model.name in text and "数据质量" in text and "评估" in text
    assert f"{evaluated.metrics['auc']:.4f}" in text
    assert len(reader.pages) > 1

    english = viewer_client.get(_url(version, "?format=pdf&lang=en"))
    assert english["Content-Disposition"].endswith('-document-en.pdf"')
    pages = PdfReader(io.BytesIO(english.content)).pages
    assert "Data quality" in pages[0].extract_text() + pages[1].extract_text()
    # Every page carries its number out of the whole, which is known only at the end.
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page.extract_text()


def test_api_answers_html_and_pdf_and_refuses_bad_requests(client_for, make_user, evaluated):
    version = evaluated.model_version
    api = client_for(make_user(Role.VIEWER))
    pdf = api.get(f"/api/model-documents/{version.pk}?format=pdf&lang=en")
    assert (
        pdf.status_code == 200
        and pdf.content.startswith(b"%PDF")
        and pdf["Content-Type"] == "application/pdf"
    )
    html = api.get(f"/api/model-documents/{version.pk}?lang=en")
    assert html.status_code == 200 and "<h2>7. Evaluation</h2>" in html.content.decode()

    missing = api.get(f"/api/model-documents/{version.pk + 999}?format=pdf")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    bad = api.get(f"/api/model-documents/{version.pk}?format=docx")
    assert bad.status_code == 400 and bad.json()["code"] == "validation_error"
    assert "format" in bad.json()["errors"]
    bad_lang = api.get(f"/api/model-documents/{version.pk}?lang=fr")
    assert bad_lang.status_code == 400 and "lang" in bad_lang.json()["errors"]
    unknown = api.get(f"/api/model-documents/{version.pk}?colour=red")
    assert unknown.status_code == 400 and "colour" in unknown.json()["errors"]


def test_page_refuses_unknown_versions_formats_and_anonymous_readers(client, viewer_client, trained):
    assert viewer_client.get(f"/models/versions/{trained.pk + 999}/document/").status_code == 404
    assert viewer_client.get(_url(trained, "?format=docx")).status_code == 400
    assert viewer_client.get(_url(trained, "?lang=fr")).status_code == 400
    client.logout()
    anonymous = client.get(_url(trained))
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]
    from rest_framework.test import APIClient

    assert APIClient().get(f"/api/model-documents/{trained.pk}").status_code == 401


def test_trace_and_versions_pages_link_to_the_document(viewer_client, trained):
    link = f'href="/models/versions/{trained.pk}/document/"'
    assert link in viewer_client.get(f"/traceability/{trained.pk}/").content.decode()
    assert link in viewer_client.get(f"/models/{trained.model_id}/versions/").content.decode()


def test_document_without_evaluations_says_so(viewer_client, trained):
    html = viewer_client.get(_url(trained, "?lang=en")).content.decode()
    assert "No evaluation of this version has completed." in html
    assert "No evaluation of this version measured stability (PSI, CSI)." in html
    assert 'id="evaluation-metrics"' not in html
    # Without a card the parameters are listed instead of bins.
    parameters = _table(html, "parameter-list")
    assert f"<td>num_boost_round</td><td>{trained.parameters['num_boost_round']}</td>" in parameters


def test_scorecard_version_shows_its_bins_candidates_and_reason_texts(viewer_client, trained, admin_user):
    ModelVersion.objects.filter(pk=trained.pk).update(
        card=CARD, feature_schema={**trained.feature_schema, "features": ["age", "city"], "eventValue": 1}
    )
    ReasonText.objects.create(feature="age", code="R01", text_zh="年龄偏低", text_en="Young applicant")
    ReasonText.objects.create(feature="city", code="R02", text_zh="城市风险", text_en="City risk (global)")
    ReasonText.objects.create(
        model=trained.model, feature="city", code="R03", text_zh="所在城市", text_en="City of this model"
    )
    ReasonText.objects.create(feature="unused", code="R99", text_zh="无关", text_en="Not a feature here")
    html = viewer_client.get(_url(trained, "?lang=en")).content.decode()
    assert "<h2>5. Scorecard binning</h2>" in html and 'id="parameter-list"' not in html
    age = _table(html, "bins-1")
    assert "<td>(-inf, 30]</td>" in age and "<td>812</td>" in age and "<td>-11.00</td>" in age
    assert "<td>-0.4312</td>" in age and "<td>0.1490</td>" in age
    city = _table(html, "bins-2")
    assert "<td>北京</td>" in city and "<td>-36.00</td>" in city
    assert "age · Numerical · coefficient 0.8300 · IV 0.2412 · trend descending" in html
    assert _field(html, "PDO (points to double the odds)") == "20"
    candidates = _table(html, "feature-list")
    assert "<td>income</td>" in candidates and "<td>IV below 0.02</td>" in candidates
    assert _field(html, "Event value (scored as bad)") == "1"
    # The model's own text wins over the global one of the same feature and bin.
    reasons = _table(html, "reason-list")
    assert "Young applicant" in reasons and "City of this model" in reasons
    assert "City risk (global)" not in reasons and "R99" not in reasons
    chinese = viewer_client.get(_url(trained, "?lang=zh-hans")).content.decode()
    assert "年龄偏低" in _table(chinese, "reason-list") and "Young applicant" not in chinese


def test_document_records_approvals_and_derived_versions(admin_user, trained, credit_version):
    from tests.evaluations.conftest import train

    registry.version_activate(version=trained, user=admin_user, reason="validated by the second line")
    child = train(admin_user, credit_version.dataset_id)
    ModelVersion.objects.filter(pk=child.pk).update(
        derived_from=trained,
        training_info={**child.training_info, "edits": [{"feature": "age", "merge": [0, 1]}]},
    )
    doc = version_document(ModelVersion.objects.get(pk=trained.pk))
    trail = next(s for s in doc["sections"] if s["id"] == "trail")
    events = trail["blocks"][0]["rows"]
    assert [row[1] for row in events] == ["Register", "Promote"]
    assert events[1][4] == admin_user.username and events[1][5] == "validated by the second line"
    lineage = next(s for s in version_document(child)["sections"] if s["id"] == "lineage")
    fields = dict(lineage["blocks"][0]["rows"])
    assert fields["Derived from"] == str(trained)
    assert lineage["blocks"][1]["rows"] == [["1", "feature: age; merge: [0, 1]"]]


def test_openapi_describes_the_document_endpoint(client, admin_user):
    client.force_login(admin_user)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/model-documents/{id}"]["get"]
    content = operation["responses"]["200"]["content"]
    assert content["application/pdf"]["schema"] == {"type": "string", "format": "binary"}
    assert "text/html" in content and {"400", "404"} <= set(operation["responses"])
    params = {p["name"]: p["schema"].get("enum") for p in operation["parameters"]}
    assert set(params["format"]) == {"html", "pdf"} and set(params["lang"]) == {"zh-hans", "en"}
