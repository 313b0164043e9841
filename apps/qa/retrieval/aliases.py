# ruff: noqa: RUF001 - bank names and wrappers in Cyrillic and Greek are the point
"""Bank aliases: the built-in table (DEFAULT_ALIASES: Chinese banks' short and English
names, and well-known short and other-script names of banks abroad) and their expansion
over normal forms (_Aliases, with weak aliases).

An alias or bank name written in letters (Latin, Cyrillic, Greek) only counts as whole
words: DB in "DB Privatbank", not in "Sandbank"; one in Chinese characters anywhere, as
Chinese has no spaces. An alias is only written out in the question (Sberbank -> Сбербанк)
when some record names its bank that way; either way it tells which bank a question names.

Definitions are in the package docstring (apps.qa.retrieval). Pure module: no Django import.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from apps.datasets.cnaps import BANK_CATEGORIES

from .distance import osa_distances
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
    aliases.update(FOREIGN_ALIASES)
    return aliases


# Banks abroad: short names the banks use themselves, and their names in another script,
# as on their own pages; only names that are widely known and point to one bank.
FOREIGN_ALIASES: dict[str, str] = {
    "DB": "Deutsche Bank",
    "HypoVereinsbank": "UniCredit Bank - HypoVereinsbank",
    "HVB": "UniCredit Bank - HypoVereinsbank",
    "Deutsche Bundesbank": "Bundesbank",
    "LBBW": "Landesbank Baden-Württemberg",
    "BayernLB": "Bayerische Landesbank",
    "OeNB": "Oesterreichische Nationalbank",
    "RBI": "Raiffeisen Bank International",
    "SNB": "Schweizerische Nationalbank",
    "Swiss National Bank": "Schweizerische Nationalbank",
    "ZKB": "Zürcher Kantonalbank",
    "BCV": "Banque Cantonale Vaudoise",
    "BCGE": "Banque Cantonale de Genève",
    "LLB": "Liechtensteinische Landesbank",
    "BNP": "BNP Paribas",
    "SocGen": "Société Générale",
    "ABN": "ABN AMRO",
    "BBVA": "Banco Bilbao Vizcaya Argentaria",
    "MPS": "Banca Monte dei Paschi di Siena",
    "Monte dei Paschi": "Banca Monte dei Paschi di Siena",
    "KB": "Komerční banka",
    "ČSOB": "Československá obchodní banka",
    "VÚB": "Všeobecná úverová banka",
    "PKO BP": "PKO Bank Polski",
    "RBS": "Royal Bank of Scotland",
    "Sberbank": "Сбербанк",
    "Сбер": "Сбербанк",
    "VTB": "ВТБ",
    "Oschadbank": "Ощадбанк",
    "Oshchadbank": "Ощадбанк",
    "PrivatBank": "ПриватБанк",
    "Halyk Bank": "Народный Банк Казахстана",
    "Халык Банк": "Народный Банк Казахстана",
    "National Bank of Greece": "Εθνική Τράπεζα της Ελλάδος",
    "NBG": "Εθνική Τράπεζα της Ελλάδος",
    "Εθνική Τράπεζα": "Εθνική Τράπεζα της Ελλάδος",
    "Piraeus Bank": "Τράπεζα Πειραιώς",
    "Πειραιώς": "Τράπεζα Πειραιώς",
}

SEVERAL_BANKS = -2  # the bank "named" by a question naming two or more
# A longer bank name misspelt around a shorter one is read as the longer one with at most
# one typo per this many characters of it (as the generator's and people's typos: one a word).
HOLDER_CHARS_PER_TYPO = 12
_CJK = "\u3400-\u9fff\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{_CJK}]")


def _lettered(word: str) -> bool:
    """Whether a normal form starts or ends with a letter or digit outside Chinese characters."""
    return bool(word) and not (_CJK_CHAR.match(word[0]) and _CJK_CHAR.match(word[-1]))


DEFAULT_ALIASES: dict[str, str] = _default_aliases()


class _Aliases:
    """Alias expansion over normal forms (see the module docstring for weak aliases).

    ``kept``: the aliases written out in questions (their bank is named so in the records),
    ``whole``: those written out only when they are the whole question; the others only
    tell which bank a question names.
    """

    def __init__(
        self,
        aliases: Mapping[str, str],
        banks: Sequence[str],
        weak: Iterable[str],
        kept: Iterable[str] | None = None,
        whole: Iterable[str] = (),
    ) -> None:
        self.aliases = dict(aliases)  # normal forms, alias -> full name
        self.banks = list(banks)  # normal forms of the full names; bank id = index
        self.bank_id = {bank: i for i, bank in enumerate(self.banks)}
        self.weak = frozenset(weak)
        self.kept = frozenset(self.aliases if kept is None else kept)
        self.whole = frozenset(whole)
        self.lettered = frozenset(w for w in (*self.aliases, *self.banks) if _lettered(w))
        words = sorted({*self.aliases, *self.banks}, key=lambda w: (-len(w), w))
        self.pattern = re.compile("|".join(map(re.escape, words))) if words else None
        # For each lettered alias or name, the longer ones that hold it (Bank of China in
        # Industrial and Commercial Bank of China): a question that misspells the longer
        # one still names the longer one's bank, not the one it holds.
        self.holders: dict[str, list[tuple[str, int]]] = {}
        for short in self.lettered:
            for longer in self.lettered:
                at = longer.find(short)
                if (
                    at >= 0
                    and len(longer) >= HOLDER_CHARS_PER_TYPO  # one typo in CMBC is CMB (another bank)
                    and self._bank_of(longer) != self._bank_of(short)
                ):
                    self.holders.setdefault(short, []).append((longer, at))

    @classmethod
    def from_table(
        cls,
        table: Mapping[str, str],
        rests: str = "",
        names: Sequence[str] | None = None,
        in_names: Iterable[str] = (),
    ) -> _Aliases:
        """The aliases of ``table``, weak where ``rests`` (branch parts, joined) hold them;
        written out only when one of ``names`` (records' normal forms) holds their bank's
        full name and no record name holds the alias itself as a word (``in_names``: ČSOB
        in "ČSOB Hypoteční banka" names that bank, not Československá obchodní banka).
        All are written out when ``names`` is None."""
        aliases: dict[str, str] = {}
        for short, full in table.items():
            key, value = normalise(str(short)), normalise(str(full))
            if key and value and key != value:
                aliases[key] = value
        banks = sorted(set(aliases.values()))
        weak = [key for key in aliases if key in rests and not _lettered(key)]
        if names is None:
            return cls(aliases, banks, weak)
        joined = "\x00".join(names)
        present = {bank for bank in banks if bank in joined}
        used = frozenset(in_names)
        # Letters only: an alias is written out when its bank is named so in the records
        # and no record name holds the alias itself as a word (ČSOB is also part of "ČSOB
        # Hypoteční banka": written out only when it is all the question names).
        kept, whole = [], []
        for key, full in aliases.items():
            if not _lettered(key):
                kept.append(key)  # Chinese: always, as ever
            elif full in present and (key not in full or full.startswith(key)):
                # A name's first word(s) stand for it (BNP for BNP Paribas): written out.
                (whole if key in used else kept).append(key)
        return cls(aliases, banks, weak, kept, whole)

    def _bank_of(self, word: str) -> int:
        return self.bank_id.get(self.aliases.get(word, word), -1)

    def _misspelt_holder(self, text: str, m: re.Match[str]) -> str | None:
        """The longer alias or name holding ``m``'s that ``text`` writes around it with a
        typo or two (at most one per ``HOLDER_CHARS_PER_TYPO`` characters), if any."""
        for longer, at in self.holders.get(m.group(), ()):
            head, tail = longer[:at], longer[at + len(m.group()) :]
            allowed = max(1, len(longer) // HOLDER_CHARS_PER_TYPO)
            spent = _fuzzy_end(head, text[: m.start()], allowed)
            spent += _fuzzy_start(tail, text[m.end() :], allowed)
            if 0 < spent <= allowed:
                return longer
        return None

    def _matches(self, text: str, edges: frozenset[int] | None) -> list[re.Match[str]]:
        """Aliases and bank names in ``text``; lettered ones only as whole words (``edges``:
        where ``text``'s words begin and end; None: anywhere)."""
        if self.pattern is None:
            return []
        found = []
        for m in self.pattern.finditer(text):
            if edges is not None and m.group() in self.lettered:
                s, e = m.start(), m.end()
                starts = s == 0 or s in edges or _CJK_CHAR.match(text[s - 1])
                ends = e == len(text) or e in edges or _CJK_CHAR.match(text[e])
                if not (starts and ends):
                    continue
            found.append(m)
        return found

    def record_bank(
        self, name: str, edges: frozenset[int] | None = None, seen: set[str] | None = None
    ) -> int:
        """The id of the first bank a record's normal form names (by its name or a strong
        alias), -1 if none; the lettered aliases it holds are added to ``seen``."""
        matches = self._matches(name, edges)
        if seen is not None:
            seen.update(
                m.group() for m in matches if m.group() in self.lettered and m.group() in self.aliases
            )
        for m in matches:
            word = m.group()
            if word in self.bank_id:
                return self.bank_id[word]
            if word not in self.weak:
                return self.bank_id[self.aliases[word]]
        return -1

    def expand(self, text: str, edges: frozenset[int] | None = None) -> tuple[str, int]:
        """``text`` with its aliases expanded, and the id of the bank it names (-1: none;
        ``SEVERAL_BANKS`` when it names more than one: no answer can be sure of them all)."""
        matches = self._matches(text, edges)
        strong = [m for m in matches if m.group() in self.bank_id or m.group() not in self.weak]
        if not strong:
            # A weak alias counts only where a bank is named: at the start of the question.
            strong = [m for m in matches[:1] if m.start() == 0]
        if not strong:
            return text, -1
        misspelt = {self._misspelt_holder(text, m) for m in strong} - {None}
        if misspelt:
            # The question names a bank whose name it misspells around another bank's name.
            named = {self._bank_of(w) for w in misspelt if w is not None}
            return text, (named.pop() if len(named) == 1 else SEVERAL_BANKS)
        parts: list[str] = []
        end = 0
        for m in strong:
            word = m.group()
            written = word in self.kept or (word in self.whole and m.start() == 0 and m.end() == len(text))
            parts += [text[end : m.start()], self.aliases[word] if written else word]
            end = m.end()
        parts.append(text[end:])
        named = {self.bank_id.get(self.aliases.get(m.group(), m.group()), -1) for m in strong}
        if len(named) > 1:
            return "".join(parts), SEVERAL_BANKS
        first = self.aliases.get(strong[0].group(), strong[0].group())
        return "".join(parts), self.bank_id.get(first, -1)


def _fuzzy_end(want: str, text: str, allowed: int) -> int:
    """The fewest edits making some end of ``text`` equal ``want`` (``allowed`` + 1 if more)."""
    if not want:
        return 0
    ends = [text[max(0, len(text) - len(want) - d) :] for d in range(-allowed, allowed + 1)]
    return min(allowed + 1, int(osa_distances(want, ends).min()))


def _fuzzy_start(want: str, text: str, allowed: int) -> int:
    """The fewest edits making some start of ``text`` equal ``want`` (``allowed`` + 1 if more)."""
    if not want:
        return 0
    starts = [text[: max(0, len(want) + d)] for d in range(-allowed, allowed + 1)]
    return min(allowed + 1, int(osa_distances(want, starts).min()))
