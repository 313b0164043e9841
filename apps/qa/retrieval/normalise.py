"""Question text: the normal form (normalise), question wrappers (strip_wrappers),
context above the branch (_Context) and kinds of office (office).

Definitions are in the package docstring (apps.qa.retrieval). Pure module: no Django import.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from .legal_forms import _NOT_WORD, fold, forms

MAX_RAW_CHARS = 1_000  # a question is cut here before any work, bounding its cost

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

# Legal-form words in Chinese (the other scripts' are words: see legal_forms): they tell
# nothing about which branch is meant.
LEGAL_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "股份公司")
_LEGAL_RE = re.compile("|".join(LEGAL_SUFFIXES))


def words(text: str) -> list[str]:
    """The words of ``text`` (cut to ``MAX_RAW_CHARS``): NFKC, case folded, traditional ->
    simplified, diacritics removed (:func:`legal_forms.fold`); punctuation and spaces
    separate words and are gone."""
    text = unicodedata.normalize("NFKC", text[:MAX_RAW_CHARS]).translate(_T2S)
    return [w for w in _NOT_WORD.split(fold(text)) if w]


# "And" between words, as the registers write it either way ("Lån & Spar Bank", "Lån og
# Spar Bank", "Lan and Spar Bank"): a name without it is the same name. Not the one-letter
# "a" and "e", nor "en": pinyin syllables (恩施 typed "en shi") and articles.
CONJUNCTIONS = frozenset({"and", "und", "og", "och", "et", "y", "i", "и", "і", "та", "και"})  # noqa: RUF001


def strip_name_words(said: list[str]) -> list[str]:
    """``said`` (words) without legal forms and conjunctions; a conjunction stays when it
    is all there is."""
    kept = [w for w in (_LEGAL_RE.sub("", w) for w in forms().strip(said)) if w]
    return [w for w in kept if w not in CONJUNCTIONS] or kept


def name_words(text: str) -> list[str]:
    """The words of a name without its legal forms and conjunctions, in any script."""
    return strip_name_words(words(text))


def _edges(parts: list[str]) -> tuple[str, frozenset[int]]:
    """``parts`` end to end, and where each begins and ends."""
    edges, at = {0}, 0
    for part in parts:
        at += len(part)
        edges.add(at)
    return "".join(parts), frozenset(edges)


def _compact(text: str) -> str:
    """The words of ``text`` end to end."""
    return "".join(words(text))


def normalise(text: str) -> str:
    """The normal form of ``text`` (see the module docstring); "" when nothing is left."""
    return "".join(name_words(text))


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


def wrapper_span(text: str) -> tuple[int, int]:
    """Where ``text`` (already compact) is left once its question wrappers are stripped:
    ``text[start:end]`` (every wrapper is anchored at the start or the end)."""
    start, end = 0, len(text)
    for _ in range(6):  # each round removes at least one wrapper; real questions need 1-3
        before = (start, end)
        for pattern in _WRAPPER_RES:
            found = pattern.search(text[start:end])
            if found is None or found.end() == found.start():
                continue
            if found.start() == 0:
                start += found.end()
            else:
                end = start + found.start()
        if (start, end) == before:
            break
    return start, max(start, end)


def strip_wrappers(text: str) -> str:
    """``text`` (already compact) without its question wrappers; may return ""."""
    start, end = wrapper_span(text)
    return text[start:end]


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
