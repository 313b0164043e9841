"""The AlertManager rules file names only metrics OMM exposes; the open-alert gauge counts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from apps.alerts import services

from .conftest import period

pytestmark = pytest.mark.django_db
RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "omm-rules.yml"


def rule_metrics() -> set[str]:
    doc = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    names = set()
    for group in doc["groups"]:
        for rule in group["rules"]:
            assert rule["alert"] and rule["expr"] and rule["labels"]["severity"] in ("warning", "critical")
            names |= set(re.findall(r"\bomm_[a-z_]+\b", rule["expr"]))
    return names


def test_every_metric_of_the_rules_file_is_on_metrics(client):
    names = rule_metrics()
    assert {"omm_alerts_open", "omm_webhook_deliveries_failed"} <= names
    text = client.get("/metrics").content.decode()
    exposed = set(re.findall(r"^# TYPE (omm_[a-z_]+) ", text, re.M))
    assert names - exposed == set()


def test_open_alerts_gauge_by_severity(client, version, psi_rule):
    psi_rule.severity = "critical"
    psi_rule.save()
    services.rules_evaluate(version=version, periods=[period(1, score_psi=0.4)])
    text = client.get("/metrics").content.decode()
    assert re.search(r'^omm_alerts_open\{severity="critical"\} 1\.0$', text, re.M)
    assert re.search(r'^omm_alerts_open\{severity="warning"\} 0\.0$', text, re.M)
