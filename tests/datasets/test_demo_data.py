"""The demo data generators: deterministic, realistic, and flawed exactly where they say."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from apps.datasets import codes, demo_data
from apps.datasets.cnaps import BANK_CATEGORIES


def code_problem(code: str) -> str | None:
    """What makes ``code`` unusable as a CNAPS code ("" when it is one). Issue #16: a
    CNAPS code is twelve digits; no check digit is validated."""
    return codes.judge(code, "cnaps").problem or None


CREDIT_ROWS = 100_000
BANK_ROWS = 150_000
MISSING_COLUMNS = ("monthly_income", "employment_years", "education", "device_os")


@pytest.fixture(scope="module")
def credit() -> tuple[pd.DataFrame, float]:
    started = time.perf_counter()
    frame = demo_data.credit_frame(CREDIT_ROWS, seed=7)
    return frame, time.perf_counter() - started


@pytest.fixture(scope="module")
def bank() -> tuple[pd.DataFrame, pd.DataFrame, float]:
    started = time.perf_counter()
    frame = demo_data.bank_records_frame(BANK_ROWS, seed=7)
    seconds = time.perf_counter() - started
    return frame, demo_data.bank_records_bad_lines(frame), seconds


def rank_auc(score: np.ndarray, label: np.ndarray) -> float:
    """Mann-Whitney AUC: the chance a random bad row scores above a random good row."""
    ranks = pd.Series(score).rank(method="average").to_numpy()
    n_bad = int(label.sum())
    n_good = label.size - n_bad
    return float((ranks[label == 1].sum() - n_bad * (n_bad + 1) / 2) / (n_bad * n_good))


# --- credit applications -------------------------------------------------------------


def test_credit_same_seed_writes_same_bytes(tmp_path):
    first = demo_data.write_credit_csv(tmp_path / "a.csv", rows=5_000, seed=3)
    second = demo_data.write_credit_csv(tmp_path / "b.csv", rows=5_000, seed=3)
    other = demo_data.write_credit_csv(tmp_path / "c.csv", rows=5_000, seed=4)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()


def test_credit_csv_reads_back_with_all_rows_and_columns(tmp_path):
    path = demo_data.write_credit_csv(tmp_path / "credit.csv", rows=2_000)
    back = pd.read_csv(path, encoding="utf-8")
    assert len(back) == 2_000
    assert list(back.columns) == list(demo_data.credit_feature_descriptions())


def test_credit_has_requested_rows(credit):
    frame, _ = credit
    assert len(frame) == CREDIT_ROWS


def test_credit_bad_rate_is_realistic(credit):
    frame, _ = credit
    assert 0.06 <= frame["is_bad"].mean() <= 0.11
    assert set(frame["is_bad"].unique()) == {0, 1}


def test_credit_label_is_learnable_from_credit_score(credit):
    frame, _ = credit
    label = frame["is_bad"].to_numpy()
    score = frame["credit_score"].to_numpy()
    assert score[label == 0].mean() - score[label == 1].mean() > 30
    # A lower score means riskier, so rank the negated score.
    assert rank_auc(-score, label) > 0.65


def test_credit_missing_values_only_where_stated(credit):
    frame, _ = credit
    missing = frame.isna().mean()
    for column in MISSING_COLUMNS:
        assert 0.03 <= missing[column] <= 0.10, column
    assert missing.drop(list(MISSING_COLUMNS)).eq(0).all()


def test_credit_has_a_few_duplicated_applications(credit):
    frame, _ = credit
    duplicated = frame.duplicated()
    assert 0.0005 <= duplicated.mean() <= 0.002
    # A double submission is the same application again, id included.
    assert frame["application_id"].duplicated().sum() == duplicated.sum()


def test_credit_has_a_handful_of_amount_outliers(credit):
    frame, _ = credit
    for column in ("monthly_income", "transaction_amount"):
        values = frame[column].dropna().astype(float)
        far = values > values.quantile(0.99) * 10
        assert 1 <= far.sum() <= 50, column


def test_credit_values_are_in_range(credit):
    frame, _ = credit
    assert frame["application_id"].str.fullmatch(r"A\d{9}").all()
    assert frame["user_age"].between(18, 75).all()
    assert frame["credit_score"].between(300, 850).all()
    assert set(frame["gender"]) == {"M", "F"}
    assert set(frame["city_tier"]) == {1, 2, 3, 4}
    assert set(frame["education"].dropna()) == set(demo_data.EDUCATION_LEVELS)
    assert set(frame["loan_term_months"]) == {6, 12, 24, 36}
    assert set(frame["channel"]) == {"app", "web", "branch", "partner"}
    assert set(frame["device_os"].dropna()) == {"iOS", "Android", "other"}
    assert set(frame["has_mortgage"]) == {0, 1}
    assert (frame["monthly_income"].dropna() > 0).all()
    assert (frame["debt_to_income"] > 0).all()


def test_credit_dates_cover_two_years_with_quieter_weekends(credit):
    frame, _ = credit
    dates = frame["application_date"]
    assert dates.is_monotonic_increasing
    assert (dates.max() - dates.min()).days >= 700
    per_weekday = dates.dt.day_of_week.value_counts()
    assert per_weekday[[5, 6]].max() < per_weekday[[0, 1, 2, 3, 4]].min()


def test_credit_feature_descriptions_cover_every_column(credit):
    frame, _ = credit
    descriptions = demo_data.credit_feature_descriptions()
    assert list(descriptions) == list(frame.columns)
    assert all(text.strip() for text in descriptions.values())


# --- bank records --------------------------------------------------------------------


def test_bank_records_have_requested_rows(bank):
    frame, _, _ = bank
    assert len(frame) == BANK_ROWS
    assert list(frame.columns) == ["bank_name", "bank_code", "clearing_code"]


def test_bank_names_are_distinct_real_looking_branch_names(bank):
    frame, bad, _ = bank
    names = frame["bank_name"].dropna()
    assert len(names) == BANK_ROWS - (bad["reason"] == "missing_name").sum()
    assert names.is_unique
    banks = tuple(name for name, _ in BANK_CATEGORIES.values())
    assert names.str.startswith(banks).all()
    assert names.str.endswith(("分行", "支行", "分理处", "营业部", "储蓄所", "营业所")).all()
    assert names.str.contains("股份有限公司").mean() > 0.9


def test_good_lines_have_valid_codes_and_a_clearing_branch_of_the_same_bank(bank):
    frame, bad, _ = bank
    good = frame.drop(index=bad["row"])
    assert good["bank_code"].is_unique
    assert all(code_problem(code) is None for code in good["bank_code"])
    assert all(code_problem(code) is None for code in good["clearing_code"])
    # Same bank category and city; the clearing branch is sequence 0001 and has its own line.
    assert (good["clearing_code"].str[:7] == good["bank_code"].str[:7]).all()
    assert (good["clearing_code"].str[7:11] == "0001").all()
    by_code = good.set_index("bank_code")["bank_name"]
    clearing_names = by_code.loc[good["clearing_code"].unique()]
    assert clearing_names.str.endswith(("分行", "分行营业部")).all()


def test_bad_lines_fail_for_the_stated_reason(bank):
    frame, bad, _ = bank
    assert len(bad) == round(BANK_ROWS * 0.002)
    assert set(bad["reason"]) == set(demo_data.BAD_REASONS)
    assert (bad["line_number"] == bad["row"] + 2).all()  # the header is line 1
    codes = frame["bank_code"].tolist()
    first_row = {code: row for row, code in reversed(list(enumerate(codes)))}
    for line in bad.itertuples():
        name, code, clearing = frame.iloc[line.row]
        if line.reason == "missing_name":
            assert pd.isna(name)
        elif line.reason == "short_code":
            assert code_problem(code) == "leading_zeros"
            assert len(code) == 11
        elif line.reason == "letter_in_code":
            assert code_problem(code) == "format"
            assert len(code) == 12 and code.count("O") == 1
        elif line.reason == "foreign_clearing_code":  # a warning, not an error (issue #16)
            assert code_problem(code) is None
            assert code_problem(clearing) is None
            assert clearing[:3] != code[:3]
        else:
            assert line.reason == "duplicate_code"
            assert code_problem(code) is None
            assert first_row[code] < line.row  # an earlier, good line holds the code


def test_bank_records_same_seed_writes_same_bytes(tmp_path):
    first = demo_data.write_bank_records_csv(tmp_path / "a.csv", rows=5_000, seed=3)
    second = demo_data.write_bank_records_csv(tmp_path / "b.csv", rows=5_000, seed=3)
    other = demo_data.write_bank_records_csv(tmp_path / "c.csv", rows=5_000, seed=4)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()


def test_bank_records_without_bad_share_are_all_good():
    frame = demo_data.bank_records_frame(3_000, seed=1, bad_share=0)
    assert demo_data.bank_records_bad_lines(frame).empty
    assert frame["bank_name"].notna().all()
    assert frame["bank_code"].is_unique
    assert all(code_problem(code) is None for code in frame["bank_code"])


def test_bank_records_round_trip_in_gbk(tmp_path):
    path = demo_data.write_bank_records_csv(tmp_path / "gbk.csv", rows=20_000, encoding="gbk")
    back = pd.read_csv(path, encoding="gbk", dtype=str)
    frame = demo_data.bank_records_frame(20_000)
    back.columns = list(frame.columns)
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)


def test_every_character_the_generator_uses_exists_in_gbk():
    texts = [name for name, _ in BANK_CATEGORIES.values()]
    texts += [part for city in demo_data.CITIES for part in (city[0], city[1], *city[5])]
    texts += [*demo_data.BRANCH_WORDS, *demo_data.BRANCH_SUFFIXES, "股份有限公司市分行营业部"]
    for text in texts:
        text.encode("gbk")


@pytest.mark.parametrize(
    ("header", "columns"),
    [("zh", ["银行名称", "联行号", "清算行行号"]), ("en", ["bank_name", "bank_code", "clearing_code"])],
)
def test_bank_records_header_language(tmp_path, header, columns):
    path = demo_data.write_bank_records_csv(tmp_path / "b.csv", rows=1_000, header=header)
    assert path.read_text(encoding="utf-8").splitlines()[0] == ",".join(columns)


def test_bank_records_answer_key_file(tmp_path):
    key = tmp_path / "bad.csv"
    demo_data.write_bank_records_csv(tmp_path / "b.csv", rows=10_000, bad_lines_path=key)
    bad = pd.read_csv(key)
    assert list(bad.columns) == ["row", "line_number", "column", "reason"]
    assert len(bad) == 20
