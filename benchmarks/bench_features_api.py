"""GET /api/features with 100,000 features: p50/p95 of filtered list calls on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/omm_bench \\
    REDIS_URL=redis://127.0.0.1:6379/2 .venv/bin/python -m benchmarks.bench_features_api

Each call goes through the whole Django + DRF stack (middleware, auth, filters, pagination,
serializer, renderer) in process. Target p95 <= 50 ms (the seeds ask < 500 ms). The same
queries without the trigram indexes are timed too, to show what the indexes buy.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time

FEATURES = int(os.environ.get("BENCH_FEATURES", "100000"))
CALLS = int(os.environ.get("BENCH_CALLS", "200"))
WORDS = [
    "amount",
    "balance",
    "count",
    "ratio",
    "days",
    "score",
    "income",
    "overdue",
    "limit",
    "usage",
    "transfer",
    "merchant",
    "device",
    "login",
    "loan",
    "repay",
    "card",
    "cash",
    "online",
    "night",
]
TAGS = [f"tag{i}" for i in range(200)] + ["risk", "core", "behaviour", "demographic"]
QUERIES = [
    {"type": "numerical", "tags": "risk", "search": "amount"},
    {"type": "categorical", "tags": "core", "search": "device"},
    {"type": "numerical", "tags": ["risk", "core"], "search": "income"},
    {"search": "overdue_days"},
    {"type": "numerical", "tags": "tag7"},
    {},
]


def seed(user) -> None:
    from django.db import connection

    from apps.features.models import Feature, FeatureType, Tag

    if Feature.objects.filter(name__startswith="bench_").count() >= FEATURES:
        return
    Feature.objects.filter(name__startswith="bench_").delete()
    rng = random.Random(7)
    types = [FeatureType.NUMERICAL] * 7 + [FeatureType.CATEGORICAL] * 2 + [FeatureType.TEXT]
    features = []
    for i in range(FEATURES):
        words = rng.sample(WORDS, 3)
        features.append(
            Feature(
                name=f"bench_{'_'.join(words)}_{i}",
                display_name=" ".join(words).title(),
                description=f"{words[0]} of {words[1]} over {rng.choice([7, 30, 90, 180])} days ({words[2]})",
                type=rng.choice(types),
                data_type="float64",
                created_by=user,
            )
        )
    Feature.objects.bulk_create(features, batch_size=5000)
    Tag.objects.bulk_create([Tag(name=t) for t in TAGS], ignore_conflicts=True)
    tag_ids = dict(Tag.objects.filter(name__in=TAGS).values_list("name", "pk"))
    through = Feature.tags.through
    links = []
    for pk in Feature.objects.filter(name__startswith="bench_").values_list("pk", flat=True):
        for tag in {
            rng.choice(TAGS[:200]),
            *(["risk"] if rng.random() < 0.2 else []),
            *(["core"] if rng.random() < 0.1 else []),
        }:
            links.append(through(feature_id=pk, tag_id=tag_ids[tag]))
    through.objects.bulk_create(links, batch_size=10000, ignore_conflicts=True)
    with connection.cursor() as cursor:
        # bulk_create skips the signal that keeps tag_text in sync: fill it in one statement.
        cursor.execute(
            "UPDATE features_feature f SET tag_text = ' ' || COALESCE((SELECT string_agg(t.name, ' ' "
            "ORDER BY t.name) FROM features_feature_tags ft JOIN features_tag t ON t.id = ft.tag_id "
            "WHERE ft.feature_id = f.id), '') || ' ' WHERE f.name LIKE 'bench_%%'"
        )
        cursor.execute("VACUUM ANALYZE features_feature")


def time_calls(client) -> dict[str, tuple[float, float, int]]:
    results = {}
    for query in QUERIES:
        samples = []
        total = None
        for _ in range(CALLS // len(QUERIES)):
            started = time.perf_counter()
            response = client.get("/api/features", query)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.content[:300]
            total = response.json()["total"]
        samples.sort()
        results[str(query)] = (statistics.median(samples), samples[int(len(samples) * 0.95) - 1], total)
    return results


def main() -> None:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("bench_features_api needs DATABASE_URL pointing at PostgreSQL.")
    from benchmarks.bench_ingest import _create_database

    _create_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omm.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from rest_framework.test import APIClient

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    from apps.users.models import Role, User

    user, _ = User.objects.get_or_create(
        username="bench-features", defaults={"email": "bench-features@bench.local", "role": Role.ANALYST}
    )
    started = time.perf_counter()
    seed(user)
    print(f"seeded {FEATURES:,} features in {time.perf_counter() - started:.1f} s")
    client = APIClient()
    client.force_authenticate(user)
    client.get("/api/features")  # warm up

    with_indexes = time_calls(client)
    with connection.cursor() as cursor:
        cursor.execute("SET enable_bitmapscan = off")  # the trigram GIN indexes are used through bitmaps
    without = time_calls(client)
    with connection.cursor() as cursor:
        cursor.execute("RESET enable_bitmapscan")

    print(f"\nGET /api/features, {FEATURES:,} features, {CALLS // len(QUERIES)} calls per query (ms)")
    print(f"{'query':<66} {'rows':>6} {'p50':>7} {'p95':>7} {'p95 no-index':>13}")
    worst = 0.0
    for query, (p50, p95, total) in with_indexes.items():
        worst = max(worst, p95)
        print(f"{query:<66} {total:>6} {p50:7.1f} {p95:7.1f} {without[query][1]:13.1f}")
    print(f"worst p95 {worst:.1f} ms: target <= 50 ms (seeds: < 500 ms, {500 / worst:.0f}x inside)")


if __name__ == "__main__":
    main()
