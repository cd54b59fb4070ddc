"""Synthetic enterprise and project libraries (and bank products) that look like Wuxi's.

Two uses:

- the committed demo library: ``run_synth(..., out=Path("seed/demo"))`` writes JSON shaped like
  the API's create bodies (``EnterpriseCreate``; projects with ``enterprise_credit_code`` in place
  of ``enterprise_id``; ``ProductCreate``);
- benchmarks: ``run_synth(..., out=None)`` bulk-loads N enterprises (with their qualifications,
  contacts and projects) and P products into a database that already holds the reference data:
  COPY on PostgreSQL, executemany on SQLite, one transaction per batch.

Deterministic: every value comes from ``random.Random`` instances seeded from ``seed`` (never the
global generator) and dates are relative to the fixed ``AS_OF`` date, not today, so the same seed
gives the same output on any day. Credit codes are a bijective function of the enterprise's index,
so they are unique within a run without draws and retries, and a re-run with the same seed finds
every code already loaded and adds nothing (an interrupted load resumes where it stopped).

Banks see an enterprise's private facts only with its consent: about two in five enterprises
gave it on a signed 入库申报 form (reference and date in the enterprise's fields, as the office
sends them when it records the form), a few declined on the form, the rest never recorded a
choice. About one project in twelve is on a key-project list (``listed_in``), which makes its
name, unit, year and investment public. Both are drawn from streams of their own, so adding
them changed no other value of any library.

Nothing here is a real enterprise or person: names are assembled from character pools, phone
numbers are random, e-mail addresses are under example.com; form references follow the
office's numbering style but are made up."""

import json
import math
import multiprocessing
import os
import time
from array import array
from bisect import bisect
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from pathlib import Path
from random import Random
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, insert, select, text

from service.core.database import make_engine
from service.core.settings import project_root
from service.enterprises.derive import derive
from service.enterprises.models import ConsentSource, ProjectKind, ProjectStatus
from service.products.models import ProductCreate, ProductSpec
from service.taxonomy.credit_code import CreditCode, with_check_character
from service.taxonomy.sizing import FEN_PER_WAN, SizeRow, Threshold, find_row

# The day the synthetic library describes: qualification validity, company ages and project
# years are relative to it. Fixed (not today) so the output depends on the seed only.
AS_OF = date(2026, 11, 1)
DEMO_SEED = 2024
# Projects when the caller gives no count: a richer project library for demo-sized runs, a
# thinner one (as in the real libraries) for benchmark-sized runs.
DEMO_SIZE_LIMIT = 10_000
BATCH_SIZE = 5_000
# Enterprises drawn from one pair of random streams. Part of the determinism contract: changing
# it changes the library of every seed.
CHUNK = 1_000
MAX_ENTERPRISES = 10**8  # the organisation-code space of one seed (8 digits)

# --- reference data -----------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """The vocabulary the generator may use: from seed/reference or from a database."""

    clusters: tuple[str, ...]
    district_areas: dict[str, str | None]
    qualification_terms: dict[str, int | None]
    size_rows: tuple[SizeRow, ...]
    ownership_types: tuple[str, ...] = ()
    cluster_tiers: dict[str, str] = field(default_factory=dict)  # code -> landmark, advantage …


def size_rows_from_json(items: Iterable[dict[str, Any]]) -> tuple[SizeRow, ...]:
    rows = []
    for item in sorted(items, key=lambda i: i.get("sort_order", 0)):
        thresholds = tuple(
            Threshold(
                size_class,
                b.get("employees_min"),
                b.get("revenue_min_wan"),
                b.get("assets_min_wan"),
            )
            for size_class, b in item["thresholds"].items()
        )
        rows.append(
            SizeRow(
                item["key"],
                item["name"],
                tuple(item["gbt_scope"]),
                tuple(item["indicators"]),
                thresholds,
            )
        )
    return tuple(rows)


def load_reference(seed_dir: Path | None = None) -> Reference:
    ref = (seed_dir or project_root() / "seed") / "reference"

    def read(name: str) -> Any:
        return json.loads((ref / name).read_text(encoding="utf-8"))

    clusters = read("clusters.json")
    return Reference(
        clusters=tuple(c["code"] for c in clusters),
        district_areas={d["code"]: d["area_code"] for d in read("districts.json")},
        qualification_terms={q["code"]: q["term_months"] for q in read("qualification_types.json")},
        size_rows=size_rows_from_json(read("size_standards.json")),
        ownership_types=tuple(o["code"] for o in read("ownership_types.json")),
        cluster_tiers={c["code"]: c["tier"] for c in clusters},
    )


def reference_from_db(conn: Connection) -> Reference:
    def rows(sql: str) -> list[Any]:
        return list(conn.execute(text(sql)))

    thresholds: dict[str, list[Threshold]] = {}
    for r in rows(
        "SELECT industry_key, size_class, employees_min, revenue_min_wan, "
        "assets_min_wan FROM size_threshold"
    ):
        thresholds.setdefault(r[0], []).append(Threshold(r[1], r[2], r[3], r[4]))
    size_rows = []
    for r in rows("SELECT key, name, gbt_scope, indicators FROM size_industry ORDER BY sort_order"):
        scope = json.loads(r[2]) if isinstance(r[2], str) else r[2]
        indicators = json.loads(r[3]) if isinstance(r[3], str) else r[3]
        size_rows.append(
            SizeRow(r[0], r[1], tuple(scope), tuple(indicators), tuple(thresholds.get(r[0], ())))
        )
    clusters = rows("SELECT code, tier FROM cluster ORDER BY tier_rank, priority_rank")
    return Reference(
        clusters=tuple(r[0] for r in clusters),
        district_areas={
            r[0]: r[1] for r in rows("SELECT code, area_code FROM district ORDER BY sort_order")
        },
        qualification_terms={
            r[0]: r[1]
            for r in rows("SELECT code, term_months FROM qualification_type ORDER BY sort_order")
        },
        size_rows=tuple(size_rows),
        ownership_types=tuple(
            r[0] for r in rows("SELECT code FROM ownership_type ORDER BY sort_order")
        ),
        cluster_tiers={r[0]: str(r[1]) for r in clusters},
    )


# --- what Wuxi looks like -----------------------------------------------------------------

# District weights: 江阴 and 宜兴 are large industrial county-level cities; 经开区 is small.
DISTRICT_WEIGHTS = {
    "jiangyin": 20,
    "yixing": 13,
    "xinwu": 17,
    "huishan": 12,
    "xishan": 10,
    "binhu": 9,
    "liangxi": 8,
    "jingkai": 5,
}
# Cluster weights: manufacturing-heavy, few future-tier enterprises.
CLUSTER_WEIGHTS = {
    "hi_equip": 20,
    "new_material": 14,
    "auto": 12,
    "textile": 10,
    "new_energy": 10,
    "iot": 9,
    "ic": 7,
    "eco_env": 6,
    "biomed": 4.5,
    "software": 4.5,
    "ai_meta": 1.2,
    "hydrogen": 1.0,
    "semi3": 0.8,
    "deep_sea": 0.7,
    "quantum": 0.3,
    None: 3,
}
# How much more (or less) common a cluster is in a district than on average.
DISTRICT_AFFINITY: dict[str, dict[str | None, float]] = {
    "xinwu": {
        "ic": 3,
        "iot": 3,
        "biomed": 2.5,
        "semi3": 3,
        "software": 1.5,
        "ai_meta": 1.5,
        "textile": 0.3,
        "new_material": 0.5,
        "eco_env": 0.6,
    },
    "liangxi": {
        "software": 6,
        "ai_meta": 3,
        "iot": 1.5,
        "hi_equip": 0.4,
        "textile": 0.5,
        "new_material": 0.2,
        "auto": 0.3,
        "new_energy": 0.5,
        "deep_sea": 0.2,
    },
    "binhu": {
        "software": 3.5,
        "ai_meta": 3,
        "biomed": 2.5,
        "quantum": 4,
        "iot": 1.3,
        "hi_equip": 0.6,
        "textile": 0.3,
        "new_material": 0.4,
        "auto": 0.6,
    },
    "jingkai": {
        "software": 6,
        "ai_meta": 4,
        "quantum": 3,
        "iot": 1.5,
        "hi_equip": 0.3,
        "textile": 0.2,
        "new_material": 0.2,
        "auto": 0.4,
    },
    "jiangyin": {
        "new_material": 2.5,
        "textile": 1.8,
        "hi_equip": 1.3,
        "deep_sea": 2.5,
        "new_energy": 1.3,
        "ic": 1.1,
        "software": 0.3,
        "ai_meta": 0.3,
        "iot": 0.6,
    },
    "yixing": {
        "eco_env": 4,
        "new_material": 1.5,
        "new_energy": 1.5,
        "software": 0.3,
        "ic": 0.4,
        "iot": 0.6,
        "ai_meta": 0.3,
    },
    "xishan": {"hi_equip": 1.5, "auto": 1.4, "textile": 1.2, "new_energy": 1.2, "software": 0.5},
    "huishan": {
        "hi_equip": 1.5,
        "auto": 1.5,
        "new_energy": 1.5,
        "hydrogen": 2.5,
        "new_material": 1.2,
        "software": 0.5,
    },
}
# 经开区 has no area code of its own: its enterprises carry 滨湖's, 梁溪's or the city's.
JINGKAI_AREAS = (("320211", 4), ("320213", 2), ("320200", 4))
CITY_AREA = "320200"
CITY_LEVEL_SHARE = 0.09
OUTSIDE_SHARE = 0.025
# Registered elsewhere in the Yangtze delta (accepted and flagged by the service).
OUTSIDE_AREAS = (
    ("310115", "上海"),
    ("310112", "上海"),
    ("320505", "苏州"),
    ("320506", "苏州"),
    ("320583", "昆山"),
    ("320411", "常州"),
    ("320412", "常州"),
    ("320115", "南京"),
)

# Real GB/T 4754-2017 classes per cluster, with weights. Besides manufacturing (C) and software
# (I65) some wholesale (F51), R&D (M73) and technology-service (M75) firms exercise other rows of
# the size table.
CLUSTER_INDUSTRIES: dict[str | None, tuple[tuple[str, float], ...]] = {
    "iot": (
        ("C3983", 6),
        ("C3921", 3),
        ("C3922", 2),
        ("C4011", 4),
        ("C3914", 2),
        ("C4028", 2),
        ("C3990", 1),
        ("I6532", 5),
        ("I6531", 3),
        ("F5177", 1.5),
        ("F5179", 1),
        ("M7320", 0.8),
    ),
    "ic": (
        ("C3973", 6),
        ("C3972", 4),
        ("C3985", 3),
        ("C3562", 2),
        ("C3982", 2),
        ("C3976", 1.5),
        ("C3979", 1),
        ("I6520", 4),
        ("F5179", 1.5),
        ("M7320", 0.8),
    ),
    "biomed": (
        ("C2720", 4),
        ("C2710", 3),
        ("C2761", 3),
        ("C2762", 1.5),
        ("C2770", 2.5),
        ("C2740", 1),
        ("C3581", 3),
        ("C3584", 2),
        ("C3583", 1.5),
        ("C3589", 1.5),
        ("M7340", 3),
        ("F5151", 1.2),
    ),
    "software": (
        ("I6513", 6),
        ("I6511", 1.5),
        ("I6512", 1.5),
        ("I6519", 1),
        ("I6531", 4),
        ("I6540", 2),
        ("I6550", 2),
        ("I6560", 2),
        ("I6599", 1.5),
        ("I6440", 1),
        ("I6450", 1),
        ("F5176", 1.5),
    ),
    "hi_equip": (
        ("C3421", 3),
        ("C3422", 2),
        ("C3425", 2),
        ("C3441", 3),
        ("C3443", 3),
        ("C3444", 3),
        ("C3451", 2.5),
        ("C3453", 2.5),
        ("C3484", 4),
        ("C3491", 2),
        ("C3493", 1),
        ("C3499", 2),
        ("C3412", 1.5),
        ("C3464", 1.5),
        ("C3516", 1.5),
        ("C3521", 1.5),
        ("C3525", 2),
        ("C3551", 2),
        ("C3569", 1.5),
        ("C3599", 2),
        ("C3744", 1),
        ("F5174", 1),
        ("F5179", 1.5),
        ("M7320", 0.5),
    ),
    "textile": (
        ("C1711", 2),
        ("C1712", 2),
        ("C1713", 1.5),
        ("C1721", 1),
        ("C1722", 1),
        ("C1751", 2.5),
        ("C1752", 1.5),
        ("C1761", 2),
        ("C1763", 1),
        ("C1771", 1),
        ("C1781", 1.5),
        ("C1789", 1),
        ("C1810", 3),
        ("C1820", 2),
        ("C1830", 1),
        ("C2822", 2),
        ("C2821", 1),
        ("C2826", 0.7),
        ("F5131", 1.5),
        ("F5132", 1),
    ),
    "eco_env": (
        ("C3591", 6),
        ("C3463", 2),
        ("C4021", 2),
        ("C4220", 1.5),
        ("C4210", 1),
        ("C2666", 1),
        ("D4620", 2),
        ("N7721", 2),
        ("N7722", 1.5),
        ("N7723", 1),
        ("N7724", 1),
        ("M7516", 1.5),
        ("M7514", 1),
        ("F5179", 0.5),
    ),
    "new_material": (
        ("C3130", 3),
        ("C3340", 2),
        ("C3251", 2),
        ("C3252", 2),
        ("C3240", 1),
        ("C2651", 2),
        ("C2641", 1.5),
        ("C2661", 1.5),
        ("C2662", 2),
        ("C2669", 1),
        ("C3061", 1),
        ("C3062", 1),
        ("C3091", 1),
        ("C3089", 1),
        ("C2922", 1.5),
        ("C2921", 1),
        ("F5164", 1.5),
        ("F5169", 1),
        ("M7513", 0.8),
    ),
    "new_energy": (
        ("C3825", 4),
        ("C3841", 3),
        ("C3415", 2),
        ("C3821", 2),
        ("C3823", 2),
        ("C3824", 1.5),
        ("C3829", 1.5),
        ("C3831", 3),
        ("C3811", 1),
        ("C3822", 1),
        ("D4416", 1),
        ("D4415", 0.5),
        ("F5175", 1.5),
        ("M7515", 0.8),
    ),
    "auto": (
        ("C3670", 10),
        ("C3660", 1.5),
        ("C3612", 0.5),
        ("C3630", 0.5),
        ("C3962", 1),
        ("C3812", 1),
        ("F5172", 1.5),
    ),
    "ai_meta": (
        ("I6513", 4),
        ("I6599", 2),
        ("I6579", 1),
        ("C3964", 2),
        ("C3961", 1),
        ("C3491", 1.5),
        ("C3492", 1),
        ("M7320", 1),
    ),
    "quantum": (("M7320", 3), ("C4014", 2), ("C3976", 1.5), ("C3989", 1), ("I6599", 1)),
    "semi3": (("C3972", 4), ("C3985", 3), ("C3976", 2), ("C3562", 1.5), ("M7320", 0.5)),
    "hydrogen": (
        ("C3849", 3),
        ("C3841", 2),
        ("C3463", 1.5),
        ("C3442", 1),
        ("C2619", 1),
        ("D4419", 1),
        ("M7515", 0.5),
    ),
    "deep_sea": (("C3734", 4), ("C3737", 3), ("C3731", 1.5), ("C3513", 1), ("C4023", 1)),
    None: (
        ("C3311", 2),
        ("C2922", 2),
        ("C3484", 2),
        ("C2231", 1),
        ("C3399", 1),
        ("F5179", 1.5),
        ("F5174", 1),
    ),
}
# The industry word of a name, per cluster.
CLUSTER_WORDS: dict[str | None, tuple[str, ...]] = {
    "iot": (
        "物联网科技",
        "传感技术",
        "智能科技",
        "电子科技",
        "通信技术",
        "信息技术",
        "传感器",
        "智能装备",
    ),
    "ic": ("微电子", "半导体", "集成电路", "电子科技", "芯片科技", "电子材料", "微纳科技"),
    "biomed": (
        "生物医药",
        "生物科技",
        "医药科技",
        "医疗器械",
        "制药",
        "药业",
        "生物技术",
        "医疗科技",
    ),
    "software": ("软件", "信息技术", "网络科技", "数据科技", "信息科技", "数字科技", "软件技术"),
    "hi_equip": (
        "精密机械",
        "机械",
        "机械制造",
        "智能装备",
        "重工",
        "自动化设备",
        "数控科技",
        "液压",
        "轴承",
        "机电",
        "精工",
    ),
    "textile": ("纺织", "纺织科技", "服饰", "化纤", "印染", "针织", "家纺", "制衣", "纺织品"),
    "eco_env": ("环保科技", "环境工程", "水处理科技", "节能科技", "环境科技", "环保设备"),
    "new_material": (
        "新材料",
        "材料科技",
        "特钢",
        "金属制品",
        "高分子材料",
        "化工",
        "合金",
        "复合材料",
        "新材料科技",
    ),
    "new_energy": ("新能源", "光伏科技", "能源科技", "电气", "电力设备", "电池科技", "电缆"),
    "auto": ("汽车部件", "汽车零部件", "汽车电子", "车业", "动力科技", "汽车配件", "汽车科技"),
    "ai_meta": ("智能科技", "人工智能科技", "机器人", "视觉科技", "智能技术", "数字科技"),
    "quantum": ("量子科技", "量子技术", "光电科技"),
    "semi3": ("半导体", "微电子", "光电科技", "宽禁带半导体"),
    "hydrogen": ("氢能科技", "储能科技", "新能源", "能源科技", "燃料电池"),
    "deep_sea": ("海洋装备", "海洋工程", "船舶配套", "船舶科技", "海工装备"),
    None: ("实业", "工贸", "金属制品", "塑料制品", "包装材料", "五金"),
}
# The goods a wholesaler of the cluster trades in.
TRADE_WORDS: dict[str | None, str] = {
    "iot": "电子",
    "ic": "电子",
    "biomed": "医药",
    "software": "信息",
    "hi_equip": "机电",
    "textile": "纺织品",
    "eco_env": "环保",
    "new_material": "金属材料",
    "new_energy": "能源",
    "auto": "汽车配件",
    "ai_meta": "智能",
    "quantum": "光电",
    "semi3": "电子",
    "hydrogen": "能源",
    "deep_sea": "船舶",
    None: "五金",
}
CHAIN_NAMES = {
    "iot": "物联网",
    "ic": "集成电路",
    "biomed": "生物医药",
    "software": "软件",
    "hi_equip": "高端装备",
    "textile": "纺织服装",
    "eco_env": "节能环保",
    "new_material": "新材料",
    "new_energy": "新能源",
    "auto": "新能源汽车",
    "ai_meta": "人工智能",
    "quantum": "量子科技",
    "semi3": "第三代半导体",
    "hydrogen": "氢能",
    "deep_sea": "海洋装备",
}
CHAIN_TAG_SHARE = 0.04
TECH_CLUSTERS = frozenset(
    {"iot", "ic", "biomed", "software", "ai_meta", "quantum", "semi3", "hydrogen"}
)

TRADE_CHARS = (
    "华光新达恒盛远鑫泰宏天海金源通瑞祥隆博创信德润安康嘉利永丰汇顺昌明星宇辰晟弘卓越"
    "成致诚立科宝力美正和大先锋翔腾飞凯迪奥能合同兴益富佳聚英联方圆亿万东南江湖澄荣辉"
    "日月云峰川林森鼎晶芯微威智捷迅驰骏航启元亨浩瀚澜涛钧铭锦绣彩蓝青紫长久盈特普尚优"
)
# Trade names shared by several enterprises of different industries: hard cases for name search.
SHARED_TRADE_NAMES = (
    "瑞丰",
    "恒信",
    "博远",
    "天晟",
    "鑫达",
    "宏泰",
    "嘉诚",
    "汇通",
    "华澄",
    "锡光",
)
SHARED_TRADE_SHARE = 0.05
BRACKET_SHARE = 0.06

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方邹孟熊秦邱江尹薛段雷侯史陶贺顾毛龚邵"
    "钱严华过浦秦缪"
)
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国文辉鹏飞宇浩然晨欣怡佳琪雪"
    "婷俊峰波斌亮志红梅兰玲燕凤洁琳颖晶丹倩蕾璐立新海东春晓云龙凯锋晖"
)
PRIMARY_TITLES = ("财务总监", "财务经理", "总经理", "董事长", "财务负责人", "副总经理")
OTHER_TITLES = ("融资专员", "会计主管", "行政经理", "董事会秘书", "出纳", "综合部经理")
EMAIL_LOCALS = ("finance", "cw", "cfo", "info", "office", "rzb", "admin")

# Credit grades, best first, with weights centred on A-/A/BBB (a few B-/CCC).
GRADE_WEIGHTS = (
    ("AAA", 0.4),
    ("AA+", 0.8),
    ("AA", 1.8),
    ("AA-", 3),
    ("A+", 6),
    ("A", 13),
    ("A-", 16),
    ("BBB+", 14),
    ("BBB", 13),
    ("BBB-", 9),
    ("BB+", 7),
    ("BB", 6),
    ("BB-", 3.5),
    ("B+", 2.2),
    ("B", 1.6),
    ("B-", 1.3),
    ("CCC", 0.9),
    ("CC", 0.2),
)
GRADE_SHIFT = {"large": -2, "medium": -1, "small": 0, "micro": 1}
UNRATED_SHARE = 0.04

SIZE_CLASSES = ("large", "medium", "small", "micro")
# The mix aimed at: about 80% small and micro, 15% medium, 5% large.
SIZE_TARGET = {"large": 0.05, "medium": 0.15, "small": 0.40, "micro": 0.40}
# Enterprises with projects in the library lean larger.
SIZE_WITH_PROJECTS = {"large": 0.10, "medium": 0.25, "small": 0.45, "micro": 0.20}
MEAN_AGE = {"large": 20, "medium": 14, "small": 9, "micro": 6}
# Ownership (控股情况): mostly 私人控股, more state-, foreign- and HMT-controlled firms among
# the large ones. A name with a bracketed place ("…（无锡）有限公司") is the usual form of a
# foreign- or HMT-invested subsidiary; state- and collective-controlled firms are older.
OWNERSHIP_WEIGHTS: dict[str, dict[str, float]] = {
    "large": {"private": 62, "state": 12, "foreign": 14, "hmt": 6, "collective": 3, "other": 3},
    "medium": {"private": 78, "state": 6, "foreign": 9, "hmt": 4, "collective": 2, "other": 1},
    "small": {"private": 89, "state": 2, "foreign": 4, "hmt": 2.5, "collective": 1.5, "other": 1},
    "micro": {"private": 94, "state": 0.8, "foreign": 2, "hmt": 1.2, "collective": 1, "other": 1},
}
BRACKETED_INVESTED = 6.0  # foreign and HMT weights × this for a name with a bracketed place
OLD_STATE, OLD_COLLECTIVE = 2.0, 4.0  # × these for firms established before 1995
UNKNOWN_OWNERSHIP_SHARE = 0.03  # not recorded in the library (null)
FIRST_YEAR, LAST_YEAR = 1985, 2024
# Consent through the 入库申报 form: the office's sign-up form for the library, on which an
# enterprise says whether banks may see its private facts. The office records the choice from
# the signed form (the enterprise may change it itself later). Enterprises in the 465 clusters
# fill it in more often than others, and those holding 高新 or 专精特新 recognitions more often
# still (the office courts them for its lists, the banks for their tech loans); firms registered
# outside Wuxi rarely do. Most of the rest never recorded a choice. About 40 % share in all.
FORM_SHARE = {"cluster": 0.35, "outside_clusters": 0.15}
FORM_SOUGHT_QUALIFICATIONS = frozenset({"high_tech", "srdi_sme", "little_giant", "innovative_sme"})
FORM_SOUGHT_FACTOR = 1.75
FORM_OUTSIDE_WUXI_FACTOR = 0.3
FORM_DECLINED_SHARE = 0.08  # of the signed forms: "不同意向合作银行提供"
FORM_FIRST_DAY = date(2023, 3, 1)  # the office began collecting forms
FORM_AFTER_ESTABLISHED = 60  # days: a new firm signs up at the earliest this long after it opens
FORM_REF = "锡金融入库〔{year}〕{serial:04d}号"  # the serial is unique in the library, not per year
# Who recorded a form's choice, as the create path records the office acting without a key
# (``access.audit.SYSTEM.ref``; not imported, to keep the loader's worker processes light).
FORM_RECORDED_BY = "office"
# Key-project lists (重大/重点产业项目名单, published each spring): the larger projects of the
# landmark and advantage clusters, approved or under construction, of this year or earlier.
LISTED_TIERS = frozenset({"landmark", "advantage"})
LISTED_STATUSES = frozenset({"approved", "under_construction"})
# (at least this investment in 万元, chance of being listed, the list's title)
KEY_PROJECT_LISTS = (
    (100_000, 0.9, "{year}年无锡市重大产业项目名单"),  # 10亿元 and more
    (10_000, 0.75, "{year}年无锡市重点产业项目名单"),
    (3_000, 0.25, "{year}年无锡市重点产业项目名单"),
)

# --- small helpers --------------------------------------------------------------------------


class _Choice:
    """Weighted choice by bisection over cumulative weights (faster than Random.choices)."""

    __slots__ = ("items", "cum", "total")

    def __init__(self, pairs: Iterable[tuple[Any, float]]) -> None:
        pairs = [(item, w) for item, w in pairs if w > 0]
        if not pairs:
            raise ValueError("nothing to choose from")
        self.items = [item for item, _ in pairs]
        self.cum: list[float] = []
        total = 0.0
        for _, weight in pairs:
            total += weight
            self.cum.append(total)
        self.total = total

    def __call__(self, rng: Random) -> Any:
        return self.items[min(bisect(self.cum, rng.random() * self.total), len(self.items) - 1)]


def _pick(rng: Random, items: Sequence[Any]) -> Any:
    # Random.choice and Random.randint are several times slower; this matters at 500,000.
    return items[int(rng.random() * len(items))]


def _randint(rng: Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low + 1))


def _add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def expiry(issued: date, term_months: int | None) -> date | None:
    """Last day of validity: as the service computes it (issued + term − 1 day)."""
    if term_months is None:
        return None
    return _add_months(issued, term_months) - timedelta(days=1)


def _log_uniform(rng: Random, low: float, high: float, skew: float = 1.0) -> float:
    """Between low and high on a log scale; skew > 1 leans towards low."""
    if high <= low:
        return low
    return low * (high / low) ** (rng.random() ** skew)


def _wan_to_fen(wan: float) -> int:
    # Reported to 0.01 万元 (100 元).
    return math.floor(wan * 100) * (FEN_PER_WAN // 100)


def _amount_text(fen: int) -> str:
    wan = fen / FEN_PER_WAN
    if wan >= 10_000:
        return f"{wan / 10_000:.2f}".rstrip("0").rstrip(".") + "亿元"
    return f"{wan:.0f}万元"


# --- credit codes ---------------------------------------------------------------------------

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def org_check_character(body: str) -> str:
    """GB 11714 check character of an 8-character organisation code body."""
    total = sum(
        (int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, ORG_WEIGHTS, strict=True)
    )
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def _feistel(x: int, half: int, key: int) -> int:
    """A bijection of [0, half²): a 4-round Feistel network with modular addition."""
    left, right = divmod(x, half)
    for r in range(4):
        h = ((right + key + r * 0x9E3779B9) * 0x85EBCA6B) & 0xFFFFFFFF
        h ^= h >> 13
        left, right = right, (left + h) % half
    return left * half + right


def organisation_code(index: int, key: int, new_style: bool) -> str:
    """The 9-character organisation code of enterprise ``index``: a bijection of the index, so
    codes never repeat within a seed. Codes issued since the 2015 reform start with "MA"."""
    if not 0 <= index < MAX_ENTERPRISES:
        raise ValueError(f"index {index} outside the organisation-code space")
    if new_style:
        n = _feistel(index, 31**3, key)
        chars = []
        for _ in range(6):
            n, digit = divmod(n, 31)
            chars.append(USCC_ALPHABET[digit])
        body = "MA" + "".join(reversed(chars))
    else:
        body = f"{_feistel(index, 10**4, key):08d}"
    return body + org_check_character(body)


def credit_code(area_code: str, org_code: str) -> str:
    return with_check_character("91" + area_code + org_code)


# --- enterprises ----------------------------------------------------------------------------


def default_project_count(enterprises: int) -> int:
    return enterprises // 2 if enterprises <= DEMO_SIZE_LIMIT else enterprises // 3


class Generator:
    """Draws enterprises and their projects. Build once per run; ``library`` streams them."""

    def __init__(self, seed: int, reference: Reference | None = None, as_of: date = AS_OF) -> None:
        self.seed = seed
        self.reference = reference or load_reference()
        self.as_of = as_of
        ref = self.reference
        self.code_key = Random(f"finmatch-synth:{seed}:codes").getrandbits(32)
        known_clusters: set[str | None] = {c for c in ref.clusters if c in CLUSTER_INDUSTRIES}
        known_clusters.add(None)
        self.district_choice = _Choice((d, DISTRICT_WEIGHTS.get(d, 3)) for d in ref.district_areas)
        self.cluster_by_district = {
            d: _Choice(
                (c, w * DISTRICT_AFFINITY.get(d, {}).get(c, 1.0))
                for c, w in CLUSTER_WEIGHTS.items()
                if c in known_clusters
            )
            for d in ref.district_areas
        }
        self.cluster_anywhere = _Choice(
            (c, w) for c, w in CLUSTER_WEIGHTS.items() if c in known_clusters
        )
        self.industry_choice = {c: _Choice(CLUSTER_INDUSTRIES[c]) for c in known_clusters}
        self.size_row_of: dict[str, SizeRow | None] = {}
        self.bounds_of: dict[str, tuple[dict[str, dict[str, float]], list[str]]] = {}
        self.grades = [g for g, _ in GRADE_WEIGHTS]
        self.grade_choice = _Choice(enumerate(w for _, w in GRADE_WEIGHTS))
        self.jingkai_area = _Choice(JINGKAI_AREAS)
        self.quals = ref.qualification_terms
        self.ownership_codes = frozenset(ref.ownership_types)
        self.ownership_choice: dict[tuple[str, bool, bool], _Choice] = {}

    # size -------------------------------------------------------------------------------

    def _row(self, industry_code: str) -> SizeRow | None:
        if industry_code not in self.size_row_of:
            self.size_row_of[industry_code] = find_row(industry_code, self.reference.size_rows)
        return self.size_row_of[industry_code]

    def _bounds(self, industry_code: str) -> tuple[dict[str, dict[str, float]], list[str]]:
        """The lower bounds of the enterprise's size-table row, by indicator and class."""
        if industry_code in self.bounds_of:
            return self.bounds_of[industry_code]
        row = self._row(industry_code)
        bounds: dict[str, dict[str, float]] = {"employees": {}, "revenue": {}, "assets": {}}
        for t in row.thresholds if row is not None else ():
            if t.employees_min is not None:
                bounds["employees"][t.size_class] = t.employees_min
            if t.revenue_min_wan is not None:
                bounds["revenue"][t.size_class] = t.revenue_min_wan
            if t.assets_min_wan is not None:
                bounds["assets"][t.size_class] = t.assets_min_wan
        indicators = [i for i in (row.indicators if row else ()) if bounds[i].get("small")]
        self.bounds_of[industry_code] = (bounds, indicators)
        return bounds, indicators

    @staticmethod
    def size_mix(project_rate: float) -> tuple[_Choice, _Choice]:
        """Size mixes for enterprises without and with projects such that the whole library
        keeps SIZE_TARGET: P(has a project) ≈ 1 − e^(−rate) when owners are drawn uniformly."""
        q = 1 - math.exp(-project_rate) if project_rate > 0 else 0.0
        without = (
            {
                c: max(0.01, (SIZE_TARGET[c] - q * SIZE_WITH_PROJECTS[c]) / (1 - q))
                for c in SIZE_CLASSES
            }
            if q < 1
            else dict(SIZE_TARGET)
        )
        return _Choice(without.items()), _Choice(SIZE_WITH_PROJECTS.items())

    def _figures(self, rng: Random, industry_code: str, target: str) -> tuple[int, int, int]:
        """Employees, revenue and assets (fen) that place the enterprise in ``target`` under its
        row of the size table (read from the data, not hard-coded here)."""
        bounds, indicators = self._bounds(industry_code)
        # One position within the band for all indicators (figures move together), with noise.
        position = rng.random() ** (0.8 if target == "micro" else 1.4)
        # A micro enterprise needs only one indicator under the small line; often the others
        # are higher (a young firm with staff but little revenue).
        lifted = (
            _pick(rng, indicators)
            if target == "micro" and len(indicators) > 1 and rng.random() < 0.35
            else None
        )
        values: dict[str, float] = {}
        for indicator in indicators:
            b = bounds[indicator]
            band = "small" if indicator == lifted else target
            low, high = {
                "large": (b.get("large", b["small"] * 20), b.get("large", b["small"] * 20) * 5),
                "medium": (b.get("medium", b["small"]), b.get("large", b["small"] * 20)),
                "small": (b["small"], b.get("medium", b["small"] * 5)),
                "micro": (
                    max(1.0, b["small"] / 4) if indicator == "employees" else b["small"] / 6,
                    b["small"],
                ),
            }[band]
            p = min(1.0, max(0.0, position + rng.uniform(-0.25, 0.25)))
            values[indicator] = low * (high / low) ** (p**1.2)
        employees = values.get("employees")
        revenue = values.get("revenue")
        if employees is None:  # rows without employees (construction, real estate)
            base = revenue if revenue is not None else values.get("assets", 500.0)
            employees = max(1.0, base / _log_uniform(rng, 40, 200))
        if revenue is None:  # rows by employees only (R&D, services) or by assets (leasing)
            revenue = employees * _log_uniform(rng, 15, 120, 1.3)
        assets = values.get("assets")
        if assets is None:
            assets = revenue * _log_uniform(rng, 0.5, 2.2)
        return (max(1, int(employees)), _wan_to_fen(revenue), _wan_to_fen(assets))

    # names --------------------------------------------------------------------------------

    def _trade_name(self, rng: Random) -> str:
        if rng.random() < SHARED_TRADE_SHARE:
            return _pick(rng, SHARED_TRADE_NAMES)
        first = _pick(rng, TRADE_CHARS)
        second = _pick(rng, TRADE_CHARS)
        while second == first:
            second = _pick(rng, TRADE_CHARS)
        if rng.random() < 0.15:
            return first + second + _pick(rng, TRADE_CHARS)
        return first + second

    def _name(
        self,
        rng: Random,
        cluster: str | None,
        industry: str,
        district: str | None,
        outside_place: str | None,
        size: str,
    ) -> str:
        trade = self._trade_name(rng)
        if industry.startswith("F51"):
            word = TRADE_WORDS[cluster] + _pick(rng, ("贸易", "商贸", "供应链", "进出口", "销售"))
            forms: tuple[str, ...] = ("有限公司", "有限责任公司")
        elif industry.startswith("M73"):
            word = _pick(rng, CLUSTER_WORDS[cluster]).removesuffix("科技").removesuffix("技术")
            word += _pick(rng, ("研究院", "技术研究院", "技术研发", "科技研究"))
            forms = ("有限公司",)
        elif industry.startswith("M75"):
            word = _pick(rng, CLUSTER_WORDS[cluster]).removesuffix("科技").removesuffix("技术")
            word += _pick(rng, ("技术服务", "科技服务", "技术推广"))
            forms = ("有限公司",)
        else:
            word = _pick(rng, CLUSTER_WORDS[cluster])
            if size == "large":
                forms = ("股份有限公司", "集团有限公司", "有限公司", "股份有限公司")
            elif word.endswith(("科技", "技术")):
                forms = ("有限公司", "有限公司", "有限公司", "股份有限公司", "有限责任公司")
            else:
                forms = (
                    "有限公司",
                    "有限公司",
                    "有限公司",
                    "科技有限公司",
                    "股份有限公司",
                    "有限责任公司",
                )
        form = _pick(rng, forms)
        if outside_place is None and rng.random() < BRACKET_SHARE:
            return f"{trade}{word}（{_pick(rng, ('无锡', '无锡', '江阴', '宜兴'))}）{form}"
        if outside_place is not None:
            prefix = outside_place if rng.random() < 0.6 else ""
        elif district == "jiangyin" and rng.random() < 0.6:
            prefix = _pick(rng, ("江阴", "江阴市"))
        elif district == "yixing" and rng.random() < 0.6:
            prefix = _pick(rng, ("宜兴", "宜兴市"))
        else:
            r = rng.random()
            prefix = "无锡" if r < 0.45 else "无锡市" if r < 0.65 else ""
        return prefix + trade + word + form

    # qualifications -----------------------------------------------------------------------

    def _record(self, out: list[dict[str, Any]], code: str, issued: date, source: str) -> None:
        if code in self.quals:
            out.append(
                {
                    "type_code": code,
                    "issued_date": issued.isoformat(),
                    "expires_date": (
                        e.isoformat() if (e := expiry(issued, self.quals[code])) else None
                    ),
                    "source": source,
                }
            )

    def _cycles(
        self,
        rng: Random,
        out: list[dict[str, Any]],
        code: str,
        first_year: int,
        month_range: tuple[int, int],
        source: Any,
        keep: int | None = None,
        lapse: float = 0.2,
    ) -> None:
        """Recognitions every term (3 years) from ``first_year``, each renewal missed with
        probability ``lapse``; only the last ``keep`` are kept (by default the last, sometimes
        the one before too, as the office's lists record history)."""
        if keep is None:
            keep = 2 if rng.random() < 0.3 else 1
        term_years = max(1, (self.quals.get(code) or 36) // 12)
        records: list[date] = []
        year = first_year
        while True:
            issued = date(year, _randint(rng, *month_range), _randint(rng, 1, 28))
            if issued > self.as_of:
                break
            records.append(issued)
            year += term_years
            if rng.random() < lapse:
                break
        for issued in records[-keep:]:
            self._record(out, code, issued, source(issued.year))

    def _qualifications(
        self,
        rng: Random,
        cluster: str | None,
        industry: str,
        size: str,
        established: date,
        employees: int,
        revenue_fen: int,
        assets_fen: int,
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        year_now = self.as_of.year
        start = established.year + 1
        if start > year_now:
            return out
        sme = size != "large"
        tech = 1.0
        if cluster in TECH_CLUSTERS:
            tech = 1.35
        elif cluster == "textile" or cluster is None:
            tech = 0.45
        if industry.startswith("F51"):
            tech *= 0.12
        elif industry.startswith("M7"):
            tech *= 1.3
        manufacturing = industry.startswith("C")
        by_size = {"large": 1.15, "medium": 1.45, "small": 1.1, "micro": 0.55}[size]
        age = year_now - established.year

        def first(earliest: int) -> int:
            low = max(start, earliest)
            return _randint(rng, low, max(low, year_now))

        def once(code: str, earliest: int, source: Any) -> None:
            low = date(max(start, earliest), 1, 1)
            if low <= self.as_of:
                issued = low + timedelta(days=rng.randrange((self.as_of - low).days + 1))
                self._record(out, code, issued, source(issued.year))

        # 高新技术企业: recognised in the autumn batches, three-year certificates.
        high_tech = rng.random() < 0.36 * tech * by_size
        if high_tech:
            self._cycles(
                rng,
                out,
                "high_tech",
                first(2013),
                (10, 12),
                lambda y: f"江苏省{y}年第{_pick(rng, '一二三')}批高新技术企业名单",
            )
        # 科技型中小企业: evaluated every year; SMEs of ≤500 staff and ≤2亿 revenue and assets.
        small_enough = (
            employees <= 500
            and revenue_fen <= 20_000 * FEN_PER_WAN
            and assets_fen <= 20_000 * FEN_PER_WAN
        )
        if small_enough and rng.random() < (0.75 if high_tech else 0.33) * min(tech, 1.2):
            years = [y for y in (year_now - 1, year_now) if y >= start]
            kept = [y for y in years if rng.random() < 0.6] or years[-1:]
            for y in kept:
                self._record(
                    out,
                    "tech_sme",
                    date(y, _randint(rng, 3, 8), _randint(rng, 1, 28)),
                    f"{y}年江苏省科技型中小企业入库名单（第{_pick(rng, '一二三四')}批）",
                )
        # 优质中小企业梯度培育: 创新型 → 专精特新 → 小巨人.
        innovative = srdi = False
        if sme and rng.random() < (0.42 if high_tech else 0.1) * by_size * tech:
            innovative = True
            self._cycles(
                rng,
                out,
                "innovative_sme",
                first(2022),
                (4, 9),
                lambda y: f"江苏省{y}年创新型中小企业名单",
            )
        if sme and rng.random() < (0.55 if innovative else 0.05) * by_size * min(tech, 1.2):
            srdi = True
            self._cycles(
                rng,
                out,
                "srdi_sme",
                first(2018),
                (5, 11),
                lambda y: f"江苏省{y}年专精特新中小企业名单",
            )
        if sme and srdi and rng.random() < 0.2 * by_size:
            self._cycles(
                rng,
                out,
                "little_giant",
                first(2019),
                (6, 8),
                lambda y: (
                    f"工业和信息化部第{'一二三四五六七八九'[min(8, y - 2019)]}批"
                    "专精特新“小巨人”企业名单"
                ),
                lapse=0.1,
            )
        # 无锡市科技创新创业企业培育: 雏鹰 (young), 瞪羚 (growing fast), 准独角兽 (rare).
        if age <= 6 and rng.random() < 0.14 * tech:
            self._cycles(
                rng,
                out,
                "eaglet",
                first(2019),
                (9, 12),
                lambda y: f"无锡市{y}年度雏鹰企业名单",
                keep=1,
            )
        if 3 <= age <= 15 and rng.random() < 0.045 * tech * by_size:
            self._cycles(
                rng,
                out,
                "gazelle",
                first(2019),
                (9, 12),
                lambda y: f"无锡市{y}年度瞪羚企业名单",
                keep=1,
            )
        if age <= 12 and high_tech and rng.random() < 0.03 * tech:
            self._cycles(
                rng,
                out,
                "quasi_unicorn",
                first(2020),
                (9, 12),
                lambda y: f"无锡市{y}年度准独角兽企业名单",
                keep=1,
            )
        if (
            manufacturing
            and size in ("large", "medium")
            and rng.random() < (0.06 if size == "large" else 0.02)
        ):
            self._cycles(
                rng,
                out,
                "single_champion",
                first(2016),
                (11, 12),
                lambda y: (
                    f"工业和信息化部第{'一二三四五六七八九十'[min(9, y - 2016)]}批制造业单项冠军名单"
                ),
                keep=1,
                lapse=0.1,
            )
        # Green factories and technology centres: no fixed term (dynamically managed).
        if (
            manufacturing
            and rng.random() < {"large": 0.25, "medium": 0.08, "small": 0.02, "micro": 0.002}[size]
        ):
            once("green_factory_national", 2017, lambda y: f"工业和信息化部{y}年度绿色制造名单")
        if (
            manufacturing
            and rng.random() < {"large": 0.35, "medium": 0.15, "small": 0.04, "micro": 0.005}[size]
        ):
            once("green_factory_provincial", 2017, lambda y: f"江苏省{y}年度绿色工厂名单")
        if rng.random() < {"large": 0.35, "medium": 0.14, "small": 0.025, "micro": 0.003}[size] * (
            tech if not industry.startswith("F51") else 0
        ):
            once("tech_center", 2010, lambda y: f"江苏省{y}年省级企业技术中心认定名单")
        return out

    # contacts -----------------------------------------------------------------------------

    @staticmethod
    def _person(rng: Random) -> str:
        given = _pick(rng, GIVEN_CHARS)
        if rng.random() < 0.7:
            given += _pick(rng, GIVEN_CHARS)
        return _pick(rng, SURNAMES) + given

    def _contacts(self, rng: Random, org_code: str) -> list[dict[str, Any]]:
        contacts = []
        for i in range(1 if rng.random() < 0.6 else 2):
            if rng.random() < 0.55:
                phone = f"13{rng.randrange(10**9):09d}"
            else:
                phone = f"0510-8{rng.randrange(10**7):07d}"
            email = (
                f"{_pick(rng, EMAIL_LOCALS)}{i or ''}@{org_code[:8].lower()}.example.com"
                if rng.random() < 0.6
                else None
            )
            contacts.append(
                {
                    "name": self._person(rng),
                    "title": _pick(rng, PRIMARY_TITLES if i == 0 else OTHER_TITLES),
                    "phone": phone,
                    "email": email,
                    "is_primary": i == 0,
                }
            )
        return contacts

    # the enterprise -----------------------------------------------------------------------

    def _ownership(self, rng: Random, size: str, name: str, established: date) -> str | None:
        """Drawn from its own stream (``rng``), so that adding it changed no other value."""
        if not self.ownership_codes or rng.random() < UNKNOWN_OWNERSHIP_SHARE:
            return None
        key = (size, "（" in name, established.year < 1995)
        if key not in self.ownership_choice:
            weights = dict(OWNERSHIP_WEIGHTS[size])
            if key[1]:
                weights["foreign"] *= BRACKETED_INVESTED
                weights["hmt"] *= BRACKETED_INVESTED
            if key[2]:
                weights["state"] *= OLD_STATE
                weights["collective"] *= OLD_COLLECTIVE
            self.ownership_choice[key] = _Choice(
                (c, w) for c, w in weights.items() if c in self.ownership_codes
            )
        return self.ownership_choice[key](rng)

    def _consent(
        self,
        rng: Random,
        cluster: str | None,
        district: str | None,
        established: date,
        qualifications: list[dict[str, Any]],
        serial: int,
    ) -> dict[str, Any]:
        """The choice recorded from the enterprise's signed 入库申报 form (the fields of
        ``EnterpriseCreate``), or nothing when it never signed one. Drawn from its own stream
        (``rng``), three draws per enterprise whatever it decides, so that adding it changed no
        other value and one enterprise's odds do not move the next one's."""
        signs, declines, when = rng.random(), rng.random(), rng.random()
        chance = FORM_SHARE["cluster" if cluster else "outside_clusters"]
        if any(q["type_code"] in FORM_SOUGHT_QUALIFICATIONS for q in qualifications):
            chance *= FORM_SOUGHT_FACTOR
        if district is None:
            chance *= FORM_OUTSIDE_WUXI_FACTOR
        first = max(FORM_FIRST_DAY, established + timedelta(days=FORM_AFTER_ESTABLISHED))
        last = self.as_of - timedelta(days=1)
        if signs >= chance or first > last:
            return {}
        # More forms lately, as the office's campaign reached more enterprises.
        signed = first + timedelta(days=int((last - first).days * when**0.7))
        return {
            "share_with_banks": declines >= FORM_DECLINED_SHARE,
            "consent_form_ref": FORM_REF.format(year=signed.year, serial=serial),
            "consent_form_signed_on": signed.isoformat(),
        }

    def enterprise(
        self,
        rng: Random,
        index: int,
        size_choice: _Choice,
        ownership_rng: Random,
        consent_rng: Random,
        form_serial: int,
    ) -> dict[str, Any]:
        outside = rng.random() < OUTSIDE_SHARE
        if outside:
            area, place = _pick(rng, OUTSIDE_AREAS)
            district = None
            cluster = self.cluster_anywhere(rng)
        else:
            place = None
            district = self.district_choice(rng)
            cluster = self.cluster_by_district[district](rng)
            if rng.random() < CITY_LEVEL_SHARE:
                area = CITY_AREA
            else:
                area = self.reference.district_areas[district] or self.jingkai_area(rng)
        industry = self.industry_choice[cluster](rng)
        size = size_choice(rng)
        employees, revenue, assets = self._figures(rng, industry, size)
        age = int(rng.expovariate(1 / MEAN_AGE[size]))
        while age > LAST_YEAR - FIRST_YEAR:
            age = int(rng.expovariate(1 / MEAN_AGE[size]))
        established = date(LAST_YEAR - age, _randint(rng, 1, 12), _randint(rng, 1, 28))
        # Codes issued since the 2015 reform carry an "MA" organisation code.
        org = organisation_code(index, self.code_key, new_style=established.year >= 2016)
        grade = None
        if rng.random() >= UNRATED_SHARE:
            rank = self.grade_choice(rng) + GRADE_SHIFT[size]
            grade = self.grades[min(len(self.grades) - 1, max(0, rank))]
        name = self._name(rng, cluster, industry, district, place, size)
        ownership = self._ownership(ownership_rng, size, name, established)
        # Drawn in the order the fields are listed below (as before the consent was added).
        chain_tag = (
            f"{CHAIN_NAMES[cluster]}产业链"
            if cluster in CHAIN_NAMES and rng.random() < CHAIN_TAG_SHARE
            else None
        )
        qualifications = self._qualifications(
            rng, cluster, industry, size, established, employees, revenue, assets
        )
        contacts = self._contacts(rng, org)
        consent = self._consent(
            consent_rng, cluster, district, established, qualifications, form_serial
        )
        return {
            "credit_code": credit_code(area, org),
            "name": name,
            "district_code": district,
            "industry_code": industry,
            "cluster_code": cluster,
            "chain_tag": chain_tag,
            "employees": employees,
            "revenue_fen": revenue,
            "total_assets_fen": assets,
            "established_date": established.isoformat(),
            "credit_grade": grade,
            "ownership": ownership,
            **consent,
            "qualifications": qualifications,
            "contacts": contacts,
        }

    # projects -----------------------------------------------------------------------------

    def _listing(
        self, rng: Random, cluster: str | None, total_wan: float, year: int, status: str
    ) -> str | None:
        """The key-project list the project is on, if any. Drawn from its own stream (``rng``),
        one draw per project, so that adding it changed no other value."""
        draw = rng.random()
        if (
            self.reference.cluster_tiers.get(cluster or "") not in LISTED_TIERS
            or status not in LISTED_STATUSES
            or year > self.as_of.year  # next year's lists are not out yet
        ):
            return None
        for least_wan, chance, title in KEY_PROJECT_LISTS:
            if total_wan >= least_wan:
                return title.format(year=year) if draw < chance else None
        return None

    def project(
        self, rng: Random, enterprise: dict[str, Any], taken: set[str], listing_rng: Random
    ) -> dict[str, Any]:
        cluster = enterprise["cluster_code"]
        revenue_wan = enterprise["revenue_fen"] / FEN_PER_WAN
        software = (enterprise["industry_code"] or "").startswith(("I", "M", "F"))
        kinds = (
            (("rnd", 4), ("intelligent_digital", 3), ("new_build", 1.5), ("other", 1))
            if software
            else (
                ("capacity_expansion", 4),
                ("tech_transformation", 4),
                ("intelligent_digital", 3),
                ("rnd", 1.5),
                ("green_upgrade", 1.2),
                ("new_build", 1.5),
                ("other", 0.4),
            )
        )
        for attempt in range(6):
            kind = _Choice(kinds)(rng)
            name = _project_name(rng, cluster, kind)
            if attempt >= 3:
                name = name.removesuffix("项目") + (
                    "（二期）项目" if attempt == 3 else f"（{'三四五'[attempt - 4]}期）项目"
                )
            if name not in taken:
                break
        taken.add(name)
        # Investment scales with the enterprise: from a fraction of a micro firm's revenue up to
        # a few times a large firm's.
        total_wan = revenue_wan * _log_uniform(rng, 0.2, 2.5, 1.3) + _log_uniform(
            rng, 300, 3000, 1.5
        )
        total_wan = min(total_wan, 500_000.0)
        total_wan = round(total_wan / 10) * 10 if total_wan < 10_000 else round(total_wan, -2)
        equipment_share = {
            "rnd": (0.15, 0.45),
            "green_upgrade": (0.5, 0.85),
            "tech_transformation": (0.5, 0.85),
            "intelligent_digital": (0.4, 0.75),
        }.get(kind, (0.3, 0.7))
        equipment_wan = round(total_wan * rng.uniform(*equipment_share), -1)
        need_wan = round(total_wan * rng.uniform(0.2, 0.6), -1) if rng.random() < 0.85 else None
        year = _Choice(((2024, 1.5), (2025, 3), (2026, 3.5), (2027, 2)))(rng)
        if year <= self.as_of.year - 1:
            status = _Choice(
                (("under_construction", 5), ("completed", 3), ("approved", 1), ("suspended", 0.4))
            )(rng)
        elif year == self.as_of.year:
            status = _Choice(
                (("approved", 4), ("under_construction", 4), ("planned", 2), ("suspended", 0.2))
            )(rng)
        else:
            status = _Choice((("planned", 6), ("approved", 3)))(rng)
        place = enterprise["district_code"]
        where = DISTRICT_NAMES.get(place, "无锡市") if place else "无锡市"
        sales_wan = round(total_wan * rng.uniform(0.8, 2.5), -2)
        description = (
            f"项目建设地点位于{where}，总投资{_amount_text(_wan_to_fen(total_wan))}，"
            f"其中设备投资{_amount_text(_wan_to_fen(equipment_wan))}，"
            f"{KIND_TEXT[kind]}，项目达产后预计新增年销售收入"
            f"{_amount_text(_wan_to_fen(max(sales_wan, 100)))}。"
        )
        return {
            "enterprise_credit_code": enterprise["credit_code"],
            "name": name,
            "kind": ProjectKind(kind).value,
            "cluster_code": cluster,
            "total_investment_fen": _wan_to_fen(total_wan),
            "equipment_investment_fen": _wan_to_fen(equipment_wan),
            "financing_need_fen": _wan_to_fen(need_wan) if need_wan else None,
            "year": year,
            "status": ProjectStatus(status).value,
            "listed_in": self._listing(listing_rng, cluster, total_wan, year, status),
            "description": description,
        }

    # the library --------------------------------------------------------------------------

    @staticmethod
    def project_counts(enterprises: int, projects: int, seed: int) -> array:
        """Projects per enterprise: owners drawn uniformly, so the total is exact."""
        if enterprises > MAX_ENTERPRISES:
            raise ValueError(f"at most {MAX_ENTERPRISES} enterprises per seed")
        owners = Random(f"finmatch-synth:{seed}:owners")
        counts = array("H", bytes(2 * enterprises))
        for _ in range(projects if enterprises else 0):
            counts[owners.randrange(enterprises)] += 1
        return counts

    def chunk(
        self, number: int, counts: Sequence[int], mix: tuple[_Choice, _Choice]
    ) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
        """Enterprises CHUNK × number … with their projects (``counts`` of them each). Every
        chunk has its own random streams, so chunks can be drawn in any order or in parallel
        processes and the library stays the same."""
        rng = Random(f"finmatch-synth:{self.seed}:enterprises:{number}")
        project_rng = Random(f"finmatch-synth:{self.seed}:projects:{number}")
        ownership_rng = Random(f"finmatch-synth:{self.seed}:ownership:{number}")
        consent_rng = Random(f"finmatch-synth:{self.seed}:consent:{number}")
        listing_rng = Random(f"finmatch-synth:{self.seed}:listing:{number}")
        # Form serials: the chunk's block of CHUNK numbers, shuffled, so that they are unique in
        # the library without following the order of the credit codes.
        serials = list(range(number * CHUNK + 1, (number + 1) * CHUNK + 1))
        consent_rng.shuffle(serials)
        without, with_projects = mix
        out = []
        for offset, k in enumerate(counts):
            enterprise = self.enterprise(
                rng,
                number * CHUNK + offset,
                with_projects if k else without,
                ownership_rng,
                consent_rng,
                serials[offset],
            )
            taken: set[str] = set()
            projects = [self.project(project_rng, enterprise, taken, listing_rng) for _ in range(k)]
            out.append((enterprise, projects))
        return out

    def library(
        self, enterprises: int, projects: int
    ) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
        """Yield (enterprise, its projects) for every index, in order. An enterprise that has
        projects leans larger (see size_mix)."""
        counts = self.project_counts(enterprises, projects, self.seed)
        mix = self.size_mix(projects / enterprises if enterprises else 0)
        for number in range(math.ceil(enterprises / CHUNK)):
            yield from self.chunk(number, counts[number * CHUNK : (number + 1) * CHUNK], mix)


DISTRICT_NAMES = {
    "liangxi": "无锡市梁溪区",
    "xishan": "无锡市锡山区",
    "huishan": "无锡市惠山区",
    "binhu": "无锡市滨湖区",
    "xinwu": "无锡市新吴区",
    "jiangyin": "江阴市",
    "yixing": "宜兴市",
    "jingkai": "无锡经济开发区",
}
KIND_TEXT = {
    "capacity_expansion": "新建生产线并购置关键生产设备，扩大产能",
    "tech_transformation": "对现有生产线实施技术改造，更新主要工艺装备",
    "intelligent_digital": "建设数字化车间，引入MES、工业机器人和智能检测设备",
    "rnd": "建设研发中心，购置研发检测仪器，开展关键技术攻关",
    "green_upgrade": "实施节能降碳改造，建设屋顶分布式光伏和余热回收系统",
    "new_build": "新征用地建设厂房及配套设施",
    "other": "建设检测及配套服务设施",
}
# Products (with a unit and an annual quantity range) per cluster, for project names.
CLUSTER_PRODUCTS: dict[str | None, tuple[tuple[str, str | None, int, int], ...]] = {
    "iot": (
        ("智能传感器", "万只", 100, 5000),
        ("物联网通信模组", "万片", 50, 2000),
        ("工业物联网网关", "万台", 1, 50),
        ("智能电表", "万台", 10, 300),
    ),
    "ic": (
        ("12英寸晶圆级封装", "万片", 6, 60),
        ("功率半导体器件", "亿只", 1, 30),
        ("集成电路封装测试", "亿块", 5, 80),
        ("MEMS传感器芯片", "亿颗", 1, 20),
    ),
    "biomed": (
        ("高端医用耗材", "万件", 100, 5000),
        ("体外诊断试剂", "万人份", 100, 10000),
        ("特色原料药", "吨", 10, 500),
        ("医学影像设备", "台", 100, 2000),
    ),
    "software": (
        ("工业互联网平台", None, 0, 0),
        ("智慧园区管理系统", None, 0, 0),
        ("企业数字化SaaS平台", None, 0, 0),
        ("行业大数据中心", None, 0, 0),
    ),
    "hi_equip": (
        ("高档数控机床", "台", 100, 3000),
        ("工业机器人", "台", 200, 5000),
        ("高端液压元件", "万件", 10, 500),
        ("精密轴承", "万套", 50, 2000),
        ("大型精密锻件", "吨", 1000, 50000),
    ),
    "textile": (
        ("功能性面料", "万米", 500, 10000),
        ("差别化纤维", "万吨", 1, 30),
        ("高档服装", "万件", 50, 1000),
        ("医用非织造布", "吨", 500, 20000),
    ),
    "eco_env": (
        ("污水处理成套设备", "台套", 50, 1000),
        ("烟气脱硝催化剂", "立方米", 1000, 20000),
        ("膜分离装备", "套", 100, 2000),
        ("危险废物资源化利用", "吨", 5000, 100000),
    ),
    "new_material": (
        ("特种合金钢", "万吨", 1, 50),
        ("高性能碳纤维复合材料", "吨", 100, 5000),
        ("电子级化学品", "吨", 1000, 30000),
        ("精密钢丝绳", "万吨", 1, 20),
    ),
    "new_energy": (
        ("高效光伏组件", "GW", 1, 10),
        ("锂电池正极材料", "万吨", 1, 10),
        ("储能变流器", "万台", 1, 20),
        ("高压电力电缆", "公里", 500, 10000),
    ),
    "auto": (
        ("新能源汽车电驱系统", "万套", 5, 100),
        ("汽车轻量化铝合金结构件", "万件", 50, 1000),
        ("汽车热管理系统总成", "万套", 10, 200),
        ("新能源汽车高压线束", "万套", 10, 300),
    ),
    "ai_meta": (
        ("服务机器人", "台", 500, 20000),
        ("机器视觉检测系统", "套", 100, 5000),
        ("人工智能算力平台", None, 0, 0),
    ),
    "quantum": (("量子精密测量仪器", "台", 10, 500), ("单光子探测器", "台", 50, 2000)),
    "semi3": (("6英寸碳化硅外延片", "万片", 1, 30), ("氮化镓功率器件", "万颗", 500, 10000)),
    "hydrogen": (
        ("氢燃料电池电堆", "套", 500, 10000),
        ("碱性电解槽", "台", 50, 1000),
        ("工商业储能系统", "MWh", 100, 5000),
    ),
    "deep_sea": (("海工装备关键部件", "套", 50, 1000), ("船用配套设备", "台套", 100, 3000)),
    None: (("金属结构件", "吨", 1000, 50000), ("塑料制品", "吨", 1000, 30000)),
}


def _quantity(rng: Random, low: int, high: int) -> int:
    value = _log_uniform(rng, low, high)
    magnitude = 10 ** max(0, int(math.log10(value)) - 1)
    return max(low, int(value // magnitude * magnitude))


def _project_name(rng: Random, cluster: str | None, kind: str) -> str:
    product, unit, low, high = _pick(rng, CLUSTER_PRODUCTS.get(cluster, CLUSTER_PRODUCTS[None]))
    if unit is None:  # platforms and systems have no annual output
        return _pick(
            rng,
            (
                f"{product}研发及产业化项目",
                f"{product}建设项目",
                f"新一代{product}研发项目",
                f"{product}升级改造项目",
            ),
        )
    if kind == "capacity_expansion":
        return _pick(
            rng,
            (
                f"年产{_quantity(rng, low, high)}{unit}{product}扩产项目",
                f"{product}产能提升项目",
                f"新增年产{_quantity(rng, low, high)}{unit}{product}生产线项目",
            ),
        )
    if kind == "tech_transformation":
        return _pick(rng, (f"{product}生产线技术改造项目", f"{product}产线升级改造项目"))
    if kind == "intelligent_digital":
        return _pick(
            rng,
            (
                f"{product}智能化改造数字化转型项目",
                f"{product}智能工厂建设项目",
                f"{product}数字化车间建设项目",
            ),
        )
    if kind == "rnd":
        return _pick(rng, (f"{product}研发中心建设项目", f"新一代{product}研发及产业化项目"))
    if kind == "green_upgrade":
        return _pick(rng, (f"{product}生产线绿色化改造项目", "厂区分布式光伏及节能降碳改造项目"))
    if kind == "new_build":
        return _pick(
            rng,
            (
                f"年产{_quantity(rng, low, high)}{unit}{product}新建项目",
                f"{product}产业化基地建设项目",
            ),
        )
    return f"{product}检测中心建设项目"


def generate_library(
    enterprises: int,
    projects: int | None,
    seed: int,
    reference: Reference | None = None,
    as_of: date = AS_OF,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The whole library in memory (for files and tests); ``bulk_load`` streams instead."""
    if projects is None:
        projects = default_project_count(enterprises)
    generator = Generator(seed, reference, as_of)
    out_enterprises: list[dict[str, Any]] = []
    out_projects: list[dict[str, Any]] = []
    for enterprise, its_projects in generator.library(enterprises, projects):
        out_enterprises.append(enterprise)
        out_projects.extend(its_projects)
    return out_enterprises, out_projects


def generate_enterprises(
    n: int, seed: int, reference: Reference | None = None, as_of: date = AS_OF
) -> list[dict[str, Any]]:
    return generate_library(n, 0, seed, reference, as_of)[0]


# --- products -------------------------------------------------------------------------------

PRODUCT_CATEGORIES = (
    ("credit", 30),
    ("guaranteed", 15),
    ("mortgage_pledge", 15),
    ("ip_pledge", 8),
    ("equipment", 12),
    ("supply_chain", 10),
    ("risk_compensation", 8),
    ("bridge_fund", 2),
)
PRODUCT_NAMES = {
    "credit": ("科创信用贷", "专精特新贷", "税e融", "快易贷", "科技信用贷", "小微e贷", "研发贷"),
    "guaranteed": ("信保贷", "担保快贷", "锡信贷", "助保贷"),
    "mortgage_pledge": ("厂房抵押贷", "抵押经营贷", "存单质押贷", "股权质押贷"),
    "ip_pledge": ("知识产权质押贷", "专利贷", "商标质押贷"),
    "equipment": ("技改贷", "设备更新贷", "智改数转贷", "绿色技改贷"),
    "supply_chain": ("链融通", "订单贷", "应收账款融资", "票据e贴"),
    "risk_compensation": ("锡科贷", "苏科贷", "科技风险补偿贷"),
    "bridge_fund": ("转贷应急资金",),
}
NAME_VARIANTS = ("", "", "", "·成长版", "·升级版", "2.0", "·园区版", "·首贷版")
COLLATERAL = {
    "credit": (("none",),),
    "guaranteed": (("guarantee",),),
    "mortgage_pledge": (("property",), ("property", "receivables")),
    "ip_pledge": (("ip",),),
    "equipment": (("equipment",), ("equipment", "property")),
    "supply_chain": (("receivables",),),
    "risk_compensation": (("none",), ("guarantee",)),
    "bridge_fund": (("none",),),
}
PURPOSES = {
    "credit": (("working_capital",), ("working_capital", "rnd")),
    "guaranteed": (("working_capital",),),
    "mortgage_pledge": (("working_capital",), ("working_capital", "project")),
    "ip_pledge": (("working_capital", "rnd"),),
    "equipment": (("equipment",), ("equipment", "project")),
    "supply_chain": (("trade", "working_capital"),),
    "risk_compensation": (("working_capital", "rnd"),),
    "bridge_fund": (("bridge", "renewal"),),
}
AMOUNT_MAX_WAN = {
    "credit": (100, 3000),
    "guaranteed": (100, 1000),
    "mortgage_pledge": (500, 10000),
    "ip_pledge": (100, 3000),
    "equipment": (500, 20000),
    "supply_chain": (100, 5000),
    "risk_compensation": (200, 2000),
}
TERM_MAX = {
    "credit": (12, 36),
    "guaranteed": (12, 36),
    "mortgage_pledge": (12, 60),
    "ip_pledge": (12, 36),
    "equipment": (24, 96),
    "supply_chain": (3, 12),
    "risk_compensation": (12, 36),
}
QUALIFICATION_POOL = (
    "tech_sme",
    "high_tech",
    "innovative_sme",
    "srdi_sme",
    "little_giant",
    "gazelle",
    "eaglet",
)
# The rules matching reads besides the eligibility above (scoring configuration version 2):
# drawn from a stream of their own, so every other generated value stays as it was.
COUNTY_BANK_REGION = {"jyrcb": "320281", "yxrcb": "320282"}  # a county bank's products
COUNTY_BANK_LOCAL_SHARE = 0.8  # of a county bank's products, those for its county only
LOCAL_REGIONS = ((["320281"], 3), (["320282"], 2), (["3202"], 1))  # another bank's local product
LOCAL_SHARE = 0.03
# Industries a category is made for (industries_targeted), and how often it says so.
TARGETED_BY_CATEGORY: dict[str, tuple[float, tuple[list[str], ...]]] = {
    "equipment": (0.5, (["C"],)),
    "ip_pledge": (0.4, (["C", "I", "M"], ["C", "M"])),
    "supply_chain": (0.4, (["C", "F"],)),
}
TARGETED_OTHER = (0.1, (["C"], ["I", "M"], ["C39", "C38"], ["C34", "C35"], ["C27", "C40"]))
# Only these industries (industries_included): medium- and long-term manufacturing loans.
INCLUDED_BY_CATEGORY = {"equipment": 0.15}
INCLUDED_OTHER = 0.03
INCLUDED_CHOICES = (["C"], ["C", "I", "M"])
# Ownership restrictions: products for 民营企业 (私人 and 集体控股), a few for foreign- and
# HMT-invested firms.
OWNERSHIP_RULES = ((["private", "collective"], 5), (["private"], 1), (["foreign", "hmt"], 1))
OWNERSHIP_SHARE = 0.07
# Energy-intensive industries (两高) a bank's credit policy keeps out: 石油加工, 化工, 建材, 钢铁,
# 有色 (the exclusions drawn above match none of the synthetic library's industries).
HEAVY_INDUSTRIES = ("C25", "C26", "C30", "C31", "C32")
HEAVY_EXCLUDED_SHARE = 0.06
OTHER_CONDITIONS = (
    "无不良信用记录",
    "纳税信用等级B级及以上",
    "实际控制人从业经验3年以上",
    "近两年无重大违法违规记录",
    "在本行开立基本结算账户",
)


def generate_products(
    p: int,
    bank_codes: Sequence[str],
    seed: int,
    *,
    fund_codes: Sequence[str] = (),
    reference: Reference | None = None,
    as_of: date = AS_OF,
) -> Iterator[dict[str, Any]]:
    """ProductCreate-shaped dicts "synth-000001" …: banks' own products and policy schemes with
    varied eligibility. Bridge-fund products go to ``fund_codes`` (none when empty)."""
    if not bank_codes:
        raise ValueError("products need at least one bank code")
    ref = reference or load_reference()
    rng = Random(f"finmatch-synth:{seed}:products")
    rules_rng = Random(f"finmatch-synth:{seed}:product-rules")
    clusters = list(ref.clusters)
    districts = list(ref.district_areas)
    quals = [q for q in QUALIFICATION_POOL if q in ref.qualification_terms]
    category_choice = _Choice(
        (c, w) for c, w in PRODUCT_CATEGORIES if c != "bridge_fund" or fund_codes
    )
    for i in range(p):
        category = category_choice(rng)
        if category == "bridge_fund":
            yield _bridge_fund_product(rng, i, _pick(rng, fund_codes), as_of)
            continue
        theme = _pick(rng, PRODUCT_NAMES[category])
        scheme = {
            "锡科贷": "xikedai",
            "苏科贷": "sukedai",
            "锡信贷": "xixindai",
            "专精特新贷": "zhuanjingtexin",
        }.get(theme, "own")
        eligibility: dict[str, Any] = {}
        n_clusters = _Choice(((0, 50), (1, 20), (2, 15), (3, 10), (4, 5)))(rng)
        if n_clusters and clusters:
            eligibility["clusters_included"] = rng.sample(clusters, min(n_clusters, len(clusters)))
        elif rng.random() < 0.1:
            eligibility["tiers"] = _pick(rng, (["landmark"], ["landmark", "advantage"]))
        if not n_clusters and clusters and rng.random() < 0.05:
            eligibility["clusters_excluded"] = [_pick(rng, clusters)]
        eligibility["size_classes"] = _Choice(
            (
                (["medium", "small", "micro"], 60),
                (["small", "micro"], 15),
                ([], 15),
                (["large", "medium"], 10),
            )
        )(rng)
        if scheme in ("xikedai", "sukedai"):
            eligibility["qualifications_any"] = [q for q in ("tech_sme", "high_tech") if q in quals]
        elif scheme == "zhuanjingtexin":
            eligibility["qualifications_any"] = [
                q for q in ("little_giant", "srdi_sme") if q in quals
            ]
        elif quals and rng.random() < 0.3:
            eligibility["qualifications_any"] = rng.sample(quals, _randint(rng, 1, 3))
        if quals and rng.random() < 0.03:
            eligibility["qualifications_all"] = ["high_tech"] if "high_tech" in quals else []
        if rng.random() < 0.5:
            eligibility["min_years_in_business"] = _pick(rng, (1, 2, 2, 3))
        if rng.random() < 0.3:
            eligibility["revenue_min_fen"] = _pick(rng, (100, 500, 1000, 2000)) * FEN_PER_WAN
        if scheme == "sukedai" or rng.random() < 0.15:
            eligibility["revenue_max_fen"] = _pick(rng, (5000, 20000, 40000)) * FEN_PER_WAN
        if rng.random() < 0.6:
            eligibility["min_credit_grade"] = _pick(
                rng, ("BBB-", "BBB", "BBB+", "A-", "A", "BB+", "BB")
            )
        if districts and rng.random() < 0.08:
            eligibility["districts"] = rng.sample(districts, _randint(rng, 1, 2))
        if rng.random() < 0.5:
            eligibility["registered_in_wuxi"] = True
        if rng.random() < 0.1:
            eligibility["industries_excluded"] = rng.sample(
                ["K", "C25", "C3110", "C3120", "B"], _randint(rng, 1, 2)
            )
        if rng.random() < 0.2:
            eligibility["other"] = rng.sample(OTHER_CONDITIONS, _randint(rng, 1, 2))
        low_max, high_max = AMOUNT_MAX_WAN[category]
        amount_max = int(_log_uniform(rng, low_max, high_max) // 10 * 10)
        amount_min = _pick(rng, (None, 10, 50, 100))
        if amount_min is not None:
            amount_min = min(amount_min, amount_max)
        term_low, term_high = TERM_MAX[category]
        term_max = _pick(
            rng,
            [t for t in (3, 6, 12, 24, 36, 48, 60, 72, 84, 96) if term_low <= t <= term_high]
            or [term_high],
        )
        term_min = _pick(rng, [t for t in (1, 3, 6, 12) if t <= term_max])
        rate = _rate(rng, category, term_max, amount_max)
        effective_from = as_of - timedelta(days=_randint(rng, 0, 700))
        effective_to = (
            _add_months(effective_from, _pick(rng, (12, 24, 36))) if rng.random() < 0.2 else None
        )
        fees = []
        if category == "guaranteed" and rng.random() < 0.5:
            fees.append(
                {
                    "code": "guarantee_fee",
                    "name": "担保费",
                    "basis": "bp_per_year",
                    "bp": _pick(rng, (50, 80, 100, 150)),
                    "note": "由合作担保公司收取",
                }
            )
        cluster_note = ""
        if len(eligibility.get("clusters_included", [])) == 1 and rng.random() < 0.5:
            cluster_note = "（产业集群专项）"
        name = theme + _pick(rng, NAME_VARIANTS) + cluster_note
        bank_code = _pick(rng, bank_codes)
        eligibility.update(_matching_rules(rules_rng, category, scheme, bank_code, eligibility))
        yield {
            "code": f"synth-{i + 1:06d}",
            "bank_code": bank_code,
            "name": name,
            "category": category,
            "scheme": scheme,
            "description": (
                f"{name}：面向无锡市中小企业的{CATEGORY_TEXT[category]}，"
                f"单户最高{_amount_text(amount_max * FEN_PER_WAN)}，"
                f"期限最长{term_max}个月。（合成数据，仅用于测试与性能评估）"
            ),
            "eligibility": eligibility,
            "amount_min_fen": amount_min * FEN_PER_WAN if amount_min is not None else None,
            "amount_max_fen": amount_max * FEN_PER_WAN,
            "term_unit": "month",
            "term_min": term_min,
            "term_max": term_max,
            "rate": rate,
            "collateral_types": list(_pick(rng, COLLATERAL[category])),
            "purposes": list(_pick(rng, PURPOSES[category])),
            "fees": fees,
            "effective_from": effective_from.isoformat(),
            "effective_to": effective_to.isoformat() if effective_to else None,
            "is_sample": True,
            "source": "合成数据（finmatch synth）",
        }


def _matching_rules(
    rng: Random, category: str, scheme: str, bank_code: str, eligibility: dict[str, Any]
) -> dict[str, Any]:
    """Regions, target, included and further excluded industries and ownership types of one
    product with ``eligibility`` so far, drawn from ``rng`` (the product-rules stream)."""
    out: dict[str, Any] = {}
    county = COUNTY_BANK_REGION.get(bank_code)
    if scheme == "sukedai":
        out["regions"] = ["32"]  # a provincial scheme: enterprises registered in Jiangsu
    elif county and rng.random() < COUNTY_BANK_LOCAL_SHARE:
        out["regions"] = [county]
    elif rng.random() < LOCAL_SHARE:
        out["regions"] = _Choice(LOCAL_REGIONS)(rng)
    if rng.random() < INCLUDED_BY_CATEGORY.get(category, INCLUDED_OTHER):
        out["industries_included"] = _pick(rng, INCLUDED_CHOICES)
    else:
        share, choices = TARGETED_BY_CATEGORY.get(category, TARGETED_OTHER)
        if rng.random() < share:
            out["industries_targeted"] = _pick(rng, choices)
    if rng.random() < HEAVY_EXCLUDED_SHARE:
        excluded = eligibility.get("industries_excluded", [])
        heavy = rng.sample(HEAVY_INDUSTRIES, _randint(rng, 2, len(HEAVY_INDUSTRIES)))
        out["industries_excluded"] = excluded + [c for c in heavy if c not in excluded]
    if scheme == "own" and rng.random() < OWNERSHIP_SHARE:
        out["ownership_types"] = _Choice(OWNERSHIP_RULES)(rng)
    return out


CATEGORY_TEXT = {
    "credit": "信用贷款",
    "guaranteed": "担保贷款",
    "mortgage_pledge": "抵质押贷款",
    "ip_pledge": "知识产权质押贷款",
    "equipment": "设备更新与技术改造贷款",
    "supply_chain": "供应链融资",
    "risk_compensation": "风险补偿资金池贷款",
    "bridge_fund": "转贷应急资金",
}


def _rate(rng: Random, category: str, term_max: int, amount_max_wan: int) -> dict[str, Any]:
    if rng.random() < 0.1:
        return {"base": "FIXED", "fixed_rate_bp": _randint(rng, 28, 52) * 10}
    base = "LPR5Y" if category == "equipment" and term_max > 60 else "LPR1Y"
    spread = int(_log_uniform(rng, 10, 260, 1.5)) - 30
    spread -= spread % 5
    rate: dict[str, Any] = {"base": base, "spread_bp": spread}
    if amount_max_wan > 500 and rng.random() < 0.2:
        rate["tiers"] = [
            {"amount_max_fen": 500 * FEN_PER_WAN, "spread_bp": spread},
            {"amount_min_fen": 500 * FEN_PER_WAN, "spread_bp": spread - 20},
        ]
        rate["note"] = "500万元以上部分利率优惠"
    return rate


def _bridge_fund_product(rng: Random, i: int, bank_code: str, as_of: date) -> dict[str, Any]:
    # The city's 转贷应急资金 terms (DOMAIN.md §3): ≤ 10 days, 0.2‰/day then 0.4‰/day.
    return {
        "code": f"synth-{i + 1:06d}",
        "bank_code": bank_code,
        "name": "转贷应急资金" + _pick(rng, NAME_VARIANTS),
        "category": "bridge_fund",
        "scheme": "bridge_fund",
        "description": "为银行已承诺续贷的中小微企业提供短期过桥资金。（合成数据）",
        "eligibility": {
            "size_classes": ["medium", "small", "micro"],
            "registered_in_wuxi": True,
            "min_credit_grade": "B-",
        },
        "amount_min_fen": None,
        "amount_max_fen": _pick(rng, (1000, 2000, 5000)) * FEN_PER_WAN,
        "term_unit": "day",
        "term_min": 1,
        "term_max": 10,
        "rate": {"base": "NONE"},
        "collateral_types": ["none"],
        "purposes": ["bridge", "renewal"],
        "fees": [
            {
                "code": "usage_fee",
                "name": "资金使用费",
                "basis": "bp_per_day",
                "tiers": [
                    {"from_day": 1, "to_day": 2, "bp_per_day": 2},
                    {"from_day": 3, "bp_per_day": 4},
                ],
            }
        ],
        "effective_from": (as_of - timedelta(days=_randint(rng, 0, 700))).isoformat(),
        "effective_to": None,
        "is_sample": True,
        "source": "合成数据（finmatch synth）",
    }


# --- loading --------------------------------------------------------------------------------

ENTERPRISE_COLUMNS = (
    "id",
    "credit_code",
    "name",
    "name_normalized",
    "district_code",
    "industry_code",
    "cluster_code",
    "chain_tag",
    "employees",
    "revenue_fen",
    "total_assets_fen",
    "established_date",
    "credit_grade",
    "ownership",
    "share_with_banks",
    "consent_source",
    "consent_recorded_by",
    "consent_recorded_at",
    "consent_form_ref",
    "consent_form_signed_on",
    "registered_area_code",
    "registered_in_wuxi",
    "size_class",
    "size_industry_key",
    "version",
    "created_at",
    "updated_at",
)
QUALIFICATION_COLUMNS = (
    "enterprise_id",
    "type_code",
    "issued_date",
    "expires_date",
    "source",
    "created_at",
)
CONTACT_COLUMNS = ("enterprise_id", "name", "title", "phone", "email", "is_primary")
PROJECT_COLUMNS = (
    "enterprise_id",
    "name",
    "kind",
    "cluster_code",
    "total_investment_fen",
    "equipment_investment_fen",
    "financing_need_fen",
    "year",
    "status",
    "listed_in",
    "description",
    "version",
    "created_at",
    "updated_at",
)


class NotSeeded(RuntimeError):
    """The reference data the loader needs is missing."""


def _check_reference(conn: Connection, need_banks: bool) -> None:
    tables = [
        "cluster",
        "district",
        "qualification_type",
        "ownership_type",
        "size_industry",
        "size_threshold",
    ]
    if need_banks:
        tables.append("bank")
    empty = [t for t in tables if not conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar()]
    if empty:
        raise NotSeeded(
            f"参考数据缺失（{', '.join(empty)} 表为空）：请先运行 `finmatch seed`。"
            f" Reference data missing (empty: {', '.join(empty)}); "
            "run `finmatch seed` first."
        )


def _existing_codes(conn: Connection, codes: list[str], sqlite: bool) -> set[str]:
    if not sqlite:
        return set(
            conn.execute(
                text("SELECT credit_code FROM enterprise WHERE credit_code = ANY(:codes)"),
                {"codes": codes},
            ).scalars()
        )
    found: set[str] = set()
    for i in range(0, len(codes), 500):
        chunk = codes[i : i + 500]
        params = {f"c{j}": c for j, c in enumerate(chunk)}
        marks = ", ".join(f":c{j}" for j in range(len(chunk)))
        found.update(
            conn.execute(
                text(f"SELECT credit_code FROM enterprise WHERE credit_code IN ({marks})"), params
            ).scalars()
        )
    return found


def _reserve_ids(conn: Connection, table: str, n: int, sqlite: bool) -> list[int]:
    if sqlite:
        # Inside the batch's write transaction; a concurrent writer would make our commit fail
        # (SQLite serialises writers), never duplicate an id.
        top = conn.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")).scalar() or 0
        return list(range(top + 1, top + 1 + n))
    # Each nextval is ours alone even with concurrent inserts.
    return list(
        conn.execute(
            text(
                f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, :n)"
            ),
            {"n": n},
        ).scalars()
    )


def _copy(conn: Connection, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    if not rows:
        return
    driver = conn.connection.driver_connection  # psycopg 3, in this transaction
    assert driver is not None
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with driver.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def _executemany(conn: Connection, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    if not rows:
        return
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    conn.exec_driver_sql(sql, [tuple(_sqlite_value(v) for v in row) for row in rows])


def _sqlite_value(value: Any) -> Any:
    # The format SQLAlchemy's SQLite DateTime and Date types write and read.
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _progress(enabled: bool) -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task: Any) -> Text:
            return Text(f"{task.speed:,.0f}/s" if task.speed else "", style="cyan")

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        Rate(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        disable=not enabled,
    )


class _Rows(NamedTuple):
    """One enterprise ready to write; the enterprise id is prepended when it is known."""

    credit_code: str
    enterprise: tuple
    qualifications: list[tuple]
    contacts: list[tuple]
    projects: list[tuple]


def _prepare(
    generator: Generator, enterprise: dict[str, Any], projects: list[dict[str, Any]], now: datetime
) -> _Rows:
    e = enterprise
    industry = e["industry_code"]
    row = generator._row(industry) if industry else None
    # derive() with the one row that applies: the same answer as with the whole table, without
    # searching it again for every enterprise.
    derived = derive(
        CreditCode(e["credit_code"]),
        e["name"],
        industry,
        e["employees"],
        e["revenue_fen"],
        e["total_assets_fen"],
        (row,) if row else (),
    )
    # A choice from a signed form, recorded as the create path records it for the office.
    recorded = "share_with_banks" in e
    signed = e.get("consent_form_signed_on")
    return _Rows(
        e["credit_code"],
        (
            e["credit_code"],
            e["name"],
            derived.name_normalized,
            e["district_code"],
            industry,
            e["cluster_code"],
            e["chain_tag"],
            e["employees"],
            e["revenue_fen"],
            e["total_assets_fen"],
            date.fromisoformat(e["established_date"]),
            e["credit_grade"],
            e.get("ownership"),
            bool(e.get("share_with_banks", False)),
            ConsentSource.office_form.value if recorded else None,
            FORM_RECORDED_BY if recorded else None,
            now if recorded else None,
            e.get("consent_form_ref"),
            date.fromisoformat(signed) if signed else None,
            derived.registered_area_code,
            derived.registered_in_wuxi,
            derived.size_class,
            derived.size_industry_key,
            1,
            now,
            now,
        ),
        [
            (
                q["type_code"],
                date.fromisoformat(q["issued_date"]),
                date.fromisoformat(q["expires_date"]) if q["expires_date"] else None,
                q["source"],
                now,
            )
            for q in e["qualifications"]
        ],
        [(c["name"], c["title"], c["phone"], c["email"], c["is_primary"]) for c in e["contacts"]],
        [
            (
                p["name"],
                p["kind"],
                p["cluster_code"],
                p["total_investment_fen"],
                p["equipment_investment_fen"],
                p["financing_need_fen"],
                p["year"],
                p["status"],
                p.get("listed_in"),
                p["description"],
                1,
                now,
                now,
            )
            for p in projects
        ],
    )


def _write_batch(engine: Engine, batch: list[_Rows]) -> dict[str, int]:
    """One transaction: skip codes already present, take ids, write the four tables."""
    sqlite = engine.dialect.name == "sqlite"
    write = _executemany if sqlite else _copy
    with engine.begin() as conn:
        present = _existing_codes(conn, [r.credit_code for r in batch], sqlite)
        fresh = [r for r in batch if r.credit_code not in present]
        ids = _reserve_ids(conn, "enterprise", len(fresh), sqlite)
        e_rows: list[tuple] = []
        q_rows: list[tuple] = []
        c_rows: list[tuple] = []
        p_rows: list[tuple] = []
        for enterprise_id, r in zip(ids, fresh, strict=True):
            e_rows.append((enterprise_id, *r.enterprise))
            q_rows.extend((enterprise_id, *q) for q in r.qualifications)
            c_rows.extend((enterprise_id, *c) for c in r.contacts)
            p_rows.extend((enterprise_id, *p) for p in r.projects)
        write(conn, "enterprise", ENTERPRISE_COLUMNS, e_rows)
        write(conn, "qualification", QUALIFICATION_COLUMNS, q_rows)
        write(conn, "contact", CONTACT_COLUMNS, c_rows)
        write(conn, "project", PROJECT_COLUMNS, p_rows)
    return {
        "enterprises": len(e_rows),
        "qualifications": len(q_rows),
        "contacts": len(c_rows),
        "projects": len(p_rows),
        "skipped_enterprises": len(batch) - len(fresh),
    }


# Worker processes draw and prepare chunks; the parent writes them.
_worker: dict[str, Any] = {}


def _worker_start(seed: int, reference: Reference, as_of: date, project_rate: float) -> None:
    generator = Generator(seed, reference, as_of)
    _worker.update(generator=generator, mix=generator.size_mix(project_rate))


def _worker_chunk(number: int, counts: bytes) -> list[_Rows]:
    generator: Generator = _worker["generator"]
    now = datetime.now(UTC)
    return [
        _prepare(generator, e, p, now)
        for e, p in generator.chunk(number, array("H", counts), _worker["mix"])
    ]


def default_workers(enterprises: int) -> int:
    """Large loads draw in worker processes (measured on 2 cores: 2 workers beat 1 even though
    they share the cores with the writer and PostgreSQL); small loads run in-process."""
    if enterprises <= 4 * BATCH_SIZE:
        return 0
    return max(1, min(4, os.cpu_count() or 2))


def _prepared_chunks(
    generator: Generator, enterprises: int, projects: int, workers: int, window: int = 16
) -> Iterator[list[_Rows]]:
    """Prepared chunks in index order, drawn in ``workers`` processes (0: in this one)."""
    counts = generator.project_counts(enterprises, projects, generator.seed)
    rate = projects / enterprises if enterprises else 0.0
    chunks = math.ceil(enterprises / CHUNK)

    def counts_of(number: int) -> array:
        return counts[number * CHUNK : (number + 1) * CHUNK]

    if workers <= 0:
        mix = generator.size_mix(rate)
        for number in range(chunks):
            now = datetime.now(UTC)
            yield [
                _prepare(generator, e, p, now)
                for e, p in generator.chunk(number, counts_of(number), mix)
            ]
        return
    context = multiprocessing.get_context("spawn")  # no fork under the progress thread
    with ProcessPoolExecutor(
        workers,
        mp_context=context,
        initializer=_worker_start,
        initargs=(generator.seed, generator.reference, generator.as_of, rate),
    ) as pool:
        ahead: deque[Future] = deque()
        submitted = 0
        # A bounded window (more than a batch) keeps the workers busy while a batch is written,
        # and memory flat however far they run ahead.
        while submitted < chunks or ahead:
            while submitted < chunks and len(ahead) < window:
                ahead.append(pool.submit(_worker_chunk, submitted, counts_of(submitted).tobytes()))
                submitted += 1
            yield ahead.popleft().result()


def bulk_load(
    engine: Engine,
    enterprises: int,
    projects: int | None = None,
    products: int = 0,
    seed: int = 1,
    *,
    batch_size: int = BATCH_SIZE,
    progress: bool = True,
    workers: int | None = None,
    as_of: date = AS_OF,
) -> dict[str, int]:
    """Load a synthetic library straight into the tables (no per-row use case): enterprises
    with their derived columns and the consent of those that signed a 入库申报 form (recorded
    by the office at the load time, as ``enterprises.create_enterprise`` records it),
    qualifications, contacts, projects (with the key-project list they are on), and products
    with their version 1.

    One transaction per batch. Enterprises whose credit code is already present are skipped
    with their qualifications, contacts and projects, so a re-run with the same seed adds
    nothing and an interrupted run resumes; products whose code exists are skipped likewise.
    Enterprise ids come from the table's sequence (nextval) on PostgreSQL and after MAX(id)
    inside the write transaction on SQLite.

    For large loads (see default_workers) worker processes draw the next chunks while this
    process writes; they are started with "spawn", so a script that calls this at import time
    needs the usual ``if __name__ == "__main__":`` guard (the `finmatch` command has it). The
    library is the same whatever the number of workers."""
    if projects is None:
        projects = default_project_count(enterprises)
    if workers is None:
        workers = default_workers(enterprises)
    with engine.connect() as conn:
        _check_reference(conn, need_banks=products > 0)
        reference = reference_from_db(conn)
        banks = list(conn.execute(text("SELECT code, kind FROM bank ORDER BY code")))
    generator = Generator(seed, reference, as_of)
    counts = dict.fromkeys(
        (
            "enterprises",
            "qualifications",
            "contacts",
            "projects",
            "products",
            "skipped_enterprises",
            "skipped_products",
        ),
        0,
    )

    def write(batch: list[_Rows]) -> None:
        for key, value in _write_batch(engine, batch).items():
            counts[key] += value

    with _progress(progress) as bar:
        task = bar.add_task("企业 enterprises", total=enterprises)
        batch: list[_Rows] = []
        done = 0
        window = 2 * math.ceil(batch_size / CHUNK) + 2 * workers
        for rows in _prepared_chunks(generator, enterprises, projects, workers, window):
            batch.extend(rows)
            if len(batch) >= batch_size:
                write(batch)
                done += len(batch)
                batch = []
                bar.update(task, completed=done)
        if batch:
            write(batch)
            bar.update(task, completed=done + len(batch))
        if products:
            task = bar.add_task("产品 products", total=products)
            own = [code for code, kind in banks if kind != "fund"]
            funds = [code for code, kind in banks if kind == "fund"]
            items = generate_products(
                products, own or funds, seed, fund_codes=funds, reference=reference, as_of=as_of
            )
            loaded = 0
            while loaded < products:
                chunk = list(islice(items, min(1000, products - loaded)))
                loaded += len(chunk)
                added, skipped = _load_products(engine, chunk)
                counts["products"] += added
                counts["skipped_products"] += skipped
                bar.update(task, completed=loaded)
    if engine.dialect.name == "postgresql" and (counts["enterprises"] or counts["products"]):
        # Fresh statistics, so that benchmark queries right after the load get real plans
        # rather than waiting for autovacuum.
        with engine.begin() as conn:
            conn.execute(
                text(
                    "ANALYZE enterprise, qualification, contact, project, product, product_version"
                )
            )
    return counts


SPEC_FIELDS = tuple(ProductSpec.model_fields)


def _load_products(engine: Engine, chunk: list[dict[str, Any]]) -> tuple[int, int]:
    from service.products.models import Product, ProductVersion

    product_table = Product.__table__  # type: ignore[attr-defined]
    version_table = ProductVersion.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        codes = [p["code"] for p in chunk]
        present = set(
            conn.execute(
                select(product_table.c.code).where(product_table.c.code.in_(codes))
            ).scalars()
        )
        fresh = [ProductCreate.model_validate(p) for p in chunk if p["code"] not in present]
        if not fresh:
            return 0, len(chunk)
        now = datetime.now(UTC)
        conn.execute(
            insert(product_table),
            [
                {
                    "code": p.code,
                    "bank_code": p.bank_code,
                    "current_version": 1,
                    "status": "active",
                    "created_at": now,
                    "updated_at": now,
                }
                for p in fresh
            ],
        )
        ids = {
            code: product_id
            for code, product_id in conn.execute(
                select(product_table.c.code, product_table.c.id).where(
                    product_table.c.code.in_([p.code for p in fresh])
                )
            )
        }
        versions = []
        for p in fresh:
            spec = {f: getattr(p, f) for f in SPEC_FIELDS}
            # Stored as the catalogue service stores them: JSON-ready, enums as strings.
            spec["eligibility"] = p.eligibility.model_dump(mode="json")
            spec["rate"] = p.rate.model_dump(mode="json")
            spec["fees"] = [f.model_dump(mode="json") for f in p.fees]
            spec["collateral_types"] = [str(c) for c in p.collateral_types]
            spec["purposes"] = [str(x) for x in p.purposes]
            spec["category"] = str(p.category)
            spec["term_unit"] = str(p.term_unit)
            versions.append({**spec, "product_id": ids[p.code], "version": 1, "created_at": now})
        conn.execute(insert(version_table), versions)
    return len(fresh), len(chunk) - len(fresh)


# --- the entry point ------------------------------------------------------------------------


def _write_json(path: Path, items: list[dict[str, Any]]) -> None:
    path.write_text(json.dumps(items, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def run_synth(
    database_url: str,
    enterprises: int,
    products: int,
    projects: int | None,
    seed: int,
    out: Path | None,
) -> dict:
    """`finmatch synth`. With ``out``: write out/enterprises.json, out/projects.json (and
    out/products.json when products > 0, for the banks of seed/reference/banks.json) and touch
    no database. Otherwise bulk-load the database at ``database_url``. ``projects=None`` means
    enterprises // 2 up to 10,000 enterprises and enterprises // 3 above."""
    started = time.perf_counter()
    if projects is None:
        projects = default_project_count(enterprises)
    if out is not None:
        out = Path(out)
        if out.exists() and not out.is_dir():
            raise NotADirectoryError(f"{out} is not a directory")
        out.mkdir(parents=True, exist_ok=True)
        library, project_items = generate_library(enterprises, projects, seed)
        _write_json(out / "enterprises.json", library)
        _write_json(out / "projects.json", project_items)
        product_items: list[dict[str, Any]] = []
        if products:
            banks = json.loads(
                (project_root() / "seed" / "reference" / "banks.json").read_text("utf-8")
            )
            own = [b["code"] for b in banks if b["kind"] != "fund"]
            funds = [b["code"] for b in banks if b["kind"] == "fund"]
            product_items = list(generate_products(products, own or funds, seed, fund_codes=funds))
            _write_json(out / "products.json", product_items)
        return {
            "enterprises": len(library),
            "projects": len(project_items),
            "products": len(product_items),
            "seconds": round(time.perf_counter() - started, 2),
            "out": str(out),
        }
    engine = make_engine(database_url)
    try:
        counts = bulk_load(engine, enterprises, projects, products, seed)
    finally:
        engine.dispose()
    return {**counts, "seconds": round(time.perf_counter() - started, 2)}
