"""Chinese company names: normalisation and fuzzy scoring. Pure: no I/O.

"无锡市华光电子股份有限公司", "华光电子有限公司" and "华光电子(无锡)有限公司" all normalise to
"华光电子", so a search need not know the legal form or the place prefix."""

import re
import unicodedata
from collections.abc import Sequence

from rapidfuzz import fuzz, process

from service.taxonomy import areas

# Longest first, so "股份有限公司" goes before "有限公司" and "公司".
LEGAL_SUFFIXES = sorted(
    [
        "股份有限公司",
        "有限责任公司",
        "集团股份有限公司",
        "集团有限公司",
        "有限公司",
        "股份公司",
        "集团公司",
        "分公司",
        "总公司",
        "公司",
        "集团",
        "股份",
        "有限",
        "合伙企业",
        "有限合伙",
        "(有限合伙)",
        "(普通合伙)",
        "厂",
    ],
    key=len,
    reverse=True,
)
# Provincial-level names (江苏, 内蒙古 …: GB/T 2260's, ``areas.PROVINCES``, without their
# 省/市/自治区 forms), the cities of Jiangsu, Wuxi's counties and districts, and the largest
# cities elsewhere: a name's leading place, a bracketed place and the place of a branch are not
# part of what the company is called.
_PROVINCE_FORMS = ("省", "市", "自治区", "壮族自治区", "回族自治区", "维吾尔自治区", "特别行政区")


def _short(province: str) -> str:
    for form in sorted(_PROVINCE_FORMS, key=len, reverse=True):
        if province.endswith(form):
            return province[: -len(form)]
    return province


PROVINCES = tuple(_short(name) for name in areas.PROVINCES.values())
MUNICIPALITIES = frozenset({"北京", "天津", "上海", "重庆"})  # provinces that are cities
_PROVINCE_ONLY = frozenset(PROVINCES) - MUNICIPALITIES
# Prefecture-level cities by province: every city of Jiangsu, the largest elsewhere.
_CITIES = {
    "江苏": (
        "南京",
        "无锡",
        "徐州",
        "常州",
        "苏州",
        "南通",
        "连云港",
        "淮安",
        "盐城",
        "扬州",
        "镇江",
        "泰州",
        "宿迁",
    ),
    "浙江": ("杭州", "宁波", "温州", "嘉兴", "湖州", "绍兴", "金华", "台州"),
    "广东": ("深圳", "广州", "东莞", "佛山", "珠海"),
    "山东": ("青岛", "济南", "烟台", "潍坊"),
    "安徽": ("合肥", "芜湖"),
    "福建": ("福州", "厦门"),
    "四川": ("成都",),
    "湖北": ("武汉",),
    "陕西": ("西安",),
    "湖南": ("长沙",),
    "河南": ("郑州",),
    "辽宁": ("沈阳", "大连"),
    "江西": ("南昌",),
    "云南": ("昆明",),
    "贵州": ("贵阳",),
    "广西": ("南宁",),
    "黑龙江": ("哈尔滨",),
    "吉林": ("长春",),
    "河北": ("石家庄", "唐山"),
    "山西": ("太原",),
}
# Provincial capitals known as cities whose province is not compared (see places_conflict).
_CITIES_WITHOUT_PROVINCE = ("兰州", "乌鲁木齐", "呼和浩特", "银川", "西宁", "拉萨", "海口")
# a city -> its province, for places_conflict (a municipality is its own province)
PROVINCE_OF = {
    **{city: province for province, cities in _CITIES.items() for city in cities},
    **{m: m for m in MUNICIPALITIES},
}
# county-level place -> its prefecture (a name from 江阴 is a name from 无锡)
CITY_OF = {
    **{city: city for cities in _CITIES.values() for city in cities},
    **{city: city for city in _CITIES_WITHOUT_PROVINCE},
    "江阴": "无锡",
    "宜兴": "无锡",
    "梁溪": "无锡",
    "锡山": "无锡",
    "惠山": "无锡",
    "滨湖": "无锡",
    "新吴": "无锡",
    "无锡经济开发区": "无锡",
    "无锡高新区": "无锡",
    "昆山": "苏州",
    "张家港": "苏州",
    "常熟": "苏州",
    "太仓": "苏州",
    "吴江": "苏州",
    "溧阳": "常州",
    "金坛": "常州",
    "丹阳": "镇江",
    "句容": "镇江",
    "扬中": "镇江",
    "靖江": "泰州",
    "泰兴": "泰州",
    "兴化": "泰州",
    "如皋": "南通",
    "海门": "南通",
    "启东": "南通",
    "仪征": "扬州",
    "高邮": "扬州",
    "邳州": "徐州",
    "新沂": "徐州",
    "东台": "盐城",
}
_CITY_FORMS = ("市", "区", "县")


def _place_forms() -> dict[str, str]:
    """Every written form of a known place -> the place it stands for (a province, or a
    prefecture-level city)."""
    forms: dict[str, str] = {}
    for province in PROVINCES:
        forms[province] = province
        for suffix in _PROVINCE_FORMS:
            forms[province + suffix] = province
    for place, city in CITY_OF.items():
        forms[place] = city
        for suffix in _CITY_FORMS:
            forms[place + suffix] = city
    forms["中国"] = "中国"
    forms["中华人民共和国"] = "中国"
    return forms


PLACE_FORMS = _place_forms()
PLACE_PREFIXES = sorted(PLACE_FORMS, key=len, reverse=True)
_NATIONAL = {"中国"}
_MIN_CORE = 2
_BRACKETED = re.compile(r"\([^()]*\)")
_SPACES = re.compile(r"[\s·•.,，、\-_/]+")


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in words)


# Tried in list order, as the loops they replace: places longest first; then legal forms
# longest first, then places (matched on the reversed text, so the end is an anchor).
_LEADING_PLACE = re.compile(f"^(?:{_alternation(PLACE_PREFIXES)})")
_TRAILING = re.compile(f"^(?:{_alternation([w[::-1] for w in LEGAL_SUFFIXES + PLACE_PREFIXES])})")


def _strip_once(text: str) -> tuple[str, bool]:
    changed = False
    match = _LEADING_PLACE.match(text)
    if match and len(text) - match.end() >= _MIN_CORE:
        text, changed = text[match.end() :], True
    elif match:  # the longest place leaves too little: a shorter one may not
        for prefix in PLACE_PREFIXES:
            if text.startswith(prefix) and len(text) - len(prefix) >= _MIN_CORE:
                text, changed = text[len(prefix) :], True
                break
    match = _TRAILING.match(text[::-1])
    if match and len(text) - match.end() >= _MIN_CORE:
        text, changed = text[: len(text) - match.end()], True
    elif match:
        for suffix in LEGAL_SUFFIXES + PLACE_PREFIXES:
            if text.endswith(suffix) and len(text) - len(suffix) >= _MIN_CORE:
                text, changed = text[: -len(suffix)], True
                break
    return text, changed


def normalize_company_name(name: str) -> str:
    text = unicodedata.normalize("NFKC", name)  # full-width to half-width, （）→()
    text = text.replace("【", "(").replace("】", ")").replace("〔", "(").replace("〕", ")")
    text = _BRACKETED.sub("", text)
    text = _SPACES.sub("", text).lower()
    # Strip place prefixes and legal-form suffixes (and the place of a branch, as in
    # "…有限公司无锡分公司") while at least two characters of the name remain.
    changed = True
    while changed:
        text, changed = _strip_once(text)
    return text


def name_places(name: str) -> frozenset[str]:
    """The cities a name carries (a leading place, a bracketed place, a branch's place), as
    prefecture-level cities; provinces only when no city is named. "江阴华光电子有限公司" and
    "华光电子(无锡)有限公司" both give {"无锡"}; "华光电子(苏州)有限公司" gives {"苏州"}."""
    text = unicodedata.normalize("NFKC", name)
    text = text.replace("【", "(").replace("】", ")").replace("〔", "(").replace("〕", ")")
    text = _SPACES.sub("", text)
    found: set[str] = set()
    for inner in re.findall(r"\(([^()]*)\)", text):
        place = PLACE_FORMS.get(inner)
        if place:
            found.add(place)
    text = _BRACKETED.sub("", text)
    while True:  # leading places: 江苏省无锡市…
        match = _LEADING_PLACE.match(text)
        if not match or match.end() >= len(text):
            break
        found.add(PLACE_FORMS[match.group(0)])
        text = text[match.end() :]
    branch = re.search(r"(?:公司|集团)([^()]{2,8}?)分公司$", text)
    if branch and branch.group(1) in PLACE_FORMS:
        found.add(PLACE_FORMS[branch.group(1)])
    found -= _NATIONAL
    cities = {p for p in found if p not in _PROVINCE_ONLY}
    return frozenset(cities or found)


# Words that say what a company does, not who it is (行业表述, and generic business words):
# "无锡华光新材料" and "无锡宏达新材料" share "新材料", not a trade name (字号). What comes
# before the first of them is the trade name; two different trade names are two companies
# however long the words they share. Longest first, so "新材料" is read before "材料".
INDUSTRY_WORDS = sorted(
    {
        # technology, IT, electronics
        *("科技", "技术", "信息", "信息技术", "网络", "软件", "数据", "数字", "智能", "智造"),
        *("人工智能", "物联网", "通信", "电子", "微电子", "光电", "光电子", "光学", "半导体"),
        *("集成电路", "芯片", "封装", "封测", "传感", "传感器", "自动化", "机器人"),
        # energy and environment
        *("能源", "新能源", "储能", "氢能", "光伏", "节能", "环保", "环境", "电力", "电源"),
        *("电池", "燃气", "热能", "水务"),
        # materials, chemicals, metals, textiles
        *("材料", "新材料", "化工", "化学", "化纤", "纳米", "金属", "钢铁", "特钢", "不锈钢"),
        *("铸造", "锻造", "模具", "塑料", "塑胶", "橡胶", "陶瓷", "建材", "纺织", "服饰"),
        *("服装", "印染", "石化"),
        # machinery, equipment, vehicles
        *("装备", "智能装备", "机械", "精密", "精工", "机电", "设备", "电气", "电器", "电机"),
        *("电缆", "重工", "汽车", "汽车部件", "汽车零部件", "零部件", "部件", "配件", "船舶"),
        *("航空", "航天", "仪器", "仪表"),
        # life sciences
        *("生物", "生物医药", "医药", "医疗", "医疗器械", "器械", "制药", "药业", "健康"),
        # generic business words
        *("实业", "工业", "产业", "制造", "发展", "投资", "控股", "贸易", "商贸", "工贸"),
        *("进出口", "国际", "物流", "供应链", "咨询", "管理", "服务", "工程", "建设", "建筑"),
        *("食品", "包装", "印刷", "家具", "照明", "农业", "研究院", "研究所", "开发", "新药"),
        *("房地产", "置业", "物业", "文化", "传媒", "旅游", "先进", "新型"),
    },
    key=lambda word: (-len(word), word),
)
_INDUSTRY_WORD = re.compile(_alternation(INDUSTRY_WORDS))


def trade_name(core: str) -> str:
    """The trade name (字号) of a normalised name: what comes before its first industry word,
    at least two characters ("华光新材料" -> "华光", "华润微电子" -> "华润"); the whole core when
    no industry word follows one."""
    match = _INDUSTRY_WORD.search(core, _MIN_CORE)
    return core[: match.start()] if match else core


_LEGAL_ENDINGS = tuple(LEGAL_SUFFIXES)


def has_legal_form(name: str) -> bool:
    """Does a name end in a legal form (有限公司, 股份有限公司, 厂, 合伙 …)? A list that writes
    "长电科技" gives a short name (简称), not the registered name."""
    text = unicodedata.normalize("NFKC", name)
    text = text.replace("【", "(").replace("】", ")").replace("〔", "(").replace("〕", ")")
    text = _SPACES.sub("", text)
    return text.endswith(_LEGAL_ENDINGS) or _BRACKETED.sub("", text).endswith(_LEGAL_ENDINGS)


_BRANCH = re.compile(r"(分公司|分厂|分店|办事处|分所|分部)$")


def is_branch(name: str) -> bool:
    """A branch (分公司 …) is a legal entity of its own, not its parent company."""
    text = _SPACES.sub("", _BRACKETED.sub("", unicodedata.normalize("NFKC", name)))
    return bool(_BRANCH.search(text))


def places_conflict(a: frozenset[str], b: frozenset[str]) -> bool:
    """Two names point to different places: both name cities (北京, 上海 … are cities) and
    share none; both name only provinces and share none; or a city's known province is not
    the other's province."""
    if not a or not b:
        return False
    a_cities, b_cities = a - _PROVINCE_ONLY, b - _PROVINCE_ONLY
    if a_cities and b_cities:
        return not (a_cities & b_cities)
    if not a_cities and not b_cities:
        return not (a & b)
    cities, provinces = (a_cities, b) if a_cities else (b_cities, a)
    known = {PROVINCE_OF[c] for c in cities if c in PROVINCE_OF}
    return bool(known) and not (known & provinces)


def name_score(query_normalized: str, candidate_normalized: str) -> float:
    """0–100: how well a normalised query matches a normalised name. A query that is a part of
    the name ("华光" in "华光电子") scores high, but below an exact match."""
    if not query_normalized or not candidate_normalized:
        return 0.0
    if query_normalized == candidate_normalized:
        return 100.0
    full = fuzz.ratio(query_normalized, candidate_normalized)
    partial = fuzz.partial_ratio(query_normalized, candidate_normalized)
    # A partial hit counts less the shorter the query is relative to the name.
    coverage = min(len(query_normalized), len(candidate_normalized)) / max(
        len(query_normalized), len(candidate_normalized)
    )
    return round(max(full, partial * (0.75 + 0.2 * coverage)), 2)


def best_matches(
    query_normalized: str, ids: Sequence[int], names: Sequence[str], minimum: float
) -> list[tuple[float, int]]:
    """(score, id) of the names scoring at least ``minimum``, best first. A C-level
    partial_ratio pass (an upper bound of name_score) discards most names before the exact
    score is computed."""
    survivors = process.extract(
        query_normalized, names, scorer=fuzz.partial_ratio, score_cutoff=minimum, limit=None
    )
    scored = []
    for _, _, index in survivors:
        score = name_score(query_normalized, names[index])
        if score >= minimum:
            scored.append((score, ids[index]))
    scored.sort(key=lambda s: (-s[0], s[1]))
    return scored
