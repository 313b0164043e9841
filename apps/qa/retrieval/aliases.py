"""Bank aliases: the built-in table (DEFAULT_ALIASES, English names among them) and
their expansion over normal forms (_Aliases, with weak aliases).

Definitions are in the package docstring (apps.qa.retrieval). Pure module: no Django import.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from apps.datasets.cnaps import BANK_CATEGORIES

from .normalise import normalise

# --- aliases -----------------------------------------------------------------------------


def _default_aliases() -> dict[str, str]:
    aliases = {short: full for full, shorts in BANK_CATEGORIES.values() for short in shorts}
    aliases.update(
        {
            "工商": "中国工商银行",
            "中国农行": "中国农业银行",
            "中国建行": "中国建设银行",
            "中国交通银行": "交通银行",
            "中国邮政": "中国邮政储蓄银行",
            "邮政银行": "中国邮政储蓄银行",
            "邮政": "中国邮政储蓄银行",
            "中信": "中信银行",
            "招商": "招商银行",
            "浦东发展银行": "上海浦东发展银行",
            "浦发": "上海浦东发展银行",
            "民生": "中国民生银行",
            "光大": "中国光大银行",
            "兴业": "兴业银行",
            "华夏": "华夏银行",
            "广发": "广发银行",
            "广东发展银行": "广发银行",
            "平安": "平安银行",
            # English names, as on the banks' own English pages.
            "Industrial and Commercial Bank of China": "中国工商银行",
            "Agricultural Bank of China": "中国农业银行",
            "Bank of China": "中国银行",
            "China Construction Bank": "中国建设银行",
            "Bank of Communications": "交通银行",
            "China CITIC Bank": "中信银行",
            "China Everbright Bank": "中国光大银行",
            "Hua Xia Bank": "华夏银行",
            "Huaxia Bank": "华夏银行",
            "China Minsheng Bank": "中国民生银行",
            "China Guangfa Bank": "广发银行",
            "Ping An Bank": "平安银行",
            "China Merchants Bank": "招商银行",
            "Industrial Bank": "兴业银行",
            "Shanghai Pudong Development Bank": "上海浦东发展银行",
            "Postal Savings Bank of China": "中国邮政储蓄银行",
        }
    )
    return aliases


DEFAULT_ALIASES: dict[str, str] = _default_aliases()


class _Aliases:
    """Alias expansion over normal forms (see the module docstring for weak aliases)."""

    def __init__(self, aliases: Mapping[str, str], banks: Sequence[str], weak: Iterable[str]) -> None:
        self.aliases = dict(aliases)  # normal forms, alias -> full name
        self.banks = list(banks)  # normal forms of the full names; bank id = index
        self.bank_id = {bank: i for i, bank in enumerate(self.banks)}
        self.weak = frozenset(weak)
        words = sorted({*self.aliases, *self.banks}, key=lambda w: (-len(w), w))
        self.pattern = re.compile("|".join(map(re.escape, words))) if words else None
        by_length = sorted(self.banks, key=len, reverse=True)
        self.prefix = re.compile("|".join(map(re.escape, by_length))) if by_length else None

    @classmethod
    def from_table(cls, table: Mapping[str, str], rests: str = "") -> _Aliases:
        """The aliases of ``table``, weak where ``rests`` (branch parts, joined) hold them."""
        aliases: dict[str, str] = {}
        for short, full in table.items():
            key, value = normalise(str(short)), normalise(str(full))
            if key and value and key != value:
                aliases[key] = value
        banks = sorted(set(aliases.values()))
        return cls(aliases, banks, [key for key in aliases if key in rests])

    def record_bank(self, name: str) -> int:
        """The id of the bank a record's normal form starts with, -1 if none."""
        hit = self.prefix.match(name) if self.prefix else None
        return self.bank_id[hit.group()] if hit else -1

    def expand(self, text: str) -> tuple[str, int]:
        """``text`` with its aliases expanded, and the id of the first bank it names (-1: none)."""
        if self.pattern is None:
            return text, -1
        matches = list(self.pattern.finditer(text))
        strong = [m for m in matches if m.group() in self.bank_id or m.group() not in self.weak]
        if not strong:
            # A weak alias counts only where a bank is named: at the start of the question.
            strong = [m for m in matches[:1] if m.start() == 0]
        if not strong:
            return text, -1
        parts: list[str] = []
        end = 0
        for m in strong:
            parts += [text[end : m.start()], self.aliases.get(m.group(), m.group())]
            end = m.end()
        parts.append(text[end:])
        first = self.aliases.get(strong[0].group(), strong[0].group())
        return "".join(parts), self.bank_id.get(first, -1)
