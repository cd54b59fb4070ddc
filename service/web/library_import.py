"""The office imports its enterprise or project library through the enterprise library's page:
the upload form (shared page machinery: ``web.uploads``), the same preview use case as the
API, and the preview told in words: counts, every rejected row with its reasons, the changes
field by field (names, not codes), the warnings, and the button that commits it."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from service.access.policy import Principal
from service.core.errors import AppError
from service.core.pagination import PageParams
from service.enterprises import import_columns, import_service
from service.enterprises.models import ImportKind, LibraryImport, RowAction
from service.enterprises.schemas import ImportRowPublic
from service.web.forms import FormReader
from service.web.labels import label
from service.web.uploads import FILE_FIELD, Upload, wrong_file

KINDS = {ImportKind.enterprise.value: "企业库", ImportKind.project.value: "项目库"}
SHOWN = 200  # rows of each kind listed on the preview; the counts say how many in all

ACTION_WORDS: dict[str, tuple[str, str]] = {
    RowAction.create: ("新增", "库中还没有，提交后新增"),
    RowAction.update: ("更新", "库中已有，提交后只改下表列出的字段"),
    RowAction.unchanged: ("不变", "与库中一致，提交后不写入任何内容"),
    RowAction.rejected: ("拒绝", "这一行有错误，不会导入，原因见下表"),
}
FIELD_LABEL = {
    "name": "名称",
    "district_code": "所属地区",
    "industry_code": "行业代码",
    "cluster_code": "产业集群",
    "chain_tag": "产业链",
    "ownership": "控股情况",
    "employees": "从业人员",
    "revenue_fen": "营业收入",
    "total_assets_fen": "资产总额",
    "established_date": "成立日期",
    "credit_grade": "信用等级",
    "size_class": "企业规模（按划型标准）",
    "qualifications": "新增资质",
    "contact": "联系人",
    "share_with_banks": "同意向银行共享",
    "consent_form_ref": "申报表编号",
    "consent_form_signed_on": "申报表签署日期",
    "kind": "项目类型",
    "total_investment_fen": "总投资",
    "equipment_investment_fen": "设备投资",
    "financing_need_fen": "融资需求",
    "year": "年度",
    "status": "状态",
    "description": "项目简介",
    "listed_in": "所属名单",
}
PROJECT_KIND_NAME = {code: names[0] for code, names in import_columns.PROJECT_KINDS.items()}
PROJECT_STATUS_NAME = {code: names[0] for code, names in import_columns.PROJECT_STATUSES.items()}


@dataclass
class Outcome:
    """A preview made (``record``), or the form again with a message beside each field."""

    record: LibraryImport | None = None
    errors: dict[str, str] = field(default_factory=dict)
    status: int = 422


def preview(session: Session, principal: Principal, upload: Upload) -> Outcome:
    form = FormReader(upload.fields)
    kind = form.choice("kind", list(KINDS), required=True)
    wrong = wrong_file(upload, "企业库或项目库")
    if wrong:
        form.fail(FILE_FIELD, wrong)
    if form.errors or kind is None or upload.file is None:
        return Outcome(errors=form.errors)
    try:
        record = import_service.preview_import(
            session, principal, ImportKind(kind), upload.content(), upload.file.filename
        )
    except AppError as exc:
        session.rollback()
        if exc.status == 404:
            raise
        form.absorb(exc, default=FILE_FIELD)
        return Outcome(errors=form.errors, status=exc.status)
    return Outcome(record=record)


@dataclass(frozen=True)
class CountLine:
    action: str
    label: str
    count: int
    meaning: str


def count_lines(counts: dict[str, int]) -> list[CountLine]:
    return [
        CountLine(action, words, int(counts.get(action, 0)), meaning)
        for action, (words, meaning) in ACTION_WORDS.items()
    ]


def rows(
    session: Session,
    principal: Principal,
    record: LibraryImport,
    action: RowAction | None = None,
    warned: bool = False,
) -> list[ImportRowPublic]:
    assert record.id is not None
    page = PageParams(limit=SHOWN, cursor=None)
    found = import_service.list_rows(
        session, principal, record.kind, record.id, page, action, warned=warned
    )
    return found.items


@dataclass(frozen=True)
class Change:
    label: str
    old: str
    new: str


class Words:
    """Values as people read them: names for codes, 万元 for money, 是 / 否."""

    def __init__(self, names: dict[str, dict[str, str]], qualifications: dict[str, str]) -> None:
        self.names = names
        self.qualifications = qualifications

    def change(self, item: Any) -> Change:
        name = item.field
        return Change(
            FIELD_LABEL.get(name, "其他"), self.value(name, item.old), self.value(name, item.new)
        )

    def value(self, name: str, value: Any) -> str:
        if value is None or value == "":
            return "—"
        if name.endswith("_fen"):
            wan = (Decimal(int(value)) / 1_000_000).normalize()
            return f"{wan:,f} 万元"
        lookups = {
            "district_code": self.names["district"],
            "cluster_code": self.names["cluster"],
            "ownership": self.names["ownership"],
            "kind": PROJECT_KIND_NAME,
            "status": PROJECT_STATUS_NAME,
        }
        if name in lookups:
            return lookups[name].get(str(value), "（已停用的代码）")
        if name == "size_class":
            return label("size", value)
        if name == "share_with_banks":
            return "同意" if value else "不同意"
        if name == "qualifications" and isinstance(value, dict):
            kind = self.qualifications.get(value.get("type_code", ""), "资质")
            return f"{kind}（{value.get('issued_date')} 认定）"
        if name == "contact" and isinstance(value, dict):
            details = "，".join(str(value[k]) for k in ("title", "phone", "email") if value.get(k))
            return f"{value.get('name')}（{details}）" if details else str(value.get("name"))
        return str(value)
