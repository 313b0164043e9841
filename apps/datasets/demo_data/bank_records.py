"""Demo bank records (联行号): bank branches with their 12-digit code and their clearing
branch's code, with flawed lines on purpose and an answer key of which lines and why: a
missing name, a code that lost a digit, a letter O typed for a zero, a duplicated code (all
make the line invalid), and a clearing code of another bank (a warning: a small bank may
clear through another). The codes are made up (``cnaps.make_code``).

Pure module: no Django import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from ..cnaps import BANK_CATEGORIES, make_code

# One city a line: province, city, 4-digit city code, kind, relative size, districts. Kind
# decides how the clearing branch is named: municipality, provincial capital, separately
# planned city (计划单列市) or an ordinary prefecture city.
_CITY_TABLE = """
北京市 北京 1000 muni 6 东城区 西城区 朝阳区 海淀区 丰台区 石景山区 通州区 昌平区 大兴区 顺义区
天津市 天津 1100 muni 4 和平区 河西区 南开区 河东区 河北区 红桥区 滨海新区 西青区 东丽区 津南区
河北省 石家庄 1210 capital 2 长安区 桥西区 新华区 裕华区 藁城区 鹿泉区 栾城区
河北省 唐山 1240 city 1 路南区 路北区 开平区 丰南区 丰润区 曹妃甸区
山西省 太原 1610 capital 2 小店区 迎泽区 杏花岭区 尖草坪区 万柏林区 晋源区
内蒙古自治区 呼和浩特 1910 capital 1 新城区 回民区 玉泉区 赛罕区
辽宁省 沈阳 2210 capital 3 和平区 沈河区 大东区 皇姑区 铁西区 浑南区 于洪区 苏家屯区
辽宁省 大连 2220 separate 2 中山区 西岗区 沙河口区 甘井子区 旅顺口区 金州区
吉林省 长春 2410 capital 2 南关区 宽城区 朝阳区 二道区 绿园区 双阳区
黑龙江省 哈尔滨 2610 capital 2 道里区 南岗区 道外区 平房区 松北区 香坊区
上海市 上海 2900 muni 6 黄浦区 徐汇区 长宁区 静安区 普陀区 虹口区 杨浦区 浦东新区 闵行区 宝山区 嘉定区 松江区
江苏省 南京 3010 capital 4 玄武区 秦淮区 建邺区 鼓楼区 浦口区 栖霞区 雨花台区 江宁区 六合区
江苏省 无锡 3020 city 2 梁溪区 锡山区 惠山区 滨湖区 新吴区 江阴市
江苏省 苏州 3050 city 3 姑苏区 虎丘区 吴中区 相城区 吴江区 昆山市 常熟市 张家港市
浙江省 杭州 3310 capital 4 上城区 拱墅区 西湖区 滨江区 萧山区 余杭区 临平区 钱塘区 富阳区
浙江省 宁波 3320 separate 2 海曙区 江北区 北仑区 镇海区 鄞州区 奉化区
浙江省 温州 3330 city 2 鹿城区 龙湾区 瓯海区 洞头区 瑞安市 乐清市
安徽省 合肥 3610 capital 3 瑶海区 庐阳区 蜀山区 包河区 长丰县 肥西县
福建省 福州 3910 capital 2 鼓楼区 台江区 仓山区 晋安区 马尾区 长乐区
福建省 厦门 3930 separate 2 思明区 湖里区 集美区 海沧区 同安区 翔安区
福建省 泉州 3970 city 1 鲤城区 丰泽区 洛江区 泉港区 晋江市 石狮市
江西省 南昌 4210 capital 2 东湖区 西湖区 青云谱区 青山湖区 新建区 红谷滩区
山东省 济南 4510 capital 3 历下区 市中区 槐荫区 天桥区 历城区 长清区 章丘区
山东省 青岛 4520 separate 3 市南区 市北区 黄岛区 崂山区 李沧区 城阳区 即墨区
河南省 郑州 4910 capital 3 中原区 二七区 管城回族区 金水区 惠济区 上街区
湖北省 武汉 5210 capital 4 江岸区 江汉区 硚口区 汉阳区 武昌区 青山区 洪山区 东西湖区 江夏区
湖南省 长沙 5510 capital 3 芙蓉区 天心区 岳麓区 开福区 雨花区 望城区
广东省 广州 5810 capital 5 越秀区 荔湾区 海珠区 天河区 白云区 黄埔区 番禺区 花都区 南沙区 增城区
广东省 深圳 5840 separate 5 福田区 罗湖区 南山区 盐田区 宝安区 龙岗区 龙华区 坪山区 光明区
广东省 珠海 5850 city 1 香洲区 斗门区 金湾区
广东省 佛山 5880 city 2 禅城区 南海区 顺德区 三水区 高明区
广东省 东莞 6020 city 2 南城街道 东城街道 莞城街道 虎门镇 长安镇 厚街镇 常平镇
广西壮族自治区 南宁 6110 capital 2 兴宁区 青秀区 江南区 西乡塘区 良庆区 邕宁区
海南省 海口 6410 capital 1 秀英区 龙华区 琼山区 美兰区
四川省 成都 6510 capital 4 锦江区 青羊区 金牛区 武侯区 成华区 龙泉驿区 温江区 双流区 郫都区 新都区
重庆市 重庆 6530 muni 4 渝中区 江北区 南岸区 沙坪坝区 九龙坡区 渝北区 巴南区 北碚区 万州区 涪陵区
贵州省 贵阳 7010 capital 2 南明区 云岩区 花溪区 乌当区 白云区 观山湖区
云南省 昆明 7310 capital 2 五华区 盘龙区 官渡区 西山区 呈贡区 晋宁区
西藏自治区 拉萨 7700 capital 1 城关区 堆龙德庆区 达孜区
陕西省 西安 7910 capital 3 新城区 碑林区 莲湖区 雁塔区 未央区 灞桥区 长安区 临潼区
甘肃省 兰州 8210 capital 1 城关区 七里河区 西固区 安宁区 红古区
青海省 西宁 8510 capital 1 城东区 城中区 城西区 城北区 湟中区
宁夏回族自治区 银川 8710 capital 1 兴庆区 西夏区 金凤区 永宁县 贺兰县
新疆维吾尔自治区 乌鲁木齐 8810 capital 1 天山区 沙依巴克区 新市区 水磨沟区 头屯河区 米东区
"""
CITIES: tuple[tuple[str, str, str, str, int, tuple[str, ...]], ...] = tuple(
    (province, city, code, kind, int(size), tuple(districts))
    for province, city, code, kind, size, *districts in (
        line.split() for line in _CITY_TABLE.strip().splitlines()
    )
)

# Words branches are named after: streets, business districts, parks, campuses, estates.
_WORD_TABLE = """
人民路 解放路 中山路 建设路 和平路 胜利路 新华路 文化路 长江路 黄河路
延安路 环城路 滨江路 青年路 工业路 幸福路 光明路 东风路 五一路 花园路
学府路 体育路 公园路 湖滨路 健康路 劳动路 民主路 团结路 友谊路 北京路
南京路 上海路 广州路 西湖路 迎宾路 银河路 金桥路 兴业路 振兴路 复兴路
世纪大道 迎宾大道 滨河大道 科技大道 商务大道 金融街 步行街 商业街 美食街 文化街
科技园 软件园 高新区 经济开发区 工业园 保税区 大学城 火车站 高铁站 机场
会展中心 万达广场 商贸城 国际商务中心 中央商务区 金融中心 新城 城南 城北 城东
城西 老城 港区 物流园 产业园 创业园 医学院 师范大学 理工大学 体育中心
人民广场 汽车城 开元 龙湖 锦绣 金地 华府 御景 翠苑 丽景
星河 名都 凤凰 明珠 紫荆 春晖 康乐 富民 兴隆 繁荣
宏达 恒通 盛世 嘉园 新村 花苑 站前 江滨 河西 湖东
东门 西门 南门 北门 东街 西街 南街 北街 中心 新区
临港 空港 航空港 自贸区 高教园 科学城 生态城 滨湖 环湖 东湖
南湖 北湖 西湖 江南 江北 河东 湖西 山水 绿洲 阳光
天府 金沙 银座 国贸 华侨城 海岸城 奥体 会展 市民中心 政务中心
"""
BRANCH_WORDS: tuple[str, ...] = tuple(_WORD_TABLE.split())
BRANCH_SUFFIXES = ("支行", "分理处", "储蓄所", "营业所")
SUFFIX_WEIGHTS = np.array([0.80, 0.10, 0.06, 0.04])
# Branch density: the big state banks and the postal bank are everywhere, joint-stock
# banks mostly in larger cities.
CATEGORY_WEIGHTS = {"102": 10, "103": 10, "104": 7, "105": 9, "403": 9, "301": 4}
BIG_BANKS = frozenset({"102", "103", "104", "105", "403"})

BANK_COLUMNS = ("bank_name", "bank_code", "clearing_code")
BANK_HEADERS = {
    "en": BANK_COLUMNS,
    "zh": ("银行名称", "联行号", "清算行行号"),
}
BAD_REASONS = ("missing_name", "short_code", "letter_in_code", "foreign_clearing_code", "duplicate_code")


def _short(place: str) -> str:
    """海淀区 -> 海淀, 浦东新区 -> 浦东, 虎门镇 -> 虎门: how branch names usually cite a district."""
    for tail in ("回族区", "新区", "街道", "区", "县", "市", "镇"):
        if place.endswith(tail) and len(place) - len(tail) >= 2:
            return place[: -len(tail)]
    return place


def _clearing_name(category: str, city: int) -> str:
    province, name, _, kind, _, _ = CITIES[city]
    big = category in BIG_BANKS
    if kind == "muni":
        return f"{name}市分行营业部"
    if kind == "capital":
        # Big banks clear through the provincial branch's business department.
        return f"{province}分行营业部" if big else f"{name}分行营业部"
    if kind == "separate":
        return f"{name}市分行营业部" if big else f"{name}分行营业部"
    return f"{name}分行"


def _allocate(rows: int) -> np.ndarray:
    """Rows per (category, city) group in proportion to bank and city size (largest remainder)."""
    cat_w = np.array([CATEGORY_WEIGHTS.get(c, 3) for c in BANK_CATEGORIES], dtype=float)
    city_w = np.array([c[4] for c in CITIES], dtype=float)
    weight = np.outer(cat_w, city_w).ravel()
    exact = rows * weight / weight.sum()
    counts = np.floor(exact).astype(np.int64)
    short = rows - counts.sum()
    counts[np.argsort(-(exact - counts), kind="stable")[:short]] += 1
    return counts


def _branches(rows: int, rng: np.random.Generator) -> pd.DataFrame:
    """One row per branch: category, city, sequence and the (district, word, suffix) naming key.

    Naming keys are drawn without replacement inside each group (weighted by exponential
    keys), so names are distinct by construction, not by retrying.
    """
    n_words = len(BRANCH_WORDS) + 1  # word 0 = none: the district's own branch (e.g. 海淀支行)
    word_w = np.concatenate([[30.0], np.ones(n_words - 1)])
    parts: list[dict[str, np.ndarray]] = []
    counts = _allocate(rows).reshape(len(BANK_CATEGORIES), len(CITIES))
    for c in range(len(BANK_CATEGORIES)):
        for k, city in enumerate(CITIES):
            n = int(counts[c, k])
            if n == 0:
                continue
            n_districts = len(city[5])
            # Weight of each (district, word, suffix) key; only 支行 for a district's own branch.
            w = np.ones(n_districts)[:, None, None] * word_w[None, :, None] * SUFFIX_WEIGHTS[None, None, :]
            w[:, 0, 1:] = 0.0
            w = w.ravel()
            capacity = int((w > 0).sum())
            if n - 1 > min(capacity, 9998):
                raise ValueError(f"rows={rows} is too many for the built-in city and word tables")
            with np.errstate(divide="ignore"):  # weight 0 -> score inf -> never drawn
                score = rng.exponential(size=w.size) / w
            keys = np.argpartition(score, n - 2)[: n - 1] if n > 1 else np.empty(0, np.int64)
            district, rest = np.divmod(keys, n_words * len(BRANCH_SUFFIXES))
            word, suffix = np.divmod(rest, len(BRANCH_SUFFIXES))
            seq = rng.choice(9998, size=n - 1, replace=False) + 2  # 0001 is the clearing branch
            parts.append(
                {
                    "category": np.full(n, c),
                    "city": np.full(n, k),
                    "seq": np.concatenate([[1], seq]),
                    "district": np.concatenate([[-1], district]),
                    "word": np.concatenate([[-1], word - 1]),  # -1: no word
                    "suffix": np.concatenate([[-1], suffix]),
                }
            )
    frame = pd.DataFrame({key: np.concatenate([p[key] for p in parts]) for key in parts[0]})
    # Sorted by code, as CNAPS directories are published.
    return frame.sort_values(["category", "city", "seq"], kind="stable").reset_index(drop=True)


def _names(branches: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Branch names, built column-wise from parts (object arrays concatenate element-wise)."""
    n = len(branches)
    cat = branches["category"].to_numpy()
    city = branches["city"].to_numpy()
    district = branches["district"].to_numpy()
    word = branches["word"].to_numpy()
    suffix = branches["suffix"].to_numpy()
    clearing = district < 0

    # How a name cites its place varies, as in real directories: 北京 or 北京市, 海淀 or
    # 海淀区 or no district at all; a few old records lack 股份有限公司.
    city_full = rng.random(n) < 0.3
    form = rng.choice(3, size=n, p=[0.55, 0.30, 0.15])  # short, full, omitted
    no_company = (rng.random(n) < 0.03) & ~clearing
    # Dropping the district is only safe when no sibling in the group shares word and suffix,
    # and a district's own branch (no word) must name its district.
    shared = branches.duplicated(["category", "city", "word", "suffix"], keep=False).to_numpy()
    form[(form == 2) & (shared | (word < 0))] = 1

    banks = np.array([name for name, _ in BANK_CATEGORIES.values()], dtype=object)
    city_short = np.array([c[1] for c in CITIES], dtype=object)
    # Districts of all cities in one flat table; row k of a city starts at offset[city].
    offset = np.cumsum([0] + [len(c[5]) for c in CITIES])[:-1]
    districts = [d for c in CITIES for d in c[5]]
    district_forms = np.array(
        [[_short(d) for d in districts], districts, [""] * len(districts)], dtype=object
    )
    words = np.array([*BRANCH_WORDS, ""], dtype=object)  # index -1 -> no word
    suffixes = np.array(BRANCH_SUFFIXES, dtype=object)
    d_flat = offset[city] + np.maximum(district, 0)
    suffix = np.maximum(suffix, 0)  # clearing rows (-1) are named separately below

    def render(rows: np.ndarray, city_in_full: np.ndarray, district_form: np.ndarray) -> np.ndarray:
        company = np.where(no_company[rows], "", "股份有限公司").astype(object)
        where = city_short[city[rows]] + np.where(city_in_full, "市", "").astype(object)
        place = district_forms[district_form, d_flat[rows]]
        return banks[cat[rows]] + company + where + place + words[word[rows]] + suffixes[suffix[rows]]

    names = render(np.arange(n), city_full, form)
    categories = list(BANK_CATEGORIES)
    for i in np.flatnonzero(clearing):
        names[i] = f"{banks[cat[i]]}股份有限公司{_clearing_name(categories[cat[i]], city[i])}"
    # A short form can still meet another branch's name (西宁城东支行: the 城东区 branch, or
    # the 城东 branch with no district); the later one is then spelled out in full.
    clash = np.flatnonzero(pd.Series(names, dtype=object).duplicated().to_numpy())
    names[clash] = render(clash, np.ones(clash.size, bool), np.ones(clash.size, np.int64))
    # Rarely the spelled-out name meets another full one; the later ones are numbered.
    clash = np.flatnonzero(pd.Series(names, dtype=object).duplicated().to_numpy())
    for k, i in enumerate(clash, start=2):
        name = names[i]
        names[i] = f"{name[:-2]}第{k}支行" if name.endswith("支行") else f"{name}第{k}部"
    return names


def bank_records_frame(rows: int = 150_000, seed: int = 7, bad_share: float = 0.002) -> pd.DataFrame:
    """Bank branches with their 12-digit code and their clearing branch's code.

    Columns: bank_name, bank_code, clearing_code (all strings; a missing name is NA). A
    share ``bad_share`` of lines is broken on purpose; which ones and why is in
    ``df.attrs["bad_lines"]``, read it with :func:`bank_records_bad_lines`.
    """
    if rows < 1:
        raise ValueError("rows must be at least 1")
    if not 0 <= bad_share < 0.5:
        raise ValueError("bad_share must be in [0, 0.5)")
    rng = np.random.default_rng(seed)
    branches = _branches(rows, rng)
    names = _names(branches, rng).tolist()
    if len(set(names)) != rows:  # guards the naming rules above; cheap next to the rest
        raise AssertionError("generated bank names are not distinct")

    categories = list(BANK_CATEGORIES)
    cat = branches["category"].to_numpy()
    city = branches["city"].to_numpy()
    seq = branches["seq"].to_numpy()
    codes = [
        make_code(categories[c], CITIES[k][2], f"{s:04d}") for c, k, s in zip(cat, city, seq, strict=True)
    ]
    clearing_of = {
        (c, k): make_code(categories[c], CITIES[k][2], "0001") for c, k in set(zip(cat, city, strict=True))
    }
    clearing = [clearing_of[(c, k)] for c, k in zip(cat, city, strict=True)]

    bad = _break_lines(names, codes, clearing, branches, clearing_of, round(rows * bad_share), rng)
    frame = pd.DataFrame({"bank_name": names, "bank_code": codes, "clearing_code": clearing}, dtype="str")
    frame.loc[frame["bank_name"] == "", "bank_name"] = pd.NA
    frame.attrs["bad_lines"] = bad
    return frame


def _break_lines(
    names: list[str],
    codes: list[str],
    clearing: list[str],
    branches: pd.DataFrame,
    clearing_of: dict[tuple[int, int], str],
    n_bad: int,
    rng: np.random.Generator,
) -> list[dict[str, object]]:
    """Corrupt ``n_bad`` lines in place and return the answer key, one dict per bad line.

    Clearing branches are never broken (every good line's clearing code must stay a real
    line), and a bad line always follows a good line of the same group, so a duplicated
    code copies a good neighbour's and only the later line is the bad one.
    """
    if n_bad == 0:
        return []
    group = branches["category"].to_numpy() * 1000 + branches["city"].to_numpy()
    seq = branches["seq"].to_numpy()
    i = np.arange(1, len(names))
    # Even positions only, so two bad lines are never adjacent.
    ok = (i % 2 == 0) & (group[i] == group[i - 1]) & (seq[i] != 1) & (seq[i - 1] != 1)
    candidates = i[ok]
    if candidates.size < n_bad:
        raise ValueError("too few rows for the requested bad_share")
    rows = np.sort(rng.choice(candidates, size=n_bad, replace=False))
    kinds = rng.permutation(np.arange(n_bad) % len(BAD_REASONS))
    cat = branches["category"].to_numpy()
    city = branches["city"].to_numpy()
    by_city: dict[int, list[tuple[int, int]]] = {}
    for key in sorted(clearing_of):
        by_city.setdefault(key[1], []).append(key)

    bad: list[dict[str, object]] = []
    for row, kind in zip(rows.tolist(), kinds.tolist(), strict=True):
        reason = BAD_REASONS[kind]
        if reason == "missing_name":
            names[row], column = "", "bank_name"
        elif reason == "short_code":
            drop = int(rng.integers(3, 12))  # a digit lost after the bank category
            codes[row], column = codes[row][:drop] + codes[row][drop + 1 :], "bank_code"
        elif reason == "letter_in_code":  # a letter O keyed for a digit
            at = int(rng.integers(3, 12))
            codes[row], column = codes[row][:at] + "O" + codes[row][at + 1 :], "bank_code"
        elif reason == "foreign_clearing_code":
            others = [key for key in by_city[int(city[row])] if key[0] != cat[row]]
            if not others:
                others = [key for key in sorted(clearing_of) if key[0] != cat[row]]
            clearing[row] = clearing_of[others[int(rng.integers(len(others)))]]
            column = "clearing_code"
        else:  # duplicate_code: the same code keyed in again for another branch
            codes[row], column = codes[row - 1], "bank_code"
        bad.append({"row": row, "line_number": row + 2, "column": column, "reason": reason})
    return bad


def bank_records_bad_lines(df: pd.DataFrame) -> pd.DataFrame:
    """Which lines :func:`bank_records_frame` broke, and how.

    Columns: ``row`` (0-based index in the frame), ``line_number`` (line in the written
    file, the header being line 1), ``column`` (the field broken) and ``reason`` (one of
    ``BAD_REASONS``).
    """
    if "bad_lines" not in df.attrs:
        raise ValueError("this frame does not come from bank_records_frame (no bad_lines attribute)")
    return pd.DataFrame(df.attrs["bad_lines"], columns=["row", "line_number", "column", "reason"])


def write_bank_records_csv(
    path: Path,
    rows: int = 150_000,
    seed: int = 7,
    encoding: str = "utf-8",
    header: Literal["zh", "en"] = "zh",
    bad_share: float = 0.002,
    bad_lines_path: Path | None = None,
) -> Path:
    """Write :func:`bank_records_frame` as CSV and return the path.

    ``header`` picks Chinese (银行名称, 联行号, 清算行行号) or English column names.
    ``bad_lines_path``, if given, receives the answer key as a UTF-8 CSV.
    """
    if header not in BANK_HEADERS:
        raise ValueError(f"header must be one of {sorted(BANK_HEADERS)}")
    frame = bank_records_frame(rows, seed, bad_share)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, header=list(BANK_HEADERS[header]), encoding=encoding, lineterminator="\n")
    if bad_lines_path is not None:
        bank_records_bad_lines(frame).to_csv(bad_lines_path, index=False, lineterminator="\n")
    return path
