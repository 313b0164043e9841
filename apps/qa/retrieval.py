"""Answering "what is the clearing code of <bank branch>?" from a table of bank records.

Definitions:

- The *normal form* of a text (:func:`normalise`): NFKC (full-width letters, digits and
  punctuation become half-width), case-folded, traditional characters mapped to simplified
  through a small table (``TRADITIONAL_TO_SIMPLIFIED``), everything that is not a letter or
  digit removed (punctuation, whitespace, control characters), then the legal-form words in
  ``LEGAL_SUFFIXES`` (股份有限公司 …) removed. Record names and questions share it.
- A *question* is cut to ``MAX_RAW_CHARS`` characters, brought to its normal form and
  stripped of its wrappers (``QUESTION_WRAPPERS``: 请问…, …的联行号是多少, what is the
  code of …). A question with nothing left raises :class:`EmptyQuestionError` (a
  ``ValueError``): nothing to look up is an input error, not an answer. Then its aliases
  are expanded (English bank names among them), letters left over are read as pinyin and
  English words and written in the records' characters (:class:`_Latin`: Beijing Haidian
  Sub-branch -> 北京海淀支行), context above the branch is dropped (a province in front, a parent 分行
  inside: :class:`_Context`) and it is cut to ``MAX_QUESTION_CHARS``.
- *Aliases* map a short name to a full bank name (工行 -> 中国工商银行). They are given at
  build time (``DEFAULT_ALIASES`` otherwise) and stored in the index. An alias that also
  occurs inside the branch part of record names (兴业 in 兴业路支行) is *weak*: it is
  expanded only at the start of a question that names no bank otherwise.
- *Grams* of a normal form (:func:`_grams`): its characters; its pairs of characters one
  or two apart; its characters' sounds (toneless pinyin, as input methods make people
  type 冬 for 东) and pairs of sounds side by side; administrative-level words (市, 区,
  街道 …) left out of the pairs, as people add and drop them freely. A gram's *weight* is
  ``min(ln(1 + N / df), MAX_WEIGHT)`` over the N records; ``w(X)`` sums it over X.

How a question is answered (:meth:`RetrievalIndex.ask`), first hit wins:

1. *code*: the question holds a 12-digit run that is a record's bank_code (or a
   clearing_code) -> that record.
2. *exact*: the question equals one record's normal form (several records sharing it
   make the answer ambiguous: not sure).
3. *ngram*: candidates come from the posting lists of the question's rarest grams only
   (at most ``POSTING_BUDGET`` postings: a question never scans the whole table); the
   best ``RESCORED`` of them are scored on their full gram sets Q (question) and D
   (record) by ``w(Q & D) / (QUESTION_SHARE * w(Q) + (1 - QUESTION_SHARE) * w(D))``, a
   weighted Dice coefficient leaning towards explaining the question, times
   ``BANK_CONFLICT`` when the question names another bank and ``OFFICE_CONFLICT`` when it
   names another kind of office (支行, 分理处 …). Ties go to the shorter name.

*Confidence* of an n-gram answer is the estimated probability that it is right, a
logistic function of the best score and its margin over the runner-up (``CONFIDENCE_*``,
fitted by ``benchmarks/bench_qa.py --calibrate`` on generated questions of a seed kept
apart from evaluation). Code and exact answers have confidence 1 (1/k when k records share
the name). An answer is *sure* when its confidence is at least ``SURE_THRESHOLD``;
otherwise ``sure=False`` and callers show the candidates instead of the best guess.

The index serialises to a zip of ``.npy`` arrays (loaded with ``allow_pickle=False``) and
one JSON member: no pickle anywhere. Pure module: no Django import.
"""

from __future__ import annotations

import io
import itertools
import json
import math
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import numpy as np

from apps.datasets.cnaps import BANK_CATEGORIES

FORMAT = "omm-retrieval"
FORMAT_VERSION = 1

MAX_RAW_CHARS = 1_000  # a question is cut here before any work, bounding its cost
MAX_QUESTION_CHARS = 200  # and here once normalised and unwrapped
MAX_K = 20  # answers return at most this many records (the guess and the candidates)
MAX_RECORDS = 1 << 22  # record ids and gram keys share one int64 while grams are counted
BUILD_CHUNK = 16_384  # records whose grams are made at once while building
MAX_ARTIFACT_BYTES = 1 << 30  # a serialised index (and its unpacked members) stays below this

# Ranking. Tuned on generated questions of seed 1 (see benchmarks/bench_qa.py).
POSTING_BUDGET = 4_000  # postings read per question to collect candidates
RESCORED = 64  # candidates scored on their full gram sets
MAX_WEIGHT = 7.0  # cap on a gram's weight: a gram in 1 record in 150,000 weighs as one in 130
QUESTION_SHARE = 0.6  # share of the question's weight in the score's denominator
UNKNOWN_GRAM_WEIGHT = 4.0  # weight of a question gram no record has (a typo, a stray word)
BANK_CONFLICT = 0.55  # score factor when the question names another bank
OFFICE_CONFLICT = 0.8  # score factor when it names another kind of office
BANK_BONUS = 1_000.0  # added while collecting candidates, so the named bank's records come first

# Confidence = 1 / (1 + exp(-(A * best + C * margin + B))), from bench_qa.py --calibrate.
CONFIDENCE_A = 7.36
CONFIDENCE_B = -4.32
CONFIDENCE_C = 46.21
SURE_THRESHOLD = 0.87  # confidence at or above which an answer is given as sure

_CODE_RE = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")
_WHOLE_CODE_RE = re.compile(r"[0-9]{12}")
_NOT_WORD = re.compile(r"[\W_]+")

# --- normal form -------------------------------------------------------------------------

# Traditional -> simplified for the characters of bank, place and question words. Not a
# full converter: a character missing here stays as it is and costs a gram, not an answer.
TRADITIONAL_TO_SIMPLIFIED = dict(
    zip(
        "銀國農業設開發儲郵華東廣門區縣鎮號興際陽蘇龍灣聯請問幫麼碼詢個這們嗎說給謝訴該對應稱網點處廳總屬樣電話構"
        "貸資匯滙現實經濟萬豐臨麗義烏樂鄉雲產崙倉會體僑蘭關鳳創務動勞醫歷廈雙臺吳團園場壩壯復頭學寧寶寬賓爾崗島"
        "嶺嶽師莊慶廬張當態無機楊棲欒橋樓漢瀋溝滄澤渾潤溫濱灘獅環瓊瑤甌鹽盤禪稅紅紀結繡維綠羅肅勝蘇荊榮蔭蓮營蕭"
        "薩觀誼譜貢貴貿賀賽車軟遼達連鄴鄭錢鐵錫錦長閔陰陝靜順風馬驛魯鯉黃齊嶗礄晉暉內鐘陳劉趙閩黨廠鋼鍋",
        "银国农业设开发储邮华东广门区县镇号兴际阳苏龙湾联请问帮么码询个这们吗说给谢诉该对应称网点处厅总属样电话构"
        "贷资汇汇现实经济万丰临丽义乌乐乡云产仑仓会体侨兰关凤创务动劳医历厦双台吴团园场坝壮复头学宁宝宽宾尔岗岛"
        "岭岳师庄庆庐张当态无机杨栖栾桥楼汉沈沟沧泽浑润温滨滩狮环琼瑶瓯盐盘禅税红纪结绣维绿罗肃胜苏荆荣荫莲营萧"
        "萨观谊谱贡贵贸贺赛车软辽达连邺郑钱铁锡锦长闵阴陕静顺风马驿鲁鲤黄齐崂硚晋晖内钟陈刘赵闽党厂钢锅",
        strict=True,
    )
)
_T2S = str.maketrans(TRADITIONAL_TO_SIMPLIFIED)

# Legal-form words: they tell nothing about which branch is meant.
LEGAL_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "股份公司")
_LEGAL_RE = re.compile("|".join(LEGAL_SUFFIXES))


def _compact(text: str) -> str:
    """NFKC, case fold, traditional -> simplified, only letters and digits kept."""
    text = unicodedata.normalize("NFKC", text[:MAX_RAW_CHARS]).casefold().translate(_T2S)
    return _NOT_WORD.sub("", text)


def normalise(text: str) -> str:
    """The normal form of ``text`` (see the module docstring); "" when nothing is left."""
    return _LEGAL_RE.sub("", _compact(text))


# --- question wrappers -------------------------------------------------------------------

# Each removed where it matches in the compact text (simplified, case-folded, no spaces or
# punctuation), round after round until nothing changes; (pattern, what it removes).
_CODE_WORDS = (
    r"(?:联行行号|联行号|大额行号|支付行号|清算行行号|清算行号|清算号|银行代码|行号|cnaps号|cnaps码|cnapscode|"
    r"cnaps|swiftcode|bankcode|clearingcode|routingcode|branchcode|code|number)"
)
QUESTION_WRAPPERS: tuple[tuple[str, str], ...] = (
    (r"^(?:你好|您好|hi|hello|hey)+", "greeting"),
    (r"^(?:请问一下|请问|请教一下|请教|麻烦问一下|麻烦问下|麻烦你|麻烦|劳驾)", "请问 …"),
    (
        r"^(?:请|麻烦)?(?:帮我|帮忙|给我|替我)?(?:查询一下|查询|查一下|查下|查查|查找|搜索|搜一下|找一下|找找)",
        "(帮我)查一下 …",
    ),
    (r"^(?:请|麻烦)?(?:帮我|帮忙|给我|替我)(?:查|找|搜)", "帮我查 …"),
    (r"^我(?:想|要|需要)(?:知道|查询|查一下|查下|查|问一下|问|找)", "我想知道 …"),
    (r"^(?:请)?告诉我", "告诉我 …"),
    (r"^(?:please|pls)", "please …"),
    (
        r"^(?:whatis|whats|whatre|tellme|findme|find|lookup|searchfor|search|get|showme|show|givemes?)?"
        r"(?:the)?(?:cnaps|clearing|bank|branch|routing|interbank)*(?:code|number|no)(?:of|for)",
        "what is the code of …",
    ),
    (r"^(?:whatis|whats|whois|which(?:bank)?is)", "what is …"),
    (rf"^{_CODE_WORDS}(?:是|为)?", "联行号 <code> …"),
    (
        rf"(?:的)?s?(?:对应)?(?:的)?{_CODE_WORDS}(?:是多少|是什么|是啥|是|为|多少|呢|吗|啊|please|pls)*$",
        "… 的联行号是多少",
    ),
    (
        r"(?:是哪个|是哪家|是什么|属于哪个|对应哪个|对应的|对应)(?:银行|支行|网点|行名|行)?(?:呢|吗|啊)?$",
        "… 是哪个银行",
    ),
    (r"(?:的)?(?:行名|银行名称|名称|网点名称)(?:是什么|是啥|是|呢)*$", "… 的行名"),
    (r"(?:是多少|是什么|是啥|多少|呢|吗|啊|谢谢|thanks|thankyou|please|pls)+$", "… 是多少"),
    (r"^(?:the)", "the …"),
    (r"(?:网点|营业厅)$", "… 网点 / 营业厅 (generic words for a branch office)"),
)
_WRAPPER_RES = tuple(re.compile(pattern) for pattern, _ in QUESTION_WRAPPERS)


def strip_wrappers(text: str) -> str:
    """``text`` (already compact) without its question wrappers; may return ""."""
    for _ in range(6):  # each round removes at least one wrapper; real questions need 1-3
        before = text
        for pattern in _WRAPPER_RES:
            text = pattern.sub("", text, count=1)
        if text == before:
            break
    return text


# --- context above the branch, kinds of office -----------------------------------------------

# Provincial-level names (municipalities excepted: they are cities). In front of a branch
# they only give context (江苏省南京…) that branch names below the provincial branch do not
# carry, so a question drops them there, unless a provincial branch is meant (江苏省分行).
# A short name (河北) that the records also use for something else (天津河北区) is kept.
PROVINCES = (
    "河北省", "山西省", "辽宁省", "吉林省", "黑龙江省", "江苏省", "浙江省", "安徽省", "福建省", "江西省",
    "山东省", "河南省", "湖北省", "湖南省", "广东省", "海南省", "四川省", "贵州省", "云南省", "陕西省",
    "甘肃省", "青海省", "台湾省", "内蒙古自治区", "广西壮族自治区", "西藏自治区", "宁夏回族自治区",
    "新疆维吾尔自治区",
)  # fmt: skip
_PROVINCE_SHORT = [re.sub("省$|(壮族|回族|维吾尔)?自治区$", "", p) for p in PROVINCES]
_PROVINCE_TAIL = "(?!省|自治区|壮族|回族|维吾尔|分行|行|营业|区|县|市)"
# 北京分行海淀支行: a sub-branch cited under its city branch, which is only context.
_PARENT_BRANCH_RE = re.compile(r"(?<=.)分行(?!营业|$)")


class _Context:
    """Drops what only gives context above the branch: a province in front, a parent 分行."""

    def __init__(self, provinces: Iterable[str]) -> None:
        self.provinces = sorted(provinces, key=len, reverse=True)
        # Atomic, so that 广西壮族自治区分行 does not fall back to 广西.
        alternatives = "|".join(map(re.escape, self.provinces)) or "(?!)"
        self.pattern = re.compile(f"(?>{alternatives}){_PROVINCE_TAIL}")

    @classmethod
    def from_records(cls, rests: str) -> _Context:
        """Full province names, and short ones that ``rests`` (branch parts, joined) use only so."""
        short = (p for p in _PROVINCE_SHORT if not re.search(f"{re.escape(p)}{_PROVINCE_TAIL}", rests))
        return cls([*PROVINCES, *short])

    def drop(self, text: str, start: int = 0) -> str:
        """``text`` without a province at ``start`` (where the branch part begins) or a parent 分行."""
        found = self.pattern.match(text, start)
        if found and found.end() < len(text):
            text = text[:start] + text[found.end() :]
        return _PARENT_BRANCH_RE.sub("", text)


# The kind of office a name ends with; a question that names one conflicts with the others.
# 营业部 alone says nothing (恒通营业部 is what people call the 恒通 office).
_OFFICE_RE = re.compile("(支行营业部|支行|分行营业部|分行|分理处|储蓄所|营业所)$")
OFFICES = {"支行营业部": 1, "支行": 1, "分行营业部": 2, "分行": 2, "分理处": 3, "储蓄所": 4, "营业所": 5}


def office(text: str) -> int:
    """The kind of office a normal form ends with (``OFFICES``), 0 when it names none."""
    found = _OFFICE_RE.search(text)
    return OFFICES[found.group()] if found else 0


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


# --- questions in pinyin and English -------------------------------------------------------

_LATIN_RUN = re.compile("[a-z]+")
# English words of branch names, as bank pages write them; "" drops a word.
ENGLISH_WORDS: dict[str, str] = {
    "subbranch": "支行",
    "branch": "",  # "Haidian branch" is a 支行, "Beijing branch" a 分行: the rest tells
    "businessdepartment": "营业部",
    "operationsdepartment": "营业部",
    "operationdepartment": "营业部",
    "savingsoffice": "储蓄所",
    "savingoffice": "储蓄所",
    "office": "",
    "city": "市",
    "district": "区",
    "county": "县",
    "province": "省",
    "road": "路",
    "street": "街",
    "avenue": "大道",
    "town": "镇",
    **dict.fromkeys(
        ("bank", "of", "the", "china", "co", "ltd", "limited", "company", "corp", "corporation", "in", "at"),
        "",
    ),
}
_SKIP_COST = 3  # a letter that is neither pinyin nor an English word costs as much as three words


class _Latin:
    """Latin letters left in a prepared question read as pinyin and English words, and
    written in the records' characters: beijinghaidiansubbranch -> 北京海淀支行.

    A run of letters is cut into the fewest pinyin syllables (those the records'
    characters are read as, any reading) and ``ENGLISH_WORDS``. Each syllable becomes the
    character read so that, next to its neighbours, makes the pairs most records hold
    (海淀, not 海店), so that characters, pairs and sounds all match as for a question typed
    in Chinese. Built on the first such question: it needs pypinyin, as building does.
    """

    def __init__(self, alphabet: np.ndarray, normal: list[str]) -> None:
        from pypinyin.pinyin_dict import pinyin_dict

        # Characters and side-by-side pairs counted over the records' names (the index's
        # pairs also join characters two apart: 银行杭州 would vote for 行州).
        cps, doc = _codepoints(normal)
        ids = _lookup(alphabet, cps)
        self.counts = np.bincount(ids, minlength=alphabet.size + 1)
        inside = (doc[:-1] == doc[1:]) & (ids[:-1] > 0) & (ids[1:] > 0)
        self.pairs, self.pair_counts = np.unique(
            (ids[:-1][inside] << np.int64(CHAR_BITS)) | ids[1:][inside], return_counts=True
        )
        self.log_n = math.log1p(len(normal))
        by_sound: dict[str, list[int]] = {}
        for char_id, cp in enumerate(alphabet.tolist(), start=1):
            for reading in set(pinyin_dict.get(cp, "").split(",")) - {""}:
                by_sound.setdefault(toneless(reading), []).append(char_id)
        self.chars: dict[str, np.ndarray] = {}  # syllable -> character ids, most frequent first
        for sound, found in by_sound.items():
            ranked = np.asarray(found, dtype=np.int64)
            self.chars[sound] = ranked[np.argsort(-self.counts[ranked], kind="stable")][:12]
        self.alphabet = alphabet
        self.tokens = {*self.chars, *ENGLISH_WORDS}
        self.longest = max(map(len, self.tokens), default=1)

    def __call__(self, text: str) -> str:
        return _LATIN_RUN.sub(lambda m: self._run(m.group()), text)

    def _run(self, run: str) -> str:
        """The run as characters; letters that read as nothing are kept as they are."""
        n = len(run)
        # best[end] = (cost, start, token): the cheapest reading of run[:end], its last token.
        best: list[tuple[int, int, str]] = [(0, 0, "")] * (n + 1)
        for end in range(1, n + 1):
            best[end] = (best[end - 1][0] + _SKIP_COST, end - 1, "")  # a stray letter
            # Shortest last token first, so that ties go to longer early ones: jiangan is
            # jiang'an (江岸), as people type it without the apostrophe.
            for start in range(end - 1, max(0, end - self.longest) - 1, -1):
                token = run[start:end]
                if token in self.tokens and best[start][0] + 1 < best[end][0]:
                    best[end] = (best[start][0] + 1, start, token)
        pieces: list[tuple[str, str]] = []  # (token or "", the letters)
        end = n
        while end > 0:
            _, start, token = best[end]
            pieces.append((token, run[start:end]))
            end = start
        out: list[str] = []
        syllables: list[str] = []
        for token, letters in [*reversed(pieces), ("", "")]:
            if token in self.chars:
                syllables.append(token)
                continue
            out.append(self._characters(syllables))
            syllables = []
            out.append(ENGLISH_WORDS[token] if token else letters)
        return "".join(out)

    def _characters(self, syllables: list[str]) -> str:
        """The likeliest characters for a row of syllables: the best path through pair counts."""
        if not syllables:
            return ""
        options = [self.chars[s] for s in syllables]
        score = np.log1p(self.counts[options[0]]) * 0.1
        back: list[np.ndarray] = []
        for prev, cur in itertools.pairwise(options):
            keys = (prev[:, None] << np.int64(CHAR_BITS)) | cur[None, :]
            together = _lookup(self.pairs, keys.ravel(), self.pair_counts).reshape(keys.shape)
            alone = np.log1p(self.counts[prev])[:, None], np.log1p(self.counts[cur])[None, :]
            # A pair seen in records: its count against its characters' (海淀 over 海店);
            # none seen: the more frequent character, by a little.
            seen = self.log_n + np.log1p(together) - 0.5 * (alone[0] + alone[1])
            gain = np.where(together > 0, seen, 0.1 * alone[1])
            total = score[:, None] + gain
            back.append(np.argmax(total, axis=0))
            score = total.max(axis=0)
        pick = [int(np.argmax(score))]
        for step in reversed(back):
            pick.append(int(step[pick[-1]]))
        pick.reverse()
        return "".join(chr(int(self.alphabet[options[i][j] - 1])) for i, j in enumerate(pick))


# --- grams -------------------------------------------------------------------------------

# Words that mark an administrative level (北京市, 海淀区, 管城回族区, 东城街道), which people
# add and drop freely: QUIET words are left out of the grams altogether, LEVEL characters
# out of the pairs (北京市海淀区 and 北京海淀 share their pairs) but not out of the characters.
_QUIET_RE = re.compile("回族区|回族|街道")
_LEVEL_RE = re.compile("[市区县省镇]")
CHAR_BITS = 18  # character ids (1 + place in the records' alphabet, 0: not in it) < 2**18
_TYPE = np.int64(1) << np.int64(2 * CHAR_BITS)  # gram type: 0 character, 1 pair, 2 sound, 3 sound pair
_NTH = np.int64(4) << np.int64(2 * CHAR_BITS)  # occurrence of the gram in its text: 0 first .. 3 fourth+
_DOC_SHIFT = np.int64(2 * CHAR_BITS + 4)


def sound_table() -> tuple[np.ndarray, np.ndarray]:
    """(code points, syllable ids): each CJK character's first reading without its tone.

    Ids count from 1 in the order of the sorted syllables. Only building an index needs
    pypinyin; the index stores the table.
    """
    from pypinyin.pinyin_dict import pinyin_dict

    first = {cp: toneless(readings.split(",")[0]) for cp, readings in pinyin_dict.items()}
    syllables = {s: i for i, s in enumerate(sorted(set(first.values())), start=1)}
    cps = np.array(sorted(first), dtype=np.int64)
    return cps, np.array([syllables[first[cp]] for cp in cps.tolist()], dtype=np.int16)


def toneless(syllable: str) -> str:
    """A pinyin syllable without its tone marks (ü written v)."""
    plain = unicodedata.normalize("NFD", syllable.replace("ü", "v"))
    return "".join(ch for ch in plain if not unicodedata.combining(ch))


def _lookup(table: np.ndarray, cps: np.ndarray, values: np.ndarray | None = None) -> np.ndarray:
    """Per code point, ``values`` at its place in the sorted ``table`` (default 1 + place); 0 if absent."""
    if table.size == 0:
        return np.zeros(cps.size, np.int64)
    pos = np.minimum(np.searchsorted(table, cps), table.size - 1)
    hit = (pos + 1) if values is None else values[pos].astype(np.int64)
    return np.where(table[pos] == cps, hit, 0)


def _codepoints(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The code points of ``texts`` end to end, and the index of the text each belongs to."""
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    cps = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    return cps, np.repeat(np.arange(len(texts), dtype=np.int64), lengths)


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """The distinct values of an already sorted array (np.unique hashes, which is slower here)."""
    keep = np.ones(values.size, dtype=bool)
    keep[1:] = values[1:] != values[:-1]
    return values[keep]


def _grams(texts: list[str], tables: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The gram keys of each text (see the module docstring) and the text each key belongs to.

    Keys are sorted by text. A gram that occurs again in the same text gets a distinct key
    per occurrence (up to the 4th), so 建设 in 中国建设银行建设路支行 counts twice. ``tables``
    holds the index's ``alphabet``, ``sound_cps`` and ``sound_ids``.
    """
    singles = [_QUIET_RE.sub("", t) for t in texts]
    cps, doc = _codepoints(singles)
    pcps, pdoc = _codepoints([_LEVEL_RE.sub("", t) for t in singles])
    sounds = _lookup(tables["sound_cps"], cps, tables["sound_ids"])
    keys, docs = [_lookup(tables["alphabet"], cps), sounds[sounds > 0] | (2 * _TYPE)], [doc, doc[sounds > 0]]

    def pairs(ids: np.ndarray, gap: int, kind: int) -> None:
        inside = (pdoc[:-gap] == pdoc[gap:]) & (ids[:-gap] > 0) & (ids[gap:] > 0)
        keys.append((ids[:-gap][inside] << np.int64(CHAR_BITS)) | ids[gap:][inside] | (kind * _TYPE))
        docs.append(pdoc[:-gap][inside])

    pchars = _lookup(tables["alphabet"], pcps)
    pairs(pchars, 1, 1)
    pairs(pchars, 2, 1)  # same type: a dropped or added character leaves its neighbours paired
    pairs(_lookup(tables["sound_cps"], pcps, tables["sound_ids"]), 1, 3)
    combined = np.sort((np.concatenate(docs) << _DOC_SHIFT) | np.concatenate(keys))
    docs_out, keys_out = combined >> _DOC_SHIFT, combined & (_NTH - 1)
    # Rank of each key within its run of equal (text, key): 0 for the first occurrence.
    start = np.ones(combined.size, dtype=bool)
    start[1:] = combined[1:] != combined[:-1]
    first = np.maximum.accumulate(np.where(start, np.arange(combined.size), 0))
    nth = np.minimum(np.arange(combined.size) - first, 3)
    return keys_out | (nth * _NTH), docs_out


def _alphabet(texts: list[str]) -> np.ndarray:
    """The sorted distinct code points of ``texts`` as grams see them."""
    cps = np.frombuffer("".join(_QUIET_RE.sub("", t) for t in texts).encode("utf-32-le"), dtype=np.uint32)
    return _sorted_unique(np.sort(cps)).astype(np.int64)


# --- answers -----------------------------------------------------------------------------

MatchedBy = Literal["code", "exact", "ngram", "none"]


@dataclass(frozen=True)
class Candidate:
    """A record offered as a possible answer; ``score`` is its similarity in [0, 1]."""

    bank_name: str
    bank_code: str
    clearing_code: str
    score: float


@dataclass(frozen=True)
class Answer:
    """The answer to a question.

    ``bank_name``/``bank_code``/``clearing_code`` are the best guess (None when no record
    came close, ``matched_by="none"``) and ``score`` its similarity (1 for a code or exact
    match); ``confidence`` is the probability that it is right. When ``sure`` is False the guess must not be
    presented as the answer: show ``candidates`` (the next best records, best first, the
    guess excluded) with it. ``question`` is what was looked up: the code, or the
    normalised question with its wrappers stripped and aliases expanded.
    """

    question: str
    bank_name: str | None
    bank_code: str | None
    clearing_code: str | None
    score: float
    confidence: float
    sure: bool
    matched_by: MatchedBy
    candidates: list[Candidate] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        # By hand: dataclasses.asdict deep-copies every field, a tenth of an answer's time.
        out = dict(self.__dict__)
        out["candidates"] = [dict(c.__dict__) for c in self.candidates]
        return out

    def codes(self, k: int) -> list[str]:
        """The bank codes of the guess and the candidates, at most ``k``."""
        head = [self.bank_code] if self.bank_code else []
        return (head + [c.bank_code for c in self.candidates])[:k]


class EmptyQuestionError(ValueError):
    """The question holds no bank name or code once wrappers and punctuation are gone."""


class _Ranked(NamedTuple):
    """Candidates best first: record ids and scores."""

    ids: np.ndarray
    scores: np.ndarray


_NOTHING = _Ranked(np.zeros(0, np.int64), np.zeros(0))


def confidence(best: float, margin: float) -> float:
    """The estimated probability that an n-gram answer is right (see the module docstring)."""
    z = CONFIDENCE_A * best + CONFIDENCE_C * margin + CONFIDENCE_B
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


# --- records -----------------------------------------------------------------------------


def read_records(records: Any) -> tuple[list[str], list[str], list[str]]:
    """(bank_name, bank_code, clearing_code) of ``records`` as stripped strings.

    ``records`` is a DataFrame, a mapping of column name -> values, or a sequence of
    mappings; a missing value (None, NaN, NA) reads as "".
    """
    names, codes, clearing = (_column(records, name) for name in ("bank_name", "bank_code", "clearing_code"))
    return names, codes, clearing


def _column(records: Any, name: str) -> list[str]:
    if isinstance(records, Mapping) or hasattr(records, "columns"):
        values = records[name]
        values = values.tolist() if hasattr(values, "tolist") else list(values)
    else:
        values = [record[name] for record in records]
    return [_text(v) for v in values]


def _text(value: Any) -> str:
    """A field as stripped text; None, NaN and pandas' NA are ""."""
    if isinstance(value, str):
        return value.strip()
    if value is None or (isinstance(value, float) and math.isnan(value)) or type(value).__name__ == "NAType":
        return ""
    return str(value).strip()


# --- the index ---------------------------------------------------------------------------

_ARRAYS = {  # name -> dtype of every array an index holds
    "bank_code": "S12",
    "clearing_code": "S12",
    "code_order": "int32",  # record ids sorted by bank_code
    "clearing_order": "int32",  # and by clearing_code
    "bank_of": "int16",  # bank id of each record (-1: none known)
    "office": "int8",  # kind of office of each record (0: none)
    "alphabet": "int64",
    "sound_cps": "int64",
    "sound_ids": "int16",
    "vocab": "int64",  # gram keys, sorted; gram id = place here
    "weight": "float32",  # per gram
    "doc_offsets": "int64",  # record -> its gram ids
    "doc_grams": "int32",
    "doc_weight": "float32",  # w(D) per record
    "post_offsets": "int64",  # gram -> the records holding it, in record order
    "postings": "int32",
}


class RetrievalIndex:
    """Bank records indexed for :meth:`ask`. Made by :meth:`build` or :meth:`from_bytes`."""

    def __init__(
        self,
        names: list[str],
        normal: list[str],
        arrays: dict[str, np.ndarray],
        aliases: _Aliases,
        context: _Context,
    ) -> None:
        self.names = names
        self.normal = normal
        self.a = arrays
        self.aliases = aliases
        self.context = context
        self.n = len(names)
        self._latin: _Latin | None = None
        # Exact lookup: normal form -> record ids (several when records share a normal form).
        self.exact: dict[str, list[int]] = {}
        for i, text in enumerate(normal):
            self.exact.setdefault(text, []).append(i)

    def __len__(self) -> int:
        return self.n

    # build -------------------------------------------------------------------------------

    @classmethod
    def build(cls, records: Any, aliases: Mapping[str, str] | None = None) -> RetrievalIndex:
        """Index ``records`` (see :func:`read_records`), each with a 12-digit bank_code and
        clearing_code; records whose name normalises to nothing are left out. ``aliases``
        (short -> full bank name) defaults to ``DEFAULT_ALIASES``. Raises ValueError on a
        malformed code or too many records.
        """
        names_in, codes_in, clearing_in = read_records(records)
        for code in (*codes_in, *clearing_in):
            if not _WHOLE_CODE_RE.fullmatch(code):
                raise ValueError(f"bank_code and clearing_code must be 12 digits, got {code[:40]!r}")
        normal_in = [normalise(name) for name in names_in]
        keep = [i for i, text in enumerate(normal_in) if text]
        if len(keep) > MAX_RECORDS:
            raise ValueError(f"at most {MAX_RECORDS:,} records can be indexed, got {len(keep):,}")
        names = [names_in[i] for i in keep]
        normal = [normal_in[i] for i in keep]
        n = len(names)

        table = DEFAULT_ALIASES if aliases is None else aliases
        banks_only = _Aliases.from_table(table)
        bank_of = np.array([banks_only.record_bank(text) for text in normal], dtype=np.int16)
        banks = banks_only.banks
        rests = "\x00".join(
            t[len(banks[b]) :] if b >= 0 else t for t, b in zip(normal, bank_of.tolist(), strict=True)
        )

        alphabet = _alphabet(normal)
        if alphabet.size >= 1 << CHAR_BITS:
            raise ValueError("too many distinct characters in the record names")
        sound_cps, sound_ids = sound_table()
        tables = {"alphabet": alphabet, "sound_cps": sound_cps, "sound_ids": sound_ids}
        # Grams chunk by chunk, so the temporaries of 150,000 names stay small; then only
        # int64 keys and int32 ids, sorted in place.
        keys_parts, doc_parts = [np.zeros(0, np.int64)], [np.zeros(0, np.int32)]
        for lo in range(0, n, BUILD_CHUNK):
            chunk_keys, chunk_doc = _grams(normal[lo : lo + BUILD_CHUNK], tables)
            keys_parts.append(chunk_keys)
            doc_parts.append((chunk_doc + lo).astype(np.int32))
        keys, doc = np.concatenate(keys_parts), np.concatenate(doc_parts)
        del keys_parts, doc_parts
        vocab = _sorted_unique(np.sort(keys))
        gram = np.searchsorted(vocab, keys).astype(np.int32)
        del keys
        df = np.bincount(gram, minlength=vocab.size)
        weight = np.minimum(np.log1p(n / np.maximum(df, 1)), MAX_WEIGHT).astype(np.float32)
        by_gram = (gram.astype(np.int64) << np.int64(32)) | doc
        by_gram.sort()  # by gram, then record
        postings = by_gram.astype(np.int32)  # the low 32 bits: the record
        del by_gram
        arrays = {
            "bank_code": np.array([codes_in[i] for i in keep], dtype="S12"),
            "clearing_code": np.array([clearing_in[i] for i in keep], dtype="S12"),
            "bank_of": bank_of,
            "office": np.array([office(t) for t in normal], dtype=np.int8),
            **tables,
            "vocab": vocab,
            "weight": weight,
            "doc_offsets": np.concatenate(([0], np.cumsum(np.bincount(doc, minlength=n)))).astype(np.int64),
            "doc_grams": gram,
            "doc_weight": np.bincount(doc, weights=weight[gram], minlength=n).astype(np.float32),
            "post_offsets": np.concatenate(([0], np.cumsum(df))).astype(np.int64),
            "postings": postings,
        }
        arrays["code_order"] = np.argsort(arrays["bank_code"], kind="stable").astype(np.int32)
        arrays["clearing_order"] = np.argsort(arrays["clearing_code"], kind="stable").astype(np.int32)
        return cls(names, normal, arrays, _Aliases.from_table(table, rests), _Context.from_records(rests))

    # ask ---------------------------------------------------------------------------------

    def ask(self, question: str, k: int = 5) -> Answer:
        """Answer ``question`` with the best record and up to ``k - 1`` next candidates.

        ``k`` is clamped to 1..MAX_K. Raises EmptyQuestionError (a ValueError) when the
        question holds nothing to look up, TypeError when it is not a string.
        """
        if not isinstance(question, str):
            raise TypeError("question must be a string")
        k = min(max(1, int(k)), MAX_K)
        compact = _compact(question)
        if not compact:
            raise EmptyQuestionError("the question is empty")
        found = _CODE_RE.search(compact)
        if found:
            rows = self._by_code(found.group())
            if rows:
                candidates = [self._candidate(i, 1.0) for i in rows[1:k]]
                return self._answer(found.group(), rows[0], 1.0, 1 / len(rows), "code", candidates)
            # An unknown code: look up the rest of the question, if there is any.
            compact = _CODE_RE.sub("", compact)
            if not strip_wrappers(compact):
                return Answer(found.group(), None, None, None, 0.0, 0.0, False, "code")
        text = _LEGAL_RE.sub("", strip_wrappers(compact))
        if not text:
            raise EmptyQuestionError("the question names no bank or code")
        text, bank = self.aliases.expand(text)
        if _LATIN_RUN.search(text):
            text = self.latin(text)
        start = (
            len(self.aliases.banks[bank]) if bank >= 0 and text.startswith(self.aliases.banks[bank]) else 0
        )
        text = self.context.drop(text, start)[:MAX_QUESTION_CHARS]

        ranked = self._rank(text, bank)
        exact = self.exact.get(text)
        if exact:
            ranked_pairs = zip(ranked.ids.tolist(), ranked.scores.tolist(), strict=True)
            others = [(i, s) for i, s in ranked_pairs if i not in exact][: k - 1]
            candidates = [self._candidate(i, 1.0) for i in exact[1:k]]
            candidates += [self._candidate(i, s) for i, s in others]
            return self._answer(text, exact[0], 1.0, 1.0 / len(exact), "exact", candidates[: k - 1])
        if ranked.ids.size == 0:
            return Answer(text, None, None, None, 0.0, 0.0, False, "none")
        best = float(ranked.scores[0])
        margin = best - float(ranked.scores[1]) if ranked.ids.size > 1 else best
        candidates = [
            self._candidate(i, s)
            for i, s in zip(ranked.ids[1:k].tolist(), ranked.scores[1:k].tolist(), strict=True)
        ]
        return self._answer(text, int(ranked.ids[0]), best, confidence(best, margin), "ngram", candidates)

    @property
    def latin(self) -> _Latin:
        """The reader of pinyin and English in questions (made on first use, or by warm)."""
        self.warm()
        assert self._latin is not None
        return self._latin

    def warm(self) -> None:
        """Make now what the first question in pinyin would otherwise wait for (~0.1 s)."""
        if self._latin is None:
            self._latin = _Latin(self.a["alphabet"], self.normal)

    def _answer(
        self, text: str, i: int, score: float, conf: float, how: MatchedBy, candidates: list[Candidate]
    ) -> Answer:
        best = self._candidate(i, score)
        conf = round(conf, 4)
        return Answer(
            text,
            best.bank_name,
            best.bank_code,
            best.clearing_code,
            best.score,
            conf,
            conf >= SURE_THRESHOLD,
            how,
            candidates,
        )

    def _candidate(self, i: int, score: float) -> Candidate:
        a = self.a
        code, clearing = a["bank_code"][i].decode(), a["clearing_code"][i].decode()
        return Candidate(self.names[i], code, clearing, round(float(score), 4))

    def _by_code(self, code: str) -> list[int]:
        """Records whose bank_code is ``code``, else those that clear through it."""
        key = np.bytes_(code)
        for column, order in (("bank_code", "code_order"), ("clearing_code", "clearing_order")):
            values, by = self.a[column], self.a[order]
            lo = int(np.searchsorted(values, key, side="left", sorter=by))
            hi = int(np.searchsorted(values, key, side="right", sorter=by))
            if hi > lo:
                return sorted(by[lo:hi].tolist())
        return []

    def _rank(self, text: str, bank: int) -> _Ranked:
        """Up to ``RESCORED`` candidate records for a prepared question, best first."""
        a = self.a
        vocab, weight = a["vocab"], a["weight"]
        keys = np.sort(_grams([text], a)[0])
        if vocab.size == 0 or keys.size == 0:
            return _NOTHING
        pos = np.minimum(np.searchsorted(vocab, keys), vocab.size - 1)
        known = vocab[pos] == keys
        q = pos[known]  # gram ids, sorted as the keys are
        if q.size == 0:
            return _NOTHING
        w_q = float(weight[q].sum()) + UNKNOWN_GRAM_WEIGHT * int((~known).sum())

        # Candidates: the postings of the rarest grams, within the budget (at least one gram).
        starts, ends = a["post_offsets"][q], a["post_offsets"][q + 1]
        df = ends - starts
        order = np.argsort(df, kind="stable")
        take = order[np.cumsum(df[order]) <= POSTING_BUDGET]
        if take.size == 0:
            take = order[:1]
        postings = a["postings"]
        spans = zip(starts[take].tolist(), ends[take].tolist(), strict=True)
        ids = np.concatenate([postings[s:e] for s, e in spans])
        partial = np.bincount(ids, weights=np.repeat(weight[q[take]], df[take]), minlength=self.n)

        def guess(rows: np.ndarray) -> np.ndarray:
            # The score's shape on the rare grams alone, so that ties go to shorter names.
            g = partial[rows] / (QUESTION_SHARE * w_q + (1.0 - QUESTION_SHARE) * a["doc_weight"][rows])
            return g + BANK_BONUS * (a["bank_of"][rows] == bank) if bank >= 0 else g

        room = RESCORED * 8  # a record is listed once per gram it holds: keep room, then dedupe
        if ids.size > room:
            ids = ids[np.argpartition(guess(ids), -room)[-room:]]
        cand = _sorted_unique(np.sort(ids))
        if cand.size > RESCORED:
            cand = cand[np.argpartition(guess(cand), -RESCORED)[-RESCORED:]]

        # Score on the full gram sets.
        lo, hi = a["doc_offsets"][cand], a["doc_offsets"][cand + 1]
        lens = hi - lo
        flat = np.repeat(lo - np.cumsum(lens) + lens, lens) + np.arange(int(lens.sum()))
        grams = a["doc_grams"][flat]
        held = q[np.minimum(np.searchsorted(q, grams), q.size - 1)] == grams
        overlap = np.add.reduceat(np.where(held, weight[grams], 0.0), np.cumsum(lens) - lens)
        score = overlap / (QUESTION_SHARE * w_q + (1.0 - QUESTION_SHARE) * a["doc_weight"][cand])
        if bank >= 0:
            other = a["bank_of"][cand]
            score = np.where((other >= 0) & (other != bank), score * BANK_CONFLICT, score)
        kind = office(text)
        if kind:
            other = a["office"][cand]
            score = np.where((other > 0) & (other != kind), score * OFFICE_CONFLICT, score)
        best = np.lexsort((cand, lens, -score))  # ties: shorter name, then record order
        return _Ranked(cand[best], score[best])

    # serialisation -----------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The index as a zip of ``.npy`` arrays plus ``meta.json`` (no pickle)."""
        meta = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "records": self.n,
            "names": self.names,
            "normal": self.normal,
            "aliases": self.aliases.aliases,
            "banks": self.aliases.banks,
            "weak": sorted(self.aliases.weak),
            "provinces": self.context.provinces,
        }
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            zf.writestr("meta.json", json.dumps(meta, ensure_ascii=False))
            for name in _ARRAYS:
                member = io.BytesIO()
                np.save(member, self.a[name], allow_pickle=False)
                zf.writestr(f"{name}.npy", member.getvalue())
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> RetrievalIndex:
        """Load what :meth:`to_bytes` wrote. Raises ValueError on anything else."""
        if not isinstance(data, bytes | bytearray | memoryview) or len(data) > MAX_ARTIFACT_BYTES:
            raise ValueError("not an OMM retrieval index: expected bytes under the size limit")
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                infos = {info.filename: info for info in zf.infolist()}
                expected = {"meta.json", *(f"{name}.npy" for name in _ARRAYS)}
                if set(infos) != expected:
                    raise ValueError(f"unexpected members {sorted(set(infos) ^ expected)}")
                if sum(info.file_size for info in infos.values()) > MAX_ARTIFACT_BYTES:
                    raise ValueError("members too large")
                meta = json.loads(zf.read("meta.json").decode("utf-8"))
                arrays = {
                    name: np.load(io.BytesIO(zf.read(f"{name}.npy")), allow_pickle=False) for name in _ARRAYS
                }
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, UnicodeDecodeError) as exc:
            raise ValueError(f"not an OMM retrieval index: {exc}") from exc
        except ValueError as exc:  # np.load refusing an object array, bad JSON, the checks above
            raise ValueError(f"not an OMM retrieval index: {exc}") from exc
        _check(meta, arrays)
        aliases = _Aliases(meta["aliases"], meta["banks"], meta["weak"])
        return cls(meta["names"], meta["normal"], arrays, aliases, _Context(meta["provinces"]))


def _check(meta: Any, arrays: dict[str, np.ndarray]) -> None:
    """Refuse an index whose parts do not fit together, so that no lookup can go out of bounds."""

    def fail(why: str) -> None:
        raise ValueError(f"not an OMM retrieval index: {why}")

    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        fail("wrong format")
    if meta.get("version") != FORMAT_VERSION:
        fail(f"format version {meta.get('version')!r}, this OMM reads {FORMAT_VERSION}")
    n, names, normal = meta.get("records"), meta.get("names"), meta.get("normal")
    if not isinstance(n, int) or not isinstance(names, list) or not isinstance(normal, list):
        fail("bad metadata")
    if len(names) != n or len(normal) != n or not all(isinstance(s, str) for s in (*names, *normal)):
        fail("names do not match the record count")
    aliases, banks, weak, provinces = (meta.get(key) for key in ("aliases", "banks", "weak", "provinces"))
    if not (isinstance(aliases, dict) and all(isinstance(x, list) for x in (banks, weak, provinces))):
        fail("bad alias table")
    if not all(isinstance(x, str) for x in (*aliases, *aliases.values(), *banks, *weak, *provinces)):
        fail("bad alias table")
    for name, dtype in _ARRAYS.items():
        if arrays[name].dtype != np.dtype(dtype) or arrays[name].ndim != 1:
            fail(f"{name} is {arrays[name].dtype}, expected {dtype}")
    per_record = (
        "bank_code",
        "clearing_code",
        "code_order",
        "clearing_order",
        "bank_of",
        "office",
        "doc_weight",
    )
    if any(arrays[name].size != n for name in per_record):
        fail("a per-record array does not match the record count")
    v = arrays["vocab"].size
    if (
        arrays["weight"].size != v
        or arrays["post_offsets"].size != v + 1
        or arrays["doc_offsets"].size != n + 1
    ):
        fail("offsets do not match")
    if arrays["sound_cps"].size != arrays["sound_ids"].size:
        fail("sound table does not match")
    for offsets, values, bound in (
        (arrays["doc_offsets"], arrays["doc_grams"], v),
        (arrays["post_offsets"], arrays["postings"], n),
    ):
        if offsets[0] != 0 or offsets[-1] != values.size or (np.diff(offsets) < 0).any():
            fail("offsets are not monotone")
        if values.size and (values.min() < 0 or values.max() >= bound):
            fail("an index points outside its table")
    for name in ("vocab", "alphabet", "sound_cps"):
        if (np.diff(arrays[name]) <= 0).any():
            fail(f"{name} is not sorted")
    for name in ("code_order", "clearing_order"):
        if n and (np.sort(arrays[name]) != np.arange(n)).any():
            fail(f"{name} is not a permutation")
    if n and (arrays["bank_of"].min() < -1 or arrays["bank_of"].max() >= len(banks)):
        fail("bank ids out of range")
