"""Demo credit-risk applications: a seeded, vectorised table shaped like a bank's own, with
its flaws on purpose (missing values, outliers, duplicated rows), and bilingual column
descriptions for registering its features.

Pure module: no Django import.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

CREDIT_START = np.datetime64("2023-01-01")
CREDIT_DAYS = 731  # two years, 2023-01-01 .. 2024-12-31
EDUCATION_LEVELS = ("高中及以下", "大专", "本科", "硕士及以上")
CHANNELS = ("app", "web", "branch", "partner")
TARGET_BAD_RATE = 0.08

# Relative application volume Monday..Sunday: people apply during the work week, less at weekends.
WEEKDAY_VOLUME = np.array([1.00, 1.06, 1.04, 1.00, 1.10, 0.72, 0.62])
# Spring Festival weeks, when volume collapses (first day, length in days).
HOLIDAYS = ((np.datetime64("2023-01-21"), 7), (np.datetime64("2024-02-10"), 8))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _intercept_for_rate(logit: np.ndarray, rate: float) -> float:
    """The shift that makes the mean predicted probability equal ``rate``.

    Solved by bisection rather than hard-coded so the bad rate stays on target whatever
    the seed, row count or coefficient tweaks.
    """
    lo, hi = -20.0, 20.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if _sigmoid(logit + mid).mean() < rate:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _application_days(rng: np.random.Generator, n: int) -> np.ndarray:
    days = CREDIT_START + np.arange(CREDIT_DAYS)
    # 1970-01-01 was a Thursday, so (days since epoch + 3) % 7 is 0 for Monday.
    weekday = (days.astype("int64") + 3) % 7
    weight = WEEKDAY_VOLUME[weekday] * np.linspace(0.8, 1.25, CREDIT_DAYS)  # business grows
    for first, length in HOLIDAYS:
        weight[(days >= first) & (days < first + length)] *= 0.35
    day_index = np.sort(rng.choice(CREDIT_DAYS, size=n, p=weight / weight.sum()))
    return days[day_index]


def credit_frame(rows: int = 100_000, seed: int = 7) -> pd.DataFrame:
    """A credit-application table with a learnable ``is_bad`` label (~8% bad).

    Rows are in application order. About 0.1% of rows are exact copies of the row before
    them (a double submission), so ``application_id`` is not unique across those.
    """
    if rows < 1:
        raise ValueError("rows must be at least 1")
    rng = np.random.default_rng(seed)
    n_dup = max(1, round(rows * 0.001)) if rows >= 100 else 0
    n = rows - n_dup

    date = _application_days(rng, n)
    # Ids grow with time with gaps, like a sequence shared with other products.
    application_id = 100_000_000 + np.cumsum(rng.integers(1, 40, size=n))

    age = np.clip(np.round(18 + rng.gamma(4.0, 4.6, size=n)), 18, 75).astype(np.int64)
    gender = np.where(rng.random(n) < 0.56, "M", "F")
    tier = rng.choice(np.arange(1, 5), size=n, p=[0.16, 0.30, 0.30, 0.24])

    # Education from a latent score: bigger cities and younger people are more educated.
    edu_latent = rng.normal(size=n) + 0.28 * (2.5 - tier) - 0.012 * (age - 35)
    education = np.digitize(edu_latent, [-0.55, 0.35, 1.45])  # 0..3
    study_years = np.array([0, 3, 4, 7])[education]
    max_years = np.maximum(age - 18 - study_years, 0)
    employment = np.round(max_years * rng.beta(2.0, 1.6, size=n), 1)

    log_income = (
        8.25
        + 0.24 * education
        + 0.17 * (4 - tier)
        + 0.12 * np.log1p(employment)
        + rng.normal(0, 0.45, size=n)
    )
    income = np.round(np.exp(log_income), -1)
    z_income = (log_income - log_income.mean()) / log_income.std()
    transaction = np.round(np.exp(0.85 * log_income - 1.6 + rng.normal(0, 0.9, size=n)), 2)

    channel = rng.choice(len(CHANNELS), size=n, p=[0.55, 0.15, 0.12, 0.18])
    partner = channel == 3

    # Unobserved repayment behaviour: it shows through overdues, inquiries and the bureau
    # score, so the label is learnable from features but not perfectly.
    risk = rng.normal(size=n)
    overdue = rng.poisson(np.exp(-2.1 + 0.85 * risk))
    inquiries = rng.poisson(np.exp(0.15 + 0.45 * risk + 0.25 * partner))
    cards = np.minimum(rng.poisson(np.exp(0.45 + 0.45 * z_income * 0.5 + 0.1 * risk)), 15)
    mortgage = (rng.random(n) < _sigmoid(-1.6 + 0.05 * (age - 30) + 0.55 * z_income)).astype(np.int64)
    score = 640 + 32 * z_income + 1.1 * (age - 36) - 42 * risk - 22 * np.minimum(overdue, 4)
    score = np.clip(np.round(score + rng.normal(0, 38, size=n)), 300, 850).astype(np.int64)

    term = rng.choice(np.array([6, 12, 24, 36]), size=n, p=[0.10, 0.35, 0.30, 0.25])
    loan = income * np.exp(rng.normal(np.log(2.5), 0.6, size=n)) * (1 + term / 24)
    loan = (np.clip(np.round(loan, -2), 1_000, 300_000)).astype(np.int64)
    other_debt = 0.8 * rng.beta(1.6, 5.0, size=n) + 0.25 * mortgage
    dti = np.round(other_debt + loan * 1.08 / term / income, 3)

    ios_share = np.array([0.0, 0.48, 0.40, 0.33, 0.26])[tier]
    os_draw = rng.random(n)
    device_os = np.where(os_draw < ios_share, "iOS", np.where(os_draw < 0.97, "Android", "other"))

    logit = (
        1.25 * risk
        - 0.35 * z_income
        + 1.1 * (dti - 0.5)
        - 0.018 * (age - 36)
        + 0.35 * partner
        - 0.25 * mortgage
        + 0.15 * (term == 36)
        + 0.25 * (device_os == "other")
        - 0.1 * education
    )
    logit += _intercept_for_rate(logit, TARGET_BAD_RATE)
    is_bad = (rng.random(n) < _sigmoid(logit)).astype(np.int64)

    # Data-entry flaws, applied after the label so they are noise, not signal.
    income_out = income.copy()
    outliers = rng.choice(n, size=max(1, n // 8000), replace=False)
    income_out[outliers] *= rng.choice([10, 100], size=outliers.size)  # extra zeros typed
    trans_out = transaction.copy()
    outliers = rng.choice(n, size=max(1, n // 8000), replace=False)
    trans_out[outliers] = np.round(trans_out[outliers] * rng.uniform(50, 200, size=outliers.size), 2)

    # Branch applications are keyed in by staff, who often skip the income and device.
    income_missing = rng.random(n) < np.where(channel == 2, 0.18, 0.05)
    employment_missing = rng.random(n) < 0.05
    education_missing = rng.random(n) < 0.04
    device_missing = rng.random(n) < np.where(channel == 2, 0.55, 0.01)

    frame = pd.DataFrame(
        {
            "application_id": pd.Series(application_id).map("A{:09d}".format),
            "application_date": date.astype("datetime64[s]"),
            "user_age": age,
            "gender": gender,
            "city_tier": tier,
            "education": np.array(EDUCATION_LEVELS, dtype=object)[education],
            "employment_years": np.where(employment_missing, np.nan, employment),
            "monthly_income": pd.array(income_out.astype(np.int64), dtype="Int64"),
            "transaction_amount": trans_out,
            "credit_score": score,
            "loan_amount": loan,
            "loan_term_months": term,
            "debt_to_income": dti,
            "num_credit_cards": cards,
            "num_inquiries_6m": inquiries,
            "overdue_count_12m": overdue,
            "has_mortgage": mortgage,
            "channel": np.array(CHANNELS, dtype=object)[channel],
            "device_os": device_os.astype(object),
            "is_bad": is_bad,
        }
    )
    frame.loc[income_missing, "monthly_income"] = pd.NA
    frame.loc[education_missing, "education"] = None
    frame.loc[device_missing, "device_os"] = None

    if n_dup:
        # A double submission repeats the row right after itself.
        copies = rng.choice(n, size=n_dup, replace=False)
        order = np.sort(np.concatenate([np.arange(n), copies]), kind="stable")
        frame = frame.iloc[order].reset_index(drop=True)
    return frame


def write_credit_csv(path: Path, rows: int = 100_000, seed: int = 7) -> Path:
    """Write :func:`credit_frame` as a UTF-8 CSV and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    credit_frame(rows, seed).to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return path


def credit_feature_descriptions() -> dict[str, str]:
    """Short bilingual descriptions of the credit columns, for registering features."""
    return {
        "application_id": "申请编号 / application id (not unique: a few double submissions)",
        "application_date": "申请日期 / application date",
        "user_age": "年龄 / applicant age in years",
        "gender": "性别 / gender (M/F)",
        "city_tier": "城市等级 / city tier, 1 = largest cities",
        "education": "学历 / highest education",
        "employment_years": "工作年限 / years employed",
        "monthly_income": "月收入(元) / monthly income, yuan",
        "transaction_amount": "交易金额(元) / recent transaction amount, yuan",
        "credit_score": "信用评分 / bureau credit score, 300-850",
        "loan_amount": "申请金额(元) / requested loan amount, yuan",
        "loan_term_months": "贷款期限(月) / loan term in months",
        "debt_to_income": "负债收入比 / monthly debt payments over income",
        "num_credit_cards": "信用卡数量 / credit cards held",
        "num_inquiries_6m": "近6个月查询次数 / credit inquiries in the last 6 months",
        "overdue_count_12m": "近12个月逾期次数 / overdue events in the last 12 months",
        "has_mortgage": "是否有房贷 / has a mortgage (0/1)",
        "channel": "申请渠道 / application channel",
        "device_os": "设备系统 / device operating system",
        "is_bad": "是否坏客户 / label: 1 = defaulted (bad)",
    }
