"""Settings of the datasets domain (SystemConfig keys with their defaults)."""

from apps.core.config import ConfigKey
from apps.core.models import ValueType

KEYS = [
    ConfigKey(
        "datasets-quality-min-score",
        ValueType.NUMBER,
        70,
        "A dataset version whose quality score is below this raises an alert.",
        minimum=0,
        maximum=100,
    ),
    ConfigKey(
        "datasets-quality-max-missing-share",
        ValueType.NUMBER,
        0.2,
        "A column missing more than this share of values raises an alert.",
        minimum=0,
        maximum=1,
    ),
    ConfigKey(
        "datasets-quality-max-duplicate-share",
        ValueType.NUMBER,
        0.01,
        "More than this share of duplicate rows (or keys) raises an alert.",
        minimum=0,
        maximum=1,
    ),
    ConfigKey(
        "datasets-quality-max-outlier-share",
        ValueType.NUMBER,
        0.05,
        "A numerical column with more than this share of outliers raises an alert.",
        minimum=0,
        maximum=1,
    ),
]
