# ruff: noqa: RUF001, RUF002 - full-width punctuation in questions is part of the noise
"""Noisy questions about bank records, for evaluating and benchmarking the QA model.

:func:`generate_questions` draws records at random (seeded) and writes for each a
question the way people type them, with the record's codes as the expected answer. The
QA model is built from the records' clean names; the questions are noisy variants of
those names that the model never saw while being built (only a question that happens to
get no noise at all equals a clean name, and that is a fair question too).

Noise, each applied with its own probability (``NOISE``), several per question:

- bank: the full name, the name without 股份有限公司, or an alias from the alias table
  read in reverse (中国工商银行 -> 工行, 工商银行, ICBC);
- place: 市 after the city and 区/县 after the district added or dropped; the city
  dropped when the district alone names it (海淀, not 朝阳: two cities have a 朝阳区, and
  not 江北, which is also a branch word); the province added in front;
- missing and extra words: 支行 dropped, 营业部 dropped from 分行营业部, 营业部/网点 added,
  分行 inserted after the city (北京分行海淀支行);
- typos in the branch part (the bank's name or alias is typed by habit), in the shares of
  ``TYPOS``: two characters swapped, one dropped, one doubled, one replaced by a homophone
  (``SOUND_ALIKES``, or a common character with the same toneless pinyin: the usual slip
  with a pinyin input method) or by an unrelated character of the records' alphabet;
- writing: traditional characters, full-width ASCII, spaces or brackets between parts;
- wrappers: Chinese and English question forms (…的联行号是多少？, what is the code of …);
- a code as the question: the record's bank_code, plain, spaced, full-width or wrapped.

Typos come first, on the record's own branch words, and the place and word noise after
them, as a person who misremembers a name still adds or drops 市 and 支行 around it.

Three rules keep the set honest rather than easy or impossible, each because no system
could tell such a question from a right question about another record, so its label
would be a coin toss or wrong:

- a noisy name that equals another record's name, 市/区/县 aside, is drawn again;
- a typo'd name at least as close, by optimal string alignment distance (a swap, drop,
  doubling or replacement counts as one edit, as the typos are made) and 市/区/县 aside, to
  another branch clearing through the same code (same bank, same city) as to its own is
  drawn again: a typo that leaves 江北 as 北 beside a 北湖 branch, or 东街 as 东结 beside a
  东湖 branch, leaves no way to choose;
- the city is only dropped where a person would drop it (above), and only when the district
  is still typed right.

Pure module: no Django import.
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from apps.datasets.demo_data import (
    BRANCH_WORDS,
    CITIES,
    _short,  # 海淀区 -> 海淀, as the demo names cite districts
)

from .retrieval import DEFAULT_ALIASES, LEGAL_SUFFIXES, normalise, read_records, toneless
from .retrieval.distance import osa_distances_points

# Probability of each kind of noise (independent draws).
NOISE: dict[str, float] = {
    "code": 0.06,  # the question is a code (then no other noise)
    "bank_full": 0.15,  # keep the record's bank words as written (else one of the two below)
    "bank_alias": 0.55,  # an alias (else the full bank name without 股份有限公司)
    "city_shi": 0.25,  # add or drop 市 after the city
    "district_suffix": 0.25,  # add or drop 区/县/… after the district
    "drop_city": 0.12,
    "add_province": 0.06,
    "drop_suffix": 0.20,  # 支行 / 营业部 dropped
    "extra_words": 0.10,
    "typo": 0.25,
    "second_typo": 0.05,
    "traditional": 0.05,
    "full_width": 0.08,
    "spacing": 0.10,
    "wrapper": 0.65,
    "english_wrapper": 0.15,  # share of wrappers that are English
}

# Kinds of typo and their shares. People type Chinese through pinyin input methods, so a
# wrong character is most often one read the same way (a homophone: from SOUND_ALIKES or
# any common character with the same toneless pinyin); sometimes an unrelated one.
TYPOS = {"swap": 0.2, "drop": 0.2, "double": 0.1, "sound": 0.3, "any": 0.2}

# Characters people mistype for one another (same or close pinyin, or look-alikes), both ways.
SOUND_ALIKES = (
    "淀定", "海每", "区曲", "支枝", "行航", "路露", "园圆", "城成", "州洲", "京经", "安按", "华化", "新心",
    "东冬", "西希", "南难", "北背", "中钟", "山三", "江将", "湖胡", "河和", "阳杨", "龙隆", "兴星", "建健",
    "设社", "商尚", "业页", "农浓", "储除", "蓄续", "邮由", "政正", "光广", "明名", "民敏", "人仁", "学雪",
    "府富", "金今", "银因", "融荣", "科可", "技记", "开凯", "发法", "济及", "平评", "宁凝", "福富", "口扣",
    "门们", "桥乔", "港岗", "湾弯", "岛导", "宝保", "庄装", "云运", "沙纱", "清青", "源元", "滨宾", "花华",
    "春纯", "长常", "庆青", "武舞", "汉汗", "都督", "成程", "贵桂", "昆坤", "杭航", "苏素", "锡希", "波博",
    "温文", "泉全", "厦夏", "莞管", "佛福", "珠朱", "深申",
)  # fmt: skip
_SOUND: dict[str, list[str]] = {}
for _pair in SOUND_ALIKES:
    _SOUND.setdefault(_pair[0], []).append(_pair[1])
    _SOUND.setdefault(_pair[1], []).append(_pair[0])

# Simplified -> traditional for the characters of bank, place and question words; written
# independently of the normaliser's table, so some forms may be unknown to the model.
_TRADITIONAL = dict(
    zip(
        "银国农业设开发储邮华东广门区县镇号兴际阳苏龙湾联请问帮么码询个这们吗说给谢该对应称网点处厅总属电话资汇"
        "现实经济万丰临丽义乌乐乡云产仑仓会体侨兰关凤创务动劳医历厦双台吴团园场坝壮复头学宁宝宽宾尔岗岛岭师庄"
        "庆庐张当态无机杨栖栾桥楼汉沈沟沧泽浑润温滨滩狮环琼瑶瓯盐盘禅税红纪结绣维绿罗肃胜荆荣荫莲营萧萨观谊谱"
        "贡贵贸贺赛车软辽达连邺郑钱铁锡锦长闵阴陕静顺风马驿鲁鲤黄齐崂硚晋晖钟",
        "銀國農業設開發儲郵華東廣門區縣鎮號興際陽蘇龍灣聯請問幫麼碼詢個這們嗎說給謝該對應稱網點處廳總屬電話資匯"
        "現實經濟萬豐臨麗義烏樂鄉雲產崙倉會體僑蘭關鳳創務動勞醫歷廈雙臺吳團園場壩壯復頭學寧寶寬賓爾崗島嶺師莊"
        "慶廬張當態無機楊棲欒橋樓漢瀋溝滄澤渾潤溫濱灘獅環瓊瑤甌鹽盤禪稅紅紀結繡維綠羅肅勝荊榮蔭蓮營蕭薩觀誼譜"
        "貢貴貿賀賽車軟遼達連鄴鄭錢鐵錫錦長閔陰陝靜順風馬驛魯鯉黃齊嶗礄晉暉鐘",
        strict=True,
    )
)
_TO_TRADITIONAL = str.maketrans(_TRADITIONAL)
_FULL_WIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)} | {" ": "\u3000"})

CHINESE_WRAPPERS = (
    "{q}的联行号是多少",
    "{q}的联行号是多少？",
    "{q}的联行号是多少?",
    "请问{q}的联行号",
    "请问{q}的联行号是什么？",
    "查一下{q}",
    "查一下{q}的行号",
    "帮我查{q}的行号",
    "帮我查一下{q}联行号",
    "{q}联行号",
    "{q} 联行号",
    "{q}行号多少",
    "{q}的行号",
    "我想知道{q}的联行号是什么",
    "{q}的清算行号是多少?",
    "麻烦查询一下{q}的大额行号",
    "你好，请问{q}的联行号是多少？谢谢",
    "{q}的支付行号",
    "{q}？",
)
ENGLISH_WRAPPERS = (
    "what is the code of {q}",
    "What is the clearing code of {q}?",
    "clearing code for {q}",
    "What is the CNAPS code for {q}?",
    "{q} bank code",
    "bank code of {q} please",
    "What's {q}'s clearing code?",
    "find the code of {q}",
)
CODE_WRAPPERS = (
    "{c}",
    "{c}",
    "{c}是哪个银行",
    "联行号{c}对应的行名",
    "{c}是哪个支行？",
    "which bank is {c}?",
    "行号 {c}",
)

_LEVEL_WORDS = re.compile("回族区|街道|[市区县省镇]")


def _same_name(name: str) -> str:
    """What stays of a name when 市, 区, 县 … are left out: names equal here are one name to a reader."""
    return _LEVEL_WORDS.sub("", normalise(name))


class Question(NamedTuple):
    """A generated question and the record it asks about: the expected answer is the record's
    ``bank_code`` (``clearing_code`` is the one it clears through). ``noise``: what was
    applied, "+"-joined (``clean`` when nothing was)."""

    text: str
    bank_code: str
    clearing_code: str
    noise: str
    asked: str = "bank_code"  # the field the question asks for (bank_code, clearing_code, bic)


class _Places:
    """The demo geography: cities, their districts, and which districts name one place only."""

    def __init__(self) -> None:
        self.cities = sorted(((c[1], c) for c in CITIES), key=lambda x: -len(x[0]))
        owners: dict[str, set[str]] = {}
        for _, city, _, _, _, districts in CITIES:
            for d in districts:
                owners.setdefault(_short(d), set()).add(city)
        words = set(BRANCH_WORDS)
        self.unique_district = {d for d, cities in owners.items() if len(cities) == 1 and d not in words}

    def city_at(self, text: str) -> tuple[str, str, str, tuple[str, ...]] | None:
        """(city, province, kind, districts) when ``text`` starts with a city's short name."""
        for name, (province, _, _, kind, _, districts) in self.cities:
            if text.startswith(name):
                return name, province, kind, districts
        return None


_PLACES = _Places()


def generate_questions(
    records: Any,
    n: int,
    *,
    seed: int = 0,
    aliases: Mapping[str, str] | None = None,
    redrawn: dict[str, int] | None = None,
) -> list[Question]:
    """``n`` noisy questions about records drawn with replacement from ``records``.

    ``records`` is what :meth:`RetrievalIndex.build` takes; ``aliases`` the same alias
    table (default ``DEFAULT_ALIASES``). The same records, ``n`` and ``seed`` give the same
    questions. ``redrawn``, when given, counts the draws the honesty rules (module
    docstring) threw away: ``same_name`` and ``typo_as_close``.
    """
    names, codes, clearing = read_records(records)
    rows = [i for i, name in enumerate(names) if normalise(name)]
    if not rows and n > 0:
        raise ValueError("no record has a name")
    table = DEFAULT_ALIASES if aliases is None else aliases
    by_bank: dict[str, list[str]] = {}
    for short, full in table.items():
        by_bank.setdefault(full, []).append(short)
    banks = sorted(by_bank, key=len, reverse=True)
    keys = [_same_name(name) for name in names]
    taken = set(keys)
    neighbours = _Neighbours(keys, clearing)
    alphabet = sorted({ch for i in rows for ch in names[i] if "\u4e00" <= ch <= "\u9fff"})
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    out: list[Question] = []
    for _ in range(n):
        i = rows[rng.randrange(len(rows))]
        if rng.random() < NOISE["code"]:
            out.append(Question(_code_question(codes[i], rng), codes[i], clearing[i], "code"))
            continue
        for _attempt in range(20):
            text, noise, canonical, typed = _name_question(names[i], banks, by_bank, alphabet, rng)
            key = _same_name(canonical)
            if key != keys[i] and key in taken:
                rule = "same_name"
            elif typed is not None and neighbours.as_close(_same_name(typed), i):
                rule = "typo_as_close"
            else:
                break
            if redrawn is not None:
                redrawn[rule] = redrawn.get(rule, 0) + 1
        out.append(Question(text, codes[i], clearing[i], "+".join(noise) or "clean"))
    return out


class _Neighbours:
    """Records grouped by clearing code, their names (level words aside) as code point arrays."""

    def __init__(self, keys: list[str], clearing: list[str]) -> None:
        self.keys = keys
        self.clearing = clearing
        self.members: dict[str, list[int]] = {}
        for i, code in enumerate(clearing):
            self.members.setdefault(code, []).append(i)
        self._arrays: dict[str, tuple[list[int], np.ndarray, np.ndarray]] = {}

    def _group(self, code: str) -> tuple[list[int], np.ndarray, np.ndarray]:
        if code not in self._arrays:
            rows = self.members[code]
            lengths = np.array([len(self.keys[r]) for r in rows], dtype=np.int64)
            points = np.full((len(rows), int(lengths.max(initial=0))), -1, dtype=np.int64)
            for at, r in enumerate(rows):
                points[at, : lengths[at]] = [ord(ch) for ch in self.keys[r]]
            self._arrays[code] = (rows, points, lengths)
        return self._arrays[code]

    def as_close(self, typed: str, own: int) -> bool:
        """Whether another record of ``own``'s clearing group, under another name, is at
        least as close to ``typed`` as ``own`` is."""
        rows, points, lengths = self._group(self.clearing[own])
        if len(rows) < 2:
            return False
        distances = osa_distances_points(typed, points, lengths)
        mine = distances[rows.index(own)]
        others = [d for r, d in zip(rows, distances.tolist(), strict=True) if self.keys[r] != self.keys[own]]
        return bool(others) and min(others) <= mine


def _code_question(code: str, rng: random.Random) -> str:
    form = rng.random()
    if form < 0.15:
        code = " ".join((code[:4], code[4:8], code[8:]))
    elif form < 0.25:
        code = code.translate(_FULL_WIDTH)
    return rng.choice(CODE_WRAPPERS).format(c=code)


def _name_question(
    name: str, banks: list[str], by_bank: dict[str, list[str]], alphabet: list[str], rng: random.Random
) -> tuple[str, list[str], str, str | None]:
    """A noisy question about ``name``, the noise applied, the name it spells (bank in full),
    and, when it has typos, the name they left before any other noise (bank in full)."""
    noise: list[str] = []
    bank = next((b for b in banks if name.startswith(b)), "")
    rest = name[len(bank) :]
    company = next((s for s in LEGAL_SUFFIXES if rest.startswith(s)), "")
    branch = rest[len(company) :]

    # Bank words.
    if rng.random() < NOISE["bank_full"] or not bank:
        said = bank + company
    elif rng.random() < NOISE["bank_alias"]:
        said = rng.choice(by_bank[bank])
        noise.append("alias")
    else:
        said = bank
        noise.append("no_company")

    typed = None
    if rng.random() < NOISE["typo"]:
        branch, kind = _typo(branch, alphabet, rng)
        noise.append(f"typo:{kind}")
        if rng.random() < NOISE["second_typo"]:
            branch, kind = _typo(branch, alphabet, rng)
            noise.append(f"typo2:{kind}")
        typed = bank + branch
    branch = _place_noise(branch, noise, rng)
    branch = _word_noise(branch, noise, rng)
    canonical = bank + branch

    if rng.random() < NOISE["spacing"]:
        sep = rng.choice((" ", " ", "（", "("))
        close = {"（": "）", "(": ")"}.get(sep, "")
        text = f"{said}{sep}{branch}{close}"
        noise.append("spacing")
    else:
        text = said + branch
    if rng.random() < NOISE["wrapper"]:
        english = rng.random() < NOISE["english_wrapper"]
        text = rng.choice(ENGLISH_WRAPPERS if english else CHINESE_WRAPPERS).format(q=text)
        noise.append("english" if english else "wrapper")
    if rng.random() < NOISE["traditional"]:
        text = text.translate(_TO_TRADITIONAL)
        noise.append("traditional")
    if rng.random() < NOISE["full_width"]:
        text = text.translate(_FULL_WIDTH)
        noise.append("full_width")
    return text, noise, canonical, typed


def _place_noise(branch: str, noise: list[str], rng: random.Random) -> str:
    """市/区 toggled, city dropped or province added, where the demo geography is recognised."""
    found = _PLACES.city_at(branch)
    if found is None:
        return branch
    city, province, kind, districts = found
    after = branch[len(city) :]
    shi = after.startswith("市")
    tail = after[1:] if shi else after
    district = next((d for d in sorted(districts, key=len, reverse=True) if tail.startswith(d)), "")
    if not district:
        district = next((_short(d) for d in districts if _short(d) != d and tail.startswith(_short(d))), "")
    rest = tail[len(district) :]
    if district and rng.random() < NOISE["district_suffix"]:
        full = next((d for d in districts if d == district or _short(d) == district), district)
        district = _short(full) if district == full and _short(full) != full else full
        noise.append("district_suffix")
    if rng.random() < NOISE["city_shi"]:
        shi = not shi
        noise.append("city_shi")
    where = city + ("市" if shi else "")
    if district and _short(district) in _PLACES.unique_district and rng.random() < NOISE["drop_city"]:
        where = ""
        noise.append("drop_city")
    elif kind != "muni" and rng.random() < NOISE["add_province"]:
        short = province.removesuffix("省")
        for tail_word in ("壮族自治区", "回族自治区", "维吾尔自治区", "自治区"):
            short = short.removesuffix(tail_word)
        where = rng.choice((province, short)) + where
        noise.append("province")
    return where + district + rest


def _word_noise(branch: str, noise: list[str], rng: random.Random) -> str:
    """Missing words (支行, 营业部) and extra ones (营业部, 网点, 分行 after the city)."""
    if rng.random() < NOISE["drop_suffix"]:
        if branch.endswith("分行营业部"):
            branch = branch.removesuffix("营业部")
            noise.append("drop_suffix")
        elif branch.endswith("支行") and len(branch) > 4:
            branch = branch.removesuffix("支行")
            noise.append("drop_suffix")
    if rng.random() < NOISE["extra_words"]:
        found = _PLACES.city_at(branch)
        if found and "分行" not in branch and rng.random() < 0.4:
            city = found[0] + ("市" if branch[len(found[0]) :].startswith("市") else "")
            branch = city + "分行" + branch[len(city) :]
        else:
            branch += rng.choice(("营业部", "网点", "营业厅"))
        noise.append("extra_words")
    return branch


def _typo(text: str, alphabet: list[str], rng: random.Random) -> tuple[str, str]:
    """One typo at a random place; which kind follows ``TYPOS``."""
    if len(text) < 3:
        return text, "none"
    i = rng.randrange(len(text))
    kind = rng.choices(list(TYPOS), weights=list(TYPOS.values()))[0]
    if kind == "swap" and i + 1 < len(text):
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :], kind
    if kind == "drop":
        return text[:i] + text[i + 1 :], kind
    if kind == "double":
        return text[:i] + text[i] + text[i:], kind
    if kind == "sound":
        alikes = _SOUND.get(text[i], []) + _homophones().get(text[i], [])
        if alikes:
            return text[:i] + rng.choice(alikes) + text[i + 1 :], kind
    return text[:i] + rng.choice(alphabet) + text[i + 1 :], "any"


@functools.cache
def _homophones() -> dict[str, list[str]]:
    """Common characters (GB2312 level 1) -> the other common characters read the same, tones aside."""
    from pypinyin.pinyin_dict import pinyin_dict

    by_sound: dict[str, list[str]] = {}
    for cp, readings in pinyin_dict.items():
        ch = chr(cp)
        try:
            encoded = ch.encode("gb2312")
        except UnicodeEncodeError:
            continue
        if len(encoded) == 2 and 0xB0 <= encoded[0] <= 0xD7:
            by_sound.setdefault(toneless(readings.split(",")[0]), []).append(ch)
    return {ch: [o for o in group if o != ch] for group in by_sound.values() for ch in group}
