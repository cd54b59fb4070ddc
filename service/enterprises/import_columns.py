"""The words of a library spreadsheet: which header names which column (Chinese or English,
in any order, with full-width brackets, spaces and units: "营业收入（万元）" and "revenue_wan"
alike), a field's label as messages and exports name it, the names the reference data and
a project's kind and status go by (``alias``: compared without spaces, quotes or case), and a
column per qualification type holding its issue date. A field named by two columns, or a
required column missing, is refused. Pure: no database; the exports write the same headers,
so that a file exported and imported again changes nothing."""

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from service.core.tables import FileError, blank, header_units, normalize_header

# --- names of reference data ----------------------------------------------------------------


def alias(text: Any) -> str:
    """How a name of reference data is compared: NFKC, no spaces, no quotes, lower case
    ('专精特新"小巨人"企业' and "专精特新“小巨人”企业" alike)."""
    return re.sub(r"[\s\"'“”‘’「」『』]+", "", unicodedata.normalize("NFKC", str(text))).lower()


_BRACKETED = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]")
# What a qualification's name may be written without: the issuer's level, and 企业.
_LEVELS = ("江苏省", "无锡市", "国家级", "省级", "市级")


def _unambiguous(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """alias -> code, without the aliases that two codes share."""
    out: dict[str, str] = {}
    shared: set[str] = set()
    for name, code in pairs:
        key = alias(name)
        if not key:
            continue
        if out.get(key, code) != code:
            shared.add(key)
        out[key] = code
    return {k: v for k, v in out.items() if k not in shared}


def cluster_aliases(clusters: Iterable[tuple[str, str]]) -> dict[str, str]:
    """(code, name) -> alias -> code: "汽车及零部件" for "汽车及零部件（含新能源汽车）",
    "纺织服装" for "高端纺织服装", and each with 产业 or 产业集群 after it, as office files
    write them ("集成电路产业")."""
    pairs: list[tuple[str, str]] = []
    for code, name in clusters:
        bare = _BRACKETED.sub("", name)
        plain = bare.removeprefix("高端")
        # 纺织服装 for 高端纺织服装; not 装备 alone for 高端装备 (深海装备 is one too)
        forms = {name, bare, plain} if len(plain) >= 3 else {name, bare}
        pairs.append((code, code))
        for form in forms:
            pairs += [(form, code), (form + "产业", code), (form + "产业集群", code)]
    return _unambiguous(pairs)


def ownership_aliases(types: Iterable[tuple[str, str, str | None]]) -> dict[str, str]:
    """(code, name, statistics code) -> alias -> code: "私人控股", "私人", "private", "3"."""
    pairs: list[tuple[str, str]] = []
    for code, name, stats_code in types:
        pairs += [(code, code), (name, code)]
        if name.endswith("控股") and len(name) > 3:
            pairs.append((name.removesuffix("控股"), code))
        if stats_code:
            pairs.append((stats_code, code))
    return _unambiguous(pairs)


def qualification_aliases(types: Iterable[tuple[str, str]]) -> dict[str, str]:
    """(code, name) -> alias -> code: "江苏省专精特新中小企业", "专精特新中小企业", "srdi_sme",
    "专精特新小巨人企业", "小巨人"… A short form two types share (绿色工厂) names neither."""
    pairs: list[tuple[str, str]] = []
    for code, name in types:
        forms = {code, name}
        bare = alias(name)
        for level in _LEVELS:
            bare = bare.removeprefix(level)
        forms.add(bare)
        if bare.endswith("企业") and len(bare) > 4:
            forms.add(bare.removesuffix("企业"))
        quoted = re.search(r"[\"“]([^\"”]+)[\"”]", name)
        if quoted:  # 专精特新"小巨人"企业: 小巨人
            forms.add(quoted.group(1))
        pairs += [(form, code) for form in forms]
    return _unambiguous(pairs)


class KnownQualifications(Protocol):
    """What reading the headers needs of the reference data: the qualification types by the
    names a header may give them (``imports.References`` has them)."""

    @property
    def qualifications(self) -> Mapping[str, str]: ...  # alias -> code

    @property
    def qualification_names(self) -> Mapping[str, str]: ...  # code -> name


# --- headers --------------------------------------------------------------------------------

ENTERPRISE_COLUMNS: dict[str, tuple[str, ...]] = {
    "credit_code": ("统一社会信用代码", "信用代码", "社会信用代码", "credit_code", "uscc"),
    "name": ("企业名称", "单位名称", "公司名称", "企业全称", "名称", "name", "enterprise_name"),
    "district": (
        "所属地区",
        "所属区县",
        "所在地区",
        "所在区县",
        "区县",
        "地区",
        "所属板块",
        "板块",
        "district",
        "district_code",
    ),
    "industry_code": (
        "行业代码",
        "国民经济行业代码",
        "所属行业代码",
        "行业分类代码",
        "国民经济行业分类代码",
        "industry_code",
        "industry",
    ),
    "cluster": ("产业集群", "所属产业集群", "所属集群", "集群", "cluster", "cluster_code"),
    "chain_tag": ("产业链", "所属产业链", "产业链标签", "chain_tag", "chain"),
    "ownership": ("控股情况", "控股类型", "ownership"),
    "registration_type": (
        "登记注册类型",
        "企业登记注册类型",
        "注册类型",
        "企业类型",
        "registration_type",
    ),
    "employees": (
        "从业人员",
        "从业人员人",
        "从业人员数",
        "从业人数",
        "员工人数",
        "职工人数",
        "employees",
    ),
    "revenue": ("营业收入", "年营业收入", "营业总收入", "主营业务收入", "revenue"),
    "total_assets": ("资产总额", "资产总计", "总资产", "total_assets", "assets"),
    "established_date": (
        "成立日期",
        "成立时间",
        "注册日期",
        "established_date",
        "established",
    ),
    "credit_grade": ("信用等级", "信用评级", "企业信用等级", "credit_grade", "grade"),
    "contact_name": ("联系人", "联系人姓名", "contact", "contact_name"),
    "contact_title": ("职务", "联系人职务", "title", "contact_title"),
    "contact_phone": (
        "联系电话",
        "联系人电话",
        "电话",
        "手机",
        "联系方式",
        "phone",
        "contact_phone",
    ),
    "contact_email": ("邮箱", "电子邮箱", "联系人邮箱", "email", "contact_email"),
    "qualifications": ("资质", "企业资质", "资质认定", "资质情况", "qualifications"),
    "consent": (
        "是否同意向银行共享",
        "是否同意向银行共享信息",
        "同意向银行共享",
        "授权共享",
        "是否授权共享",
        "是否授权",
        "share_with_banks",
        "consent",
    ),
    "consent_form_ref": (
        "申报表编号",
        "入库申报表编号",
        "申报编号",
        "consent_form_ref",
        "form_ref",
    ),
    "consent_form_signed_on": (
        "申报表签署日期",
        "签署日期",
        "申报日期",
        "consent_form_signed_on",
        "form_signed_on",
    ),
}
PROJECT_COLUMNS: dict[str, tuple[str, ...]] = {
    "credit_code": (
        "统一社会信用代码",
        "信用代码",
        "社会信用代码",
        "项目单位统一社会信用代码",
        "单位统一社会信用代码",
        "企业统一社会信用代码",
        "credit_code",
        "uscc",
    ),
    "unit_name": ("项目单位", "企业名称", "单位名称", "建设单位", "enterprise_name"),
    "name": ("项目名称", "项目", "project_name", "name", "project"),
    "kind": ("项目类型", "项目类别", "类型", "kind", "type"),
    "cluster": ("产业集群", "所属产业集群", "所属集群", "集群", "cluster", "cluster_code"),
    "total_investment": (
        "总投资",
        "项目总投资",
        "计划总投资",
        "total_investment",
        "investment",
    ),
    "equipment_investment": (
        "设备投资",
        "设备投资额",
        "其中设备投资",
        "equipment_investment",
    ),
    "financing_need": (
        "融资需求",
        "融资需求金额",
        "资金需求",
        "融资需求额",
        "financing_need",
    ),
    "year": ("年度", "项目年度", "计划年度", "year"),
    "status": ("状态", "项目状态", "建设状态", "进展情况", "status"),
    "description": ("项目简介", "简介", "项目概况", "建设内容", "description"),
    "listed_in": ("所属名单", "列入名单", "重点项目名单", "名单", "listed_in"),
}
MONEY_COLUMNS = frozenset(
    {"revenue", "total_assets", "total_investment", "equipment_investment", "financing_need"}
)
# The library field each money column fills.
MONEY_FIELD = {
    "revenue": "revenue_fen",
    "total_assets": "total_assets_fen",
    "total_investment": "total_investment_fen",
    "equipment_investment": "equipment_investment_fen",
    "financing_need": "financing_need_fen",
}
LABEL = {
    "credit_code": "统一社会信用代码",
    "name": "企业名称",
    "district": "所属地区",
    "industry_code": "行业代码",
    "cluster": "产业集群",
    "chain_tag": "产业链",
    "ownership": "控股情况",
    "registration_type": "登记注册类型",
    "employees": "从业人员",
    "revenue": "营业收入",
    "total_assets": "资产总额",
    "established_date": "成立日期",
    "credit_grade": "信用等级",
    "contact_name": "联系人",
    "contact_title": "职务",
    "contact_phone": "联系电话",
    "contact_email": "邮箱",
    "qualifications": "资质",
    "consent": "是否同意向银行共享",
    "consent_form_ref": "申报表编号",
    "consent_form_signed_on": "申报表签署日期",
    "unit_name": "项目单位",
    "kind": "项目类型",
    "total_investment": "总投资",
    "equipment_investment": "设备投资",
    "financing_need": "融资需求",
    "year": "年度",
    "status": "状态",
    "description": "项目简介",
    "listed_in": "所属名单",
}
PROJECT_LABEL = {**LABEL, "name": "项目名称"}
_QUALIFICATION_HEADER_SUFFIXES = ("认定日期", "认定时间", "获评日期", "发证日期", "日期", "时间")


@dataclass(frozen=True)
class Column:
    key: str  # a column of ENTERPRISE_COLUMNS / PROJECT_COLUMNS, or "qualification:<code>"
    unit: str | None = None  # a money column's unit, from the header


def _lookup(columns: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    return {normalize_header(name): key for key, names in columns.items() for name in names}


_ENTERPRISE_LOOKUP = _lookup(ENTERPRISE_COLUMNS)
_PROJECT_LOOKUP = _lookup(PROJECT_COLUMNS)


def _column(raw: Any, lookup: Mapping[str, str], refs: KnownQualifications | None) -> Column | None:
    name = normalize_header(raw)
    if name in lookup:
        return Column(lookup[name])
    for base, unit in header_units(name):
        key = lookup.get(base)
        if key in MONEY_COLUMNS:
            return Column(key, unit)
    if refs is None:
        return None
    # A column per qualification, named by the type (and 认定日期), holding its issue date.
    bare = alias(raw)
    for suffix in ("", *_QUALIFICATION_HEADER_SUFFIXES):
        if suffix and not bare.endswith(suffix):
            continue
        code = refs.qualifications.get(bare.removesuffix(suffix) if suffix else bare)
        if code is not None:
            return Column(f"qualification:{code}")
    return None


def map_headers(
    headers: list[Any], kind: str, refs: KnownQualifications | None = None
) -> dict[int, Column]:
    """Column index -> what it holds. Columns not understood are ignored; a field named by two
    columns is an error, as is a missing required column (the credit code, and for projects
    the project's name)."""
    lookup, labels = (
        (_ENTERPRISE_LOOKUP, LABEL) if kind == "enterprise" else (_PROJECT_LOOKUP, PROJECT_LABEL)
    )
    out: dict[int, Column] = {}
    seen: dict[str, int] = {}
    for index, raw in enumerate(headers):
        if blank(raw):
            continue
        column = _column(raw, lookup, refs if kind == "enterprise" else None)
        if column is None:
            continue
        if column.key in seen:
            label = labels.get(column.key) or _qualification_label(column.key, refs)
            raise FileError(
                "duplicate_column",
                f"第 {seen[column.key] + 1} 列和第 {index + 1} 列都是「{label}」，请只保留一列",
                columns=[seen[column.key] + 1, index + 1],
            )
        seen[column.key] = index
        out[index] = column
    required = ("credit_code",) if kind == "enterprise" else ("credit_code", "name")
    missing = [labels[k] for k in required if k not in seen]
    if missing:
        raise FileError(
            "missing_columns",
            f"缺少必需的列：{'、'.join(missing)}（表头须在第一行）",
            missing=missing,
            found=[str(h) for h in headers if not blank(h)],
        )
    return out


def _qualification_label(key: str, refs: KnownQualifications | None) -> str:
    code = key.partition(":")[2]
    return (refs.qualification_names.get(code) if refs else None) or code


# --- project kinds and statuses -------------------------------------------------------------

PROJECT_KINDS = {
    "tech_transformation": ("技术改造", "技改", "技术改造项目"),
    "intelligent_digital": (
        "智能化改造数字化转型",
        "智改数转",
        "智能化改造",
        "数字化转型",
        "智能化改造和数字化转型",
    ),
    "rnd": ("研发", "研发项目", "研发创新"),
    "capacity_expansion": ("扩产", "扩能", "扩产项目", "产能扩张"),
    "green_upgrade": ("绿色化改造", "绿色改造", "节能改造"),
    "new_build": ("新建", "新建项目"),
    "other": ("其他", "其它"),
}
PROJECT_STATUSES = {
    "planned": ("计划", "拟建", "谋划", "计划中", "前期"),
    "approved": ("已备案", "已立项", "备案", "立项", "已审批"),
    "under_construction": ("在建", "建设中", "施工中", "续建", "新开工"),
    "completed": ("竣工", "已竣工", "已完成", "完成", "建成", "已建成", "投产"),
    "suspended": ("暂停", "停建", "中止", "缓建"),
}
_KIND_ALIASES = _unambiguous(
    (name, code) for code, names in PROJECT_KINDS.items() for name in (code, *names)
)
_STATUS_ALIASES = _unambiguous(
    (name, code) for code, names in PROJECT_STATUSES.items() for name in (code, *names)
)
