"""The SQL export computes the same points and probability as ``card_points`` (SQLite always,
PostgreSQL when a server answers on 127.0.0.1:5432), and quotes per dialect."""

from __future__ import annotations

import math
import re
import sqlite3
import uuid
from decimal import Decimal

import numpy as np
import pytest

from apps.models.training import scorecard as S
from tests.models.scorecard.synthetic import SPECIAL

# Table columns under other names than the features, one needing quotes in every dialect.
COLUMNS = {"util": 'Util "ratio"', "city": "home city"}


def _rows(card: dict, X: np.ndarray) -> list[tuple]:
    """Held-out rows as raw values: numbers (NaN -> NULL), city as its level text (NULL when
    missing; code 5 is "Z", a level without training rows), plus an id."""
    levels = card["categoricalLevels"]["city"]
    rows = []
    for i, r in enumerate(X):
        values = [None if math.isnan(v) else float(v) for v in r]
        values[3] = None if values[3] is None else levels[int(values[3])]
        rows.append((i, *values))
    rows.append((len(rows), 40.0, SPECIAL, 0.9, "Z", 0.0, 63.0, 7.0))
    rows.append((len(rows), None, None, None, "never seen", None, None, None))
    return rows


def _matrix(card: dict, rows: list[tuple]) -> np.ndarray:
    levels = card["categoricalLevels"]["city"]
    out = np.array(
        [[np.nan if v is None else v for v in (r[1], r[2], r[3], 0.0, r[5], r[6], r[7])] for r in rows]
    )
    out[:, 3] = [levels.index(r[4]) if r[4] in levels else np.nan for r in rows]
    return out


def _names(card: dict) -> list[str]:
    return ["id", *(COLUMNS.get(name, name) for name in card["columns"])]


@pytest.fixture(params=["card", "exact_card"])
def any_card(request):
    return request.getfixturevalue(request.param)


def test_sqlite_sql_scores_like_the_card(any_card, data):
    rows = _rows(any_card, data["Xh"])
    con = sqlite3.connect(":memory:")
    names = _names(any_card)
    cols = ", ".join(
        f'"{n.replace(chr(34), chr(34) * 2)}" {"TEXT" if n == "home city" else "REAL"}' for n in names
    )
    con.execute(f"CREATE TABLE applicants ({cols})")
    con.executemany(f"INSERT INTO applicants VALUES ({', '.join('?' * len(names))})", rows)  # noqa: S608
    sql = S.card_sql(any_card, "sqlite", columns=COLUMNS)
    got = con.execute(f"SELECT id, points, probability FROM ({sql}) ORDER BY id").fetchall()  # noqa: S608
    X = _matrix(any_card, rows)
    points, prob = S.card_points(any_card, X), S.card_probability(any_card, X)
    sql_points = np.array([r[1] for r in got])
    if any_card["params"]["rounding"] == 0:
        np.testing.assert_array_equal(sql_points, points)
    else:
        assert np.abs(sql_points - points).max() <= 1e-6
    assert np.abs(np.array([r[2] for r in got]) - prob).max() <= 1e-9
    assert len(got) == len(data["Xh"]) + 2


def _postgres():
    psycopg = pytest.importorskip("psycopg")
    try:
        return psycopg, psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres", connect_timeout=3, autocommit=True
        )
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable on 127.0.0.1:5432: {exc}")


def test_postgresql_sql_scores_like_the_card(card, exact_card, data):
    psycopg, admin = _postgres()
    name = f"omm_scorecard_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={name}", autocommit=True) as con:
            names = _names(card)
            cols = ", ".join(
                f'"{n.replace(chr(34), chr(34) * 2)}" {"text" if n == "home city" else "double precision"}'
                for n in names
            )
            con.execute(f"CREATE TABLE applicants ({cols})")
            rows = _rows(card, data["Xh"])
            # PostgreSQL floats can hold NaN: it must score as missing, like NULL.
            rows.append((len(rows), float("nan"), float("nan"), 0.5, "A", 0.0, float("nan"), 7.0))
            with con.cursor() as cur:
                cur.executemany(f"INSERT INTO applicants VALUES ({', '.join(['%s'] * len(names))})", rows)  # noqa: S608
            for c in (card, exact_card):
                sql = S.card_sql(c, "postgresql", columns=COLUMNS)
                got = con.execute(f"SELECT id, points, probability FROM ({sql}) s ORDER BY id").fetchall()  # noqa: S608
                X = _matrix(c, rows)
                points = np.array([float(r[1]) for r in got])
                assert np.abs(points - S.card_points(c, X)).max() <= 1e-6
                if c is card:
                    np.testing.assert_array_equal(points, S.card_points(c, X))
                probability = np.array([float(r[2]) for r in got])
                assert np.abs(probability - S.card_probability(c, X)).max() <= 1e-9
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_dialects_quote_identifiers_and_strings_their_own_way(card):
    table = "risk.applicants"
    mysql = S.card_sql(card, "mysql", table=table, columns={"city": "ci`ty"})
    hive = S.card_sql(card, "hive", table=table, columns={"city": "ci`ty"})
    pg = S.card_sql(card, "postgresql", table=table, columns={"city": 'ci"ty'})
    assert (
        "`ci``ty` IN ('D''x')" in mysql
        and "'back\\\\slash'" in mysql
        and "FROM `risk`.`applicants` t" in mysql
    )
    assert (
        "`ci``ty` IN ('D\\'x')" in hive and "'back\\\\slash'" in hive and "FROM `risk`.`applicants` t" in hive
    )
    assert "\"ci\"\"ty\" IN ('D''x')" in pg and "'back\\slash'" in pg and 'FROM "risk"."applicants" t' in pg
    assert "CAST('NaN' AS DOUBLE PRECISION)" in pg and "NaN" not in mysql and "NaN" not in hive
    for sql in (mysql, hive, pg):
        assert "EXP((scored.points - " in sql and sql.count("SELECT") == 2 and ";" not in sql


def test_numbers_are_plain_decimals_that_round_trip(data):
    # Breaks and points at tiny and huge scales: Hive has no scientific notation in literals.
    X = data["X"].copy()
    X[:, 2] *= 1e-7
    X[:, 1] = np.where(np.isnan(X[:, 1]) | (X[:, 1] == SPECIAL), X[:, 1], X[:, 1] * 1e17)
    card = S.fit_scorecard(
        X, data["y"], data["names"], data["levels"], {"special_values": [SPECIAL], "rounding": None}
    )
    util = next(f for f in card["features"] if f["name"] == "util")  # binned at its own scale
    assert sum(b["kind"] == "interval" for b in util["bins"]) >= 3 and util["bins"][0]["upper"] < 1e-7
    sql = S.card_sql(card, "hive")
    assert not re.search(r"\d[eE][+-]?\d", sql)
    for f in card["features"]:
        for b in f["bins"]:
            if b["upper"] is not None and b["kind"] == "interval":
                literal = format(Decimal(repr(b["upper"])), "f")
                assert float(literal) == b["upper"] and literal in sql


def test_unknown_dialect_is_refused(card):
    with pytest.raises(ValueError, match="unknown SQL dialect 'oracle'"):
        S.card_sql(card, "oracle")
