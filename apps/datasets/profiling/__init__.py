"""Data-quality profile of a tabular dataset stored as Parquet.

Pure package: no Django import. ``profile_parquet`` reads one column at a time with
``pyarrow.parquet`` (never the whole table as pandas) and returns a JSON-serialisable dict
with camelCase keys, served as-is by the API. Memory stays bounded by one column plus two
``uint64`` row-hash arrays; the work per column is one sort (numbers, dates) or one
dictionary encoding (strings), from which every statistic is read.

Definitions used throughout (the report keys are in parentheses):

* Missing (``missing``): a null, and in float columns also NaN and +/-inf (they are not usable
  values; ``infinite`` counts the infinities among them). ``count`` = rows - missing.
  Empty strings are values, not missing.
* Distinct (``distinct``): exact number of different non-missing values.
* Top value share (``topValueShare``): rows holding the most frequent value / ``count``.
  A column is constant (``constant``) when it has at most one distinct value (an all-missing
  column is constant) and near-constant (``nearConstant``) when its top value share is at
  least ``Thresholds.near_constant_share``.
* Quantiles: numpy's default (linear interpolation between order statistics).
* Histogram: ``Thresholds.histogram_bins`` equal-width bins from min to max, each bin
  ``[left, right)`` except the last, which is closed, as ``numpy.histogram``.
* IQR outliers: values below ``p25 - 1.5*IQR`` or above ``p75 + 1.5*IQR`` (strictly), with
  ``IQR = p75 - p25``.
* z-score outliers: values with ``|x - mean| / std > 3``, ``std`` the sample standard
  deviation (ddof=1, as pandas); none when ``std`` is 0 or undefined.
* Binary numerical columns (at most 2 distinct values, e.g. 0/1 flags) are numerical but are
  not checked for outliers or near-constancy (``binary``: true): a 3 % rate of ones is not
  3 % outliers.
* Duplicate rows (``duplicateRows``): rows equal, across all columns, to an earlier row
  (rows - distinct rows). Rows are compared through a 64-bit hash combined column by column
  (null and NaN compare equal); a false duplicate needs a 64-bit collision, odds about
  n^2 / 2^65 (3e-8 for a million rows).
* Duplicate keys (``duplicateKeys``): the same over ``key_columns`` only.
* Dates: timestamps with a time zone are reported in UTC; ISO strings carry no offset.
* Time completeness (``time``): see ``_time_section``.
* Label balance (``label``): see ``_label_section``.
* Score (``score``): see ``quality_score``.

The package: ``report`` (``profile_parquet``), ``cluster`` (``profile_parquet_dask``: the
same report computed on a Dask cluster), ``columns`` (one column by kind, label
balance), ``numeric`` (quantiles, histogram, outliers), ``times`` (date parsing, the time
section, calendar periods), ``hashing`` (row hashes, duplicates), ``score`` (score and
alerts) and ``common`` (``Thresholds``, ``column_kind``, small helpers).
"""

from __future__ import annotations

from .columns import _dictionary_codes, _profile_column
from .common import (
    CATEGORICAL_MAX_DISTINCT,
    CATEGORICAL_MAX_DISTINCT_SHARE,
    Thresholds,
    _is_string_like,
    column_kind,
)
from .numeric import IQR_FACTOR, QUANTILES, ZSCORE_THRESHOLD
from .report import MAX_KEY_EXAMPLES, PROFILE_VERSION, profile_parquet
from .score import SCORE_WEIGHTS, quality_score
from .times import MAX_GAPS_LISTED, TIME_FORMATS

# Private names are re-exported for apps.features.statistics, which profiles its columns alike.
__all__ = [
    "CATEGORICAL_MAX_DISTINCT",
    "CATEGORICAL_MAX_DISTINCT_SHARE",
    "IQR_FACTOR",
    "MAX_GAPS_LISTED",
    "MAX_KEY_EXAMPLES",
    "PROFILE_VERSION",
    "QUANTILES",
    "SCORE_WEIGHTS",
    "TIME_FORMATS",
    "ZSCORE_THRESHOLD",
    "Thresholds",
    "_dictionary_codes",
    "_is_string_like",
    "_profile_column",
    "column_kind",
    "profile_parquet",
    "quality_score",
]
