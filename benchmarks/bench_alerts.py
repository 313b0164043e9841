"""Alert rules, webhook deliveries and the alert list, timed on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/omm_alerts_bench \\
    REDIS_URL=redis://127.0.0.1:6379/13 .venv/bin/python -m benchmarks.bench_alerts

Prints: ``rules_evaluate`` per version (BENCH_RULES rules over 12 monthly periods, the call the
monitor makes after each period), the cost of one signed delivery attempt to a local HTTP
receiver (p50/p95, deliveries per second of one worker), and GET /api/alerts p95 with
BENCH_ALERTS alerts (the API target: p95 <= 50 ms).
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSIONS = int(os.environ.get("BENCH_VERSIONS", "200"))
RULES = int(os.environ.get("BENCH_RULES", "10"))
ALERTS = int(os.environ.get("BENCH_ALERTS", "20000"))
DELIVERIES = int(os.environ.get("BENCH_DELIVERIES", "300"))


class _Ok(BaseHTTPRequestHandler):
    def do_POST(self):  # http.server's name
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("bench_alerts needs DATABASE_URL pointing at PostgreSQL.")
    from benchmarks.bench_ingest import _create_database

    _create_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omm.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from rest_framework.test import APIClient

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    from apps.alerts import delivery, services
    from apps.alerts.models import Alert, AlertRule, Webhook, WebhookDelivery
    from apps.models.models import Model, ModelVersion
    from apps.users.models import Role, User

    Alert.objects.all().delete()
    WebhookDelivery.objects.all().delete()
    Webhook.objects.all().delete()
    AlertRule.objects.all().delete()
    model, _ = Model.objects.get_or_create(name="bench-alerts", defaults={"type": "classification"})
    have = model.versions.count()
    ModelVersion.objects.bulk_create(
        ModelVersion(
            model=model,
            version=n,
            algorithm="lightgbm",
            artifact="none",
            size=1,
            checksum="0" * 64,
            signature="0",
        )
        for n in range(have + 1, VERSIONS + 1)
    )
    versions = list(model.versions.order_by("version")[:VERSIONS])
    metrics = ["score_psi", "csi_max", "auc", "ks", "gini", "event_rate", "estimated_auc", "rows"]
    for i in range(RULES):
        AlertRule.objects.create(
            name=f"bench {i}",
            metric=metrics[i % len(metrics)],
            comparison="gt",
            threshold=0.3,
            window=1 + i % 3,
        )
    months = [date(2025, m, 1) for m in range(1, 13)]

    def periods(k: int, drifting: bool) -> list:
        figures = dict.fromkeys(metrics, 0.1) | {"rows": 0.2, "insufficient": False}
        return [
            (d, {**figures, "score_psi": 0.5 if drifting and j >= 9 else 0.1})
            for j, d in enumerate(months[:k])
        ]

    timings = []
    for n, version in enumerate(versions):
        started = time.perf_counter()
        services.rules_evaluate(version=version, periods=periods(12, drifting=n % 4 == 0))
        timings.append((time.perf_counter() - started) * 1000)
    print(f"rules_evaluate, {RULES} rules x 12 periods, {len(versions)} versions (a quarter drifting):")
    print(f"  p50 {statistics.median(timings):.2f} ms  p95 {pct(timings, 0.95):.2f} ms per version")
    again = []
    for n, version in enumerate(versions[:50]):
        started = time.perf_counter()
        services.rules_evaluate(version=version, periods=periods(12, drifting=n % 4 == 0))
        again.append((time.perf_counter() - started) * 1000)
    print(f"  re-evaluating the same periods (idempotent): p50 {statistics.median(again):.2f} ms")

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hook = Webhook(name="bench", url=f"http://127.0.0.1:{server.server_address[1]}/", events=["alert.opened"])
    hook.set_secret("bench-secret")
    hook.save()
    alert = Alert.objects.select_related("rule", "version__model").first()
    payload = services.alert_payload(alert)
    made = [
        WebhookDelivery.objects.create(webhook=hook, event="alert.opened", payload=payload)
        for _ in range(DELIVERIES)
    ]
    attempt = []
    wall = time.perf_counter()
    for d in made:
        started = time.perf_counter()
        delivery.delivery_attempt(delivery_id=d.pk)
        attempt.append((time.perf_counter() - started) * 1000)
    wall = time.perf_counter() - wall
    server.shutdown()
    print(f"signed delivery attempt to a local receiver, {DELIVERIES} deliveries:")
    print(
        f"  p50 {statistics.median(attempt):.2f} ms  p95 {pct(attempt, 0.95):.2f} ms"
        f"  {DELIVERIES / wall:.0f}/s per worker"
    )

    have = Alert.objects.count()
    rule = AlertRule.objects.first()
    Alert.objects.bulk_create(
        Alert(
            rule=rule,
            version=versions[i % len(versions)],
            period_start=date(1900 + i // 12 % 120, i % 12 + 1, 1 + i // 1440 % 28),
            value=0.5,
            severity=("info", "warning", "critical")[i % 3],
            status=("open", "acknowledged", "resolved")[i % 3],
            message="bench",
            opened_at=django.utils.timezone.now(),
        )
        for i in range(max(0, ALERTS - have))
    )
    from django.db import connection

    with connection.cursor() as cursor:  # fresh statistics, as autovacuum keeps them in use
        cursor.execute("ANALYZE alerts_alert; ANALYZE models_modelversion")
    user, _ = User.objects.get_or_create(username="bench-alerts", defaults={"role": Role.ANALYST})
    client = APIClient()
    client.force_authenticate(user)
    queries = ["", "?status=open", "?severity=critical", f"?model={model.pk}&status=acknowledged"]
    client.get("/api/alerts")
    print(f"GET /api/alerts, {Alert.objects.count():,} alerts (ms):")
    for q in queries:
        calls = []
        for _ in range(30):
            started = time.perf_counter()
            r = client.get("/api/alerts" + q)
            calls.append((time.perf_counter() - started) * 1000)
            assert r.status_code == 200, r.content
        print(
            f"  {q or '(all)':<40} p50 {statistics.median(calls):6.1f}  p95 {pct(calls, 0.95):6.1f}"
            "  target p95 <= 50"
        )


if __name__ == "__main__":
    main()
