"""The feature center in a real browser: registering features from a dataset in one step,
finding them by tag and search, a feature's page with its statistics, IV and chart, and the
viewer's read-only list."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import Page, expect

from apps.datasets import services as dataset_services
from apps.datasets.demo_data import write_credit_csv
from apps.datasets.models import DatasetStatus, DatasetVersion
from apps.features import services as feature_services
from apps.features.models import Feature, FeatureSet, FeatureType
from apps.features.statistics import suggest_feature_name
from apps.users.models import Role
from tests.browser.conftest import wait_for_charts

pytestmark = pytest.mark.browser

LABEL = "is_bad"
ROWS = 400
IV_CELL = re.compile(r"^\d+\.\d{4} (useless|weak|medium|strong|suspicious)$")


def _validated_credit(tmp_path: Path, user, monkeypatch, name: str = "credit") -> DatasetVersion:
    """A validated tabular credit dataset, stored and validated here: no worker needed."""
    path = write_credit_csv(tmp_path / f"{name}.csv", rows=ROWS)
    version, created = dataset_services.dataset_upload(
        name=name,
        kind="tabular",
        file=SimpleUploadedFile(f"{name}.csv", path.read_bytes()),
        original_name=f"{name}.csv",
        user=user,
        label_column=LABEL,
        enqueue=False,
    )
    assert created
    version = dataset_services.dataset_version_validate(version_id=version.pk)
    assert version.status == DatasetStatus.VALIDATED, version.error_message
    return version


def _csv_columns(tmp_path: Path, name: str = "credit") -> list[str]:
    return (tmp_path / f"{name}.csv").read_text(encoding="utf-8").split("\n", 1)[0].split(",")


def _register_all(version: DatasetVersion, user, tags=("credit", "risk")) -> FeatureSet:
    """Register every column but the label, as the page would, under ``credit-features``."""
    proposals = feature_services.features_propose(dataset_version=version)
    features, feature_set = feature_services.features_register(
        dataset_version=version,
        columns=[{"column": p["column"]} for p in proposals],
        user=user,
        tags=tags,
        feature_set_name=f"{version.dataset.name}-features",
        proposals=proposals,
    )
    assert feature_set is not None and len(features) == len(proposals)
    return feature_set


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def _names(page: Page):
    return page.locator("#features tbody tr td:first-child")


def test_analyst_registers_features_from_a_dataset_in_one_step(
    page: Page, make_user, password, login, tmp_path, monkeypatch
):
    analyst = make_user(Role.ANALYST)
    version = _validated_credit(tmp_path, analyst, monkeypatch)
    dataset = version.dataset
    columns = [c for c in _csv_columns(tmp_path) if c != LABEL]
    expected = {p["column"]: p for p in feature_services.features_propose(dataset_version=version)}
    assert list(expected) == columns

    login(page, analyst, password)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Features", exact=True).click()
    expect(page).to_have_url(re.compile(r"/features/$"))
    expect(page.get_by_role("heading", name="Features", level=1)).to_be_visible()
    expect(page.locator("#features tbody")).to_contain_text("No features match.")

    page.get_by_label("Register features from dataset").select_option(label="credit")
    page.get_by_role("button", name="Propose features").click()
    expect(page).to_have_url(re.compile(rf"/features/register/\?dataset={dataset.pk}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Register features from credit v1")

    rows = page.locator("#proposals tbody tr")
    expect(rows).to_have_count(len(columns))
    expect(rows.locator("td:nth-child(2)")).to_have_text(columns)
    expect(page.locator("#proposals thead")).to_contain_text(f"IV vs {LABEL}")
    for column, proposal in expected.items():
        row = rows.filter(has=page.get_by_label(f"register {column}", exact=True))
        expect(row.locator("td:nth-child(4)")).to_have_text(str(FeatureType(proposal["type"]).label))
        expect(row.locator("td:nth-child(5)")).to_have_text(proposal["data_type"])
        expect(row.locator(f"input[name='name-{column}']")).to_have_value(suggest_feature_name(column))
    score = rows.filter(has=page.get_by_label("register credit_score", exact=True))
    expect(score.locator("td:nth-child(4)")).to_have_text("Numerical")
    expect(score.locator("td:nth-child(7)")).to_have_text(IV_CELL)
    assert expected["credit_score"]["statistics"]["iv"]["iv"] > 0
    # The label is what the IV is computed against, not a feature.
    expect(page.get_by_label(f"register {LABEL}", exact=True)).to_have_count(0)

    page.get_by_label("register application_id", exact=True).uncheck()
    page.locator("input[name='name-user_age']").fill("age_years")
    page.get_by_label("Tags for all").fill("credit risk")
    feature_set_name = page.get_by_label("Also create the feature set")
    expect(feature_set_name).to_have_value("credit-features")
    page.get_by_role("button", name="Register selected").click()

    expect(page).to_have_url(re.compile(r"/features/$"))
    registered = [suggest_feature_name(c) for c in columns if c != "application_id"]
    registered[registered.index("user_age")] = "age_years"
    expect(page.locator(".message.success")).to_have_text(
        f"Registered {len(registered)} features and credit-features v1."
    )
    expect(_names(page)).to_have_text(sorted(registered))
    expect(page.locator("#features").locator("xpath=following-sibling::p")).to_contain_text(
        f"{len(registered)} features"
    )
    expect(page.get_by_role("link", name="age_years", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="application_id", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="user_age", exact=True)).to_have_count(0)
    age = page.locator("#features tbody tr", has=page.get_by_role("link", name="age_years", exact=True))
    expect(age.locator("td:nth-child(2)")).to_have_text("user_age")
    expect(age.locator(".badge")).to_have_text(["credit", "risk"])

    assert sorted(Feature.objects.values_list("name", flat=True)) == sorted(registered)
    feature = Feature.objects.get(name="age_years")
    assert sorted(feature.tags.values_list("name", flat=True)) == ["credit", "risk"]
    assert feature.created_by_id == analyst.pk
    current = feature.current_version()
    assert (current.dataset_version_id, current.source_column) == (version.pk, "user_age")
    feature_set = FeatureSet.objects.get()
    assert (feature_set.name, feature_set.version, feature_set.label_column) == ("credit-features", 1, LABEL)
    assert feature_set.items.count() == len(registered)


def test_features_are_found_by_tag_and_by_search(
    page: Page, make_user, password, login, tmp_path, monkeypatch
):
    analyst = make_user(Role.ANALYST)
    version = _validated_credit(tmp_path, analyst, monkeypatch)
    _register_all(version, analyst)
    registered = sorted(suggest_feature_name(c) for c in _csv_columns(tmp_path) if c != LABEL)
    # Outside the tag, and matching "score" but not numerical: the filters must leave it out.
    feature_services.feature_create(
        name="score_band", type=FeatureType.CATEGORICAL, user=analyst, tags=["ops"]
    )

    login(page, analyst, password)
    page.goto("/features/")
    expect(_names(page)).to_have_text(sorted([*registered, "score_band"]))

    page.locator("p.tags").get_by_role("link", name="risk", exact=True).click()
    expect(page).to_have_url(re.compile(r"[?&]tag=risk(&|$)"))
    assert _query(page.url)["tag"] == ["risk"]
    expect(_names(page)).to_have_text(registered)
    tag_cells = page.locator("#features tbody tr td:nth-child(6)")
    expect(tag_cells).to_have_count(len(registered))
    for i in range(len(registered)):
        expect(tag_cells.nth(i).locator(".badge", has_text=re.compile(r"^risk$"))).to_have_count(1)
    expect(page.get_by_role("link", name="score_band", exact=True)).to_have_count(0)
    expect(page.locator("p.tags").get_by_role("link", name="risk", exact=True)).to_have_class(
        re.compile(r"\bok\b")
    )

    page.goto("/features/")
    page.get_by_label("Search").fill("score")
    page.get_by_label("Type").select_option(label="Numerical")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"\?.*q=score"))
    query = _query(page.url)
    assert (query["q"], query["type"]) == (["score"], ["numerical"])
    expect(_names(page)).to_have_text(["credit_score"])
    expect(page.get_by_label("Search")).to_have_value("score")
    expect(page.get_by_label("Type")).to_have_value("numerical")

    # The same search with any type finds the categorical one too.
    page.get_by_label("Type").select_option(label="any")
    page.get_by_role("button", name="Filter").click()
    expect(_names(page)).to_have_text(["credit_score", "score_band"])


def test_feature_page_shows_definition_statistics_iv_versions_and_chart(
    page: Page, make_user, password, login, tmp_path, monkeypatch
):
    analyst = make_user(Role.ANALYST)
    version = _validated_credit(tmp_path, analyst, monkeypatch)
    feature_set = _register_all(version, analyst)
    feature = Feature.objects.get(name="credit_score")
    stats = feature.current_version().statistics
    bins = stats["iv"]["bins"]
    assert len(bins) >= 3, bins

    login(page, analyst, password)
    page.goto("/features/")
    page.get_by_role("link", name="credit_score", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/features/{feature.pk}/$"))
    expect(page).to_have_title(re.compile(r"credit_score"))
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^credit_score\s+credit_score$"))

    definition = page.locator("#definition")
    expect(definition).to_contain_text("Type Numerical")
    expect(definition).to_contain_text(f"data type {feature.data_type}")
    expect(definition).to_contain_text("version v1")
    expect(definition).to_contain_text(f"by {analyst.username}")
    expect(definition.locator(".badge")).to_have_text(["credit", "risk"])

    statistics = page.locator("#statistics")
    expect(statistics.get_by_role("heading", level=2)).to_contain_text("from credit v1, column credit_score")
    expect(statistics).to_contain_text(f"count {stats['count']} · missing {stats['missing']} (")
    assert stats["count"] >= ROWS
    expect(statistics).to_contain_text("mean ")
    expect(statistics).to_contain_text("quantiles: ")
    expect(page.locator("#iv-value")).to_have_text(f"{stats['iv']['iv']:.4f}")
    expect(statistics.get_by_role("heading", level=3)).to_contain_text(stats["iv"]["strength"])
    bin_rows = page.locator("#iv-bins tbody tr")
    expect(bin_rows).to_have_count(len(bins))
    expect(bin_rows.locator("td:first-child")).to_have_text([str(b["bin"]) for b in bins])
    expect(bin_rows.locator("td:nth-child(2)")).to_have_text([str(b["count"]) for b in bins])

    versions = page.locator("#versions tbody tr")
    expect(versions).to_have_count(1)
    expect(versions.locator("td:first-child")).to_have_text("v1")
    source = versions.get_by_role("link", name="credit v1")
    expect(source).to_have_attribute("href", f"/datasets/{version.dataset_id}/?version=1")
    expect(page.locator("#feature-sets li")).to_have_text([f"feature set {feature_set.name} v1"])

    wait_for_charts(page, "#stats-chart")
    drawn = page.evaluate(
        "() => { const chart = Chart.getChart(document.getElementById('stats-chart'));"
        " return chart ? {type: chart.config.type, data: chart.data.datasets[0].data,"
        " labels: chart.data.labels.length} : null; }"
    )
    assert drawn is not None, "Chart.js drew nothing on #stats-chart"
    assert drawn["type"] == "bar"
    assert drawn["data"] == stats["histogram"]["counts"]
    assert len(drawn["data"]) > 1 and sum(drawn["data"]) > 0
    assert drawn["labels"] == len(drawn["data"])

    # The dataset link leads to the version the statistics came from.
    source.click()
    expect(page).to_have_url(re.compile(rf"/datasets/{version.dataset_id}/\?version=1$"))
    expect(page.get_by_role("heading", name="credit", level=1)).to_be_visible()


def test_viewer_sees_the_features_but_cannot_register(
    page: Page, make_user, password, login, tmp_path, monkeypatch, browser_errors
):
    analyst = make_user(Role.ANALYST)
    viewer = make_user(Role.VIEWER)
    version = _validated_credit(tmp_path, analyst, monkeypatch)
    _register_all(version, analyst)
    count = Feature.objects.count()

    login(page, viewer, password)
    page.goto("/features/")
    expect(page.get_by_role("heading", name="Features", level=1)).to_be_visible()
    expect(_names(page)).to_have_count(count)
    expect(page.get_by_role("link", name="credit_score", exact=True)).to_be_visible()
    # A validated tabular dataset exists, so only the permission hides the form.
    expect(page.locator("#register-form")).to_have_count(0)
    expect(page.get_by_text("Register features from dataset")).to_have_count(0)
    expect(page.get_by_role("button", name="Propose features")).to_have_count(0)
    expect(page.locator("#filter-form")).to_be_visible()

    url = f"/features/register/?dataset={version.dataset_id}"
    response = page.goto(url)
    assert response is not None and response.status == 403
    # Chromium logs the 403 answer to the document itself; that one is expected, nothing else.
    page.evaluate("0")
    assert browser_errors.all() == [
        "console error: Failed to load resource: the server responded with a status of 403 "
        f"(Forbidden) ({response.url})"
    ]
    browser_errors.clear()
    expect(page.locator("#proposals")).to_have_count(0)

    # Posting anyway is refused and registers nothing.
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    refused = page.request.post(
        "/features/register/",
        headers={"X-CSRFToken": token, "Referer": page.url},
        form={"dataset": str(version.dataset_id), "column": "application_id", "feature_set": "sneaky"},
    )
    assert refused.status == 403
    assert Feature.objects.count() == count
    assert not FeatureSet.objects.filter(name="sneaky").exists()
