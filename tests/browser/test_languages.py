"""OMM in Chinese and in English, in a real browser with a CJK font, as its users see it.

The walk visits every analyst page and every admin changelist (and one change form of
each) in zh-hans and reads what a person reads: visible text, button values, titles,
placeholders and ARIA labels. A text is *left in English* when it holds no Chinese and is
either one of the catalogue's English messages, or made only of the English words those
messages use (two or more of them) and is not a value stored in the database (data and
codes are shown as they are).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from apps.tasks import runner as task_runner
from apps.tasks import services as queue
from apps.tasks.models import TaskStatus
from apps.users.models import Role
from tests.browser.conftest import TIMEOUT_MS, BrowserErrors

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
WORD = re.compile(r"[a-z]+")
# Shown as they are in both languages (docs/glossary.md), and each language's own name.
KEPT_TERMS = {
    "omm", "ks", "auc", "psi", "iv", "woe", "gini", "f1", "top-1", "api", "csv", "json", "parquet",
    "xlsx", "onnx", "lightgbm", "scikit-learn", "a/b", "id", "shap", "english", "bic", "swift",
    "cnaps", "roc", "p50", "p99", "utf-8", "gbk", "sql", "http", "https", "url", "jwt", "xgboost",
    "iso", "excel",
}  # fmt: skip
# Identifiers, paths and file names are data or code: shown as they are.
IDENTIFIER = re.compile(r"\w+_\w+|^/\S*$|\w\.\w{2,4}$")

VISIBLE_TEXTS = """() => {
  const out = [];
  const skip = new Set(["SCRIPT", "STYLE", "CODE", "PRE", "TEXTAREA", "NOSCRIPT", "TEMPLATE"]);
  const visible = (el) =>
    !!(el && el.getClientRects().length) && getComputedStyle(el).visibility !== "hidden";
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || skip.has(el.tagName) || el.closest("code, pre, textarea, [data-raw]")) continue;
    const text = node.textContent.replace(/\\s+/g, " ").trim();
    if (text && visible(el)) out.push(text);
  }
  for (const el of document.querySelectorAll("[title], [placeholder], [aria-label], img[alt]")) {
    for (const name of ["title", "placeholder", "aria-label", "alt"]) {
      const value = el.getAttribute(name);
      if (value) out.push(value.trim());
    }
  }
  for (const el of document.querySelectorAll("input[type=submit], input[type=button]")) {
    if (el.value) out.push(el.value.trim());
  }
  out.push(document.title);
  return out;
}"""


def _normal(text: str) -> str:
    return " ".join(WORD.findall(text.casefold()))


KEPT = frozenset(w for term in KEPT_TERMS for w in _normal(term).split())


@cache
def _catalogue_messages() -> tuple[frozenset[str], frozenset[str]]:
    """The catalogue's English messages (normalised) and the words they are made of."""
    messages: set[str] = set()
    for po in (ROOT / "locale").glob("*/LC_MESSAGES/*.po"):
        for block in re.findall(r'^msgid ((?:".*"\n)+)', po.read_text(encoding="utf-8"), re.M):
            msgid = "".join(re.findall(r'"(.*)"', block))
            msgid = re.sub(r"%\(\w+\)[sd]|%[sd]|\{\w*\}|<[^>]+>", " ", msgid)
            if msgid.strip():
                messages.add(_normal(msgid))
    words = {w for m in messages for w in m.split() if len(w) > 1}
    return frozenset(m for m in messages if m), frozenset(words)


def _stored_values() -> set[str]:
    """Every short text stored in OMM's tables: data, names and codes are shown as they are."""
    values: set[str] = set()
    for model in apps.get_models():
        if not model.__module__.startswith("apps."):
            continue
        fields = [
            f.name for f in model._meta.concrete_fields if isinstance(f, models.CharField | models.TextField)
        ]
        for row in model.objects.values_list(*fields)[:5000] if fields else []:
            values.update(_normal(v) for v in row if isinstance(v, str) and v and len(v) < 300)
    return values


def left_in_english(texts: list[str], stored: set[str]) -> list[str]:
    messages, vocabulary = _catalogue_messages()
    found = []
    for text in texts:
        if CJK.search(text) or not re.search(r"[A-Za-z]{2,}", text) or IDENTIFIER.search(text):
            continue
        normal = _normal(text)
        words = [w for w in normal.split() if w not in KEPT]
        if not words or normal in stored or " ".join(words) in stored:
            continue
        is_message = normal in messages and len(normal) > 2
        ui_words = len(words) >= 2 and all(w in vocabulary for w in words)
        if is_message or ui_words:
            found.append(text)
    return sorted(set(found))


def _analyst_pages() -> list[str]:
    """Every analyst page: those of the navigation and each domain's pages of its first object."""
    from apps.core.models import SystemConfig
    from apps.datasets.models import Dataset
    from apps.evaluations.models import Evaluation
    from apps.features.models import Feature, FeatureSet
    from apps.models.models import Model, ModelVersion
    from apps.qa.models import QAEvaluation
    from apps.tasks.models import Task

    names = ["dashboard", "datasets", "features", "models", "traceability", "tasks"]
    names += ["task-create", "evaluation", "evaluation-compare-page", "qa", "qa-evaluations", "settings"]
    names += ["feature-sets-page", "qa-history-page"]
    urls = [reverse(name) for name in names]
    by_object = [
        ("dataset-detail", Dataset.objects.order_by("pk").first()),
        ("dataset-quality", Dataset.objects.filter(name="demo-credit").first()),
        ("feature-detail", Feature.objects.order_by("pk").first()),
        ("model-page", Model.objects.order_by("pk").first()),
        ("model-versions-page", Model.objects.order_by("pk").first()),
        ("trace-page", ModelVersion.objects.order_by("pk").first()),
        ("scorecard-page", ModelVersion.objects.filter(algorithm="scorecard").first()),
        ("version-document-page", ModelVersion.objects.filter(algorithm="scorecard").first()),
        ("version-document-page", ModelVersion.objects.filter(algorithm="lightgbm").first()),
        ("evaluation-report", Evaluation.objects.filter(task__status="completed").first()),
        ("qa-evaluation-page", QAEvaluation.objects.order_by("pk").first()),
        ("task-page", Task.objects.order_by("pk").first()),
        ("feature-set-page", FeatureSet.objects.order_by("pk").first()),
    ]
    for name, obj in by_object:
        assert obj is not None, f"the demo has nothing for {name}"
        urls.append(reverse(name, args=[obj.pk]))
    model = Model.objects.order_by("pk").first()
    urls.append(f"{reverse('model-try-page', args=[model.pk])}?version=1")
    scorecard = Model.objects.get(name="demo-credit-scorecard")
    urls.append(f"{reverse('model-try-page', args=[scorecard.pk])}?version=1")
    urls.append(reverse("setting-edit", args=[SystemConfig.objects.order_by("key").first().key]))
    credit = Dataset.objects.get(name="demo-credit")
    urls.append(f"{reverse('feature-register')}?dataset={credit.pk}")
    return urls


def _admin_pages() -> list[str]:
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        info = model._meta.app_label, model._meta.model_name
        try:
            urls.append(reverse("admin:{}_{}_changelist".format(*info)))
        except NoReverseMatch:
            continue
        first = model.objects.order_by("pk").first()
        # One change form of each of OMM's models (third-party objects name themselves in English).
        if first is not None and model.__module__.startswith("apps."):
            urls.append(reverse("admin:{}_{}_change".format(*info), args=[first.pk]))
    return urls


@pytest.fixture
def chinese_platform(settings):
    """OMM as it is installed: zh-hans by default, also for what the demo writes (task logs)."""
    settings.LANGUAGE_CODE = "zh-hans"


@pytest.fixture
def no_broker(monkeypatch):
    # The test runs the one task it needs in-process, as a worker would.
    monkeypatch.setattr(
        queue, "_send", lambda task: queue.transition(task.pk, TaskStatus.QUEUED, queued_at=timezone.now())
    )


def _evaluate_the_demo_model(user, _no_broker) -> None:
    """The demo trains a model; an evaluation report needs it evaluated once."""
    from apps.datasets.models import Dataset
    from apps.evaluations import services as evaluation_services
    from apps.models.models import ModelVersion

    version = ModelVersion.objects.order_by("pk").first()
    dataset = Dataset.objects.get(name="demo-credit")
    evaluation = evaluation_services.evaluation_create(
        user=user, request={"model_version": version.pk, "dataset": dataset.pk}
    )
    assert task_runner.task_execute(task_id=evaluation.task_id, worker="browser-test:1") == "completed"


def _chinese_page(browser: Browser, live_server, errors: BrowserErrors) -> Page:
    context = browser.new_context(base_url=live_server.url, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    tab.on("console", errors.on_console)
    tab.on("pageerror", errors.on_page_error)
    tab.on("response", errors.on_response)
    return tab


def _login_in_chinese(tab: Page, username: str, password: str) -> None:
    tab.goto("/login/")
    expect(tab.locator("html")).to_have_attribute("lang", "zh-hans")
    tab.get_by_label("用户名").fill(username)
    tab.get_by_label("密码").fill(password)
    tab.get_by_role("button", name="登录").click()
    tab.wait_for_load_state()


def test_a_chinese_browser_sees_chinese_then_english_then_chinese(
    browser: Browser, live_server, browser_errors, make_user, password, settings
):
    settings.LANGUAGE_CODE = "zh-hans"
    user = make_user(Role.ANALYST)
    tab = _chinese_page(browser, live_server, browser_errors)
    _login_in_chinese(tab, user.username, password)
    expect(tab.get_by_role("heading", level=1)).to_have_text("总览")
    nav = tab.get_by_role("navigation", name="主导航")
    for label in ("数据集", "特征", "模型", "溯源", "任务", "评估", "联行号问答"):
        expect(nav.get_by_role("link", name=label, exact=True)).to_be_visible()
    # The CJK font is there: Chinese text has real width, not a row of missing-glyph boxes.
    width = tab.evaluate(
        """() => { const c = document.createElement('canvas').getContext('2d');
        c.font = '16px sans-serif'; return c.measureText('数据集').width; }"""
    )
    assert width > 30

    tab.get_by_role("button", name="English").click()
    expect(tab.get_by_role("heading", level=1)).to_have_text("Dashboard")
    tab.goto("/datasets/")
    expect(tab.locator("html")).to_have_attribute("lang", "en")
    expect(tab.get_by_role("navigation", name="Main").get_by_role("link", name="Datasets")).to_be_visible()

    tab.get_by_role("button", name="简体中文").click()
    expect(tab).to_have_url(re.compile(r"/datasets/$"))
    expect(tab.locator("html")).to_have_attribute("lang", "zh-hans")
    user.refresh_from_db()
    assert user.language == "zh-hans"
    tab.context.close()


@pytest.mark.parametrize("role", [Role.ADMIN])
def test_every_page_and_admin_list_reads_in_chinese(
    browser: Browser,
    live_server,
    browser_errors,
    chinese_platform,
    demo,
    make_user,
    password,
    role,
    no_broker,
):
    user = make_user(role)
    _evaluate_the_demo_model(user, no_broker)
    tab = _chinese_page(browser, live_server, browser_errors)
    _login_in_chinese(tab, user.username, password)
    stored = _stored_values() | {_normal(user.username)}
    english: dict[str, list[str]] = {}
    pages = _analyst_pages() + _admin_pages()
    assert len(pages) > 40
    for url in pages:
        response = tab.goto(url)
        assert response is not None and response.status < 400, (
            f"{url} answered {response and response.status}"
        )
        tab.wait_for_load_state("networkidle")
        found = left_in_english(tab.evaluate(VISIBLE_TEXTS), stored)
        if found:
            english[urlsplit(url).path] = found
    tab.context.close()
    assert not english, "left in English:\n" + "\n".join(f"{u}: {t}" for u, t in english.items())
