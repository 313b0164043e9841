"""Seeded synthetic credit data for the scorecard tests (numpy's PCG64, fixed seeds) and card helpers."""

from __future__ import annotations

import numpy as np

# "D'x" and "back\\slash" check quoting in SQL; "Z" is a level that no training row has.
CITY_LEVELS = ["A", "B", "C", "D'x", "E", "Z", "back\\slash"]
FEATURES = ["age", "income", "util", "city", "noise", "age_copy", "const"]
SPECIAL = -999.0


def credit_data(
    n: int = 8000, seed: int = 11
) -> tuple[np.ndarray, np.ndarray, list[str], dict[str, list[str]]]:
    """(X, y, feature names, categorical levels): the event rate falls with age and income,
    rises with utilisation, differs by city; ``noise`` is unrelated, ``age_copy`` duplicates
    age, ``const`` has one value; income has the special value -999 and NaNs, age NaNs."""
    rng = np.random.default_rng(seed)
    age = rng.normal(40, 11, n).clip(18, 80)
    income = rng.lognormal(9.5, 0.6, n)
    util = rng.beta(2, 3, n)
    city = rng.choice([0, 1, 2, 3, 4, 6], size=n, p=[0.3, 0.2, 0.2, 0.1, 0.1, 0.1]).astype(np.float64)
    city_effect = np.array([0.6, 0.0, -0.2, -0.5, 0.3, 0.0, 0.1])[city.astype(int)]
    logit = -2.2 - 0.045 * (age - 40) - 0.8 * (np.log(income) - 9.5) + 2.5 * (util - 0.4) + city_effect
    special = rng.random(n) < 0.06
    logit[special] += 0.9  # a special code that means something: riskier
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.float64)
    income[special] = SPECIAL
    age[rng.random(n) < 0.04] = np.nan
    income[rng.random(n) < 0.03] = np.nan
    city[rng.random(n) < 0.02] = np.nan
    noise = rng.normal(size=n)
    age_copy = age * 1.5 + 3
    X = np.column_stack([age, income, util, city, noise, age_copy, np.full(n, 7.0)])
    return X, y, list(FEATURES), {"city": list(CITY_LEVELS)}


def feature(card: dict, name: str) -> dict:
    return next(f for f in card["features"] if f["name"] == name)


def candidate(card: dict, name: str) -> dict:
    return next(c for c in card["candidates"] if c["name"] == name)


def interval_rates(bins: list[dict]) -> np.ndarray:
    return np.array([b["eventRate"] for b in bins if b["kind"] == "interval" and b["count"]])
