"""Settings fail loudly on bad variables; production settings pass check --deploy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from omm.celery import app

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    base = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG"}
    }
    base["OMM_DATA_DIR"] = str(tmp_path)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DEBUG", "perhaps"),
        ("DATABASE_URL", "mysql://db/omm"),
        ("REDIS_URL", "http://cache"),
        ("SECRET_KEY", "short"),
        ("JWT_ACCESS_MINUTES", "soon"),
        ("LOGIN_FAILURE_LIMIT", "0"),
        ("CELERY_TASK_TIME_LIMIT", "99999"),
        ("REDIS_SOCKET_TIMEOUT", "soon"),
        ("CELERY_BROKER_CONNECT_TIMEOUT", "0"),
    ],
)
def test_a_bad_variable_stops_start_up_naming_it(tmp_path, variable, value):
    result = run_manage("check", env={variable: value}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr.splitlines()[-1]


def test_production_settings_pass_check_deploy(tmp_path):
    env = {
        "SECRET_KEY": "p" * 20 + "-production-secret-" + "k" * 30,
        "DEBUG": "false",
        "HTTPS": "true",
        "ALLOWED_HOSTS": "omm.bank.example",
        "DATABASE_URL": "postgres://omm@db.internal:5432/omm",
        "REDIS_URL": "redis://cache.internal:6379/0",
    }
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_each_domain_routes_to_its_queue():
    router = app.amqp.router
    assert router.route({}, "apps.datasets.tasks.validate")["queue"].name == "ingestion"
    assert router.route({}, "apps.models.tasks.run_training")["queue"].name == "training"
    assert router.route({}, "apps.evaluations.tasks.evaluate")["queue"].name == "evaluation"
    assert router.route({}, "apps.models.tasks.predict_batch")["queue"].name == "prediction"
    assert router.route({}, "core.worker_ping")["queue"].name == "default"


def test_celery_runs_at_least_once_safely():
    conf = app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.task_soft_time_limit < conf.task_time_limit
    if conf.broker_url.startswith("redis"):
        assert conf.task_time_limit < conf.broker_transport_options["visibility_timeout"]
