"""What one row of an import does to the library: compared field by field with what the
library holds now, the fields that differ (old → new), the qualifications and the contact to
add or update, the consent recorded or why it is not. Pure: no database; the use case reads
what the library holds and writes what this decides, at preview (nothing written) and again
at commit (against the library as it is then).

A blank cell says nothing: only the values the file states are compared, none is erased.
Qualifications are only ever added (the same type and issue date is the same one); a contact
is matched by name."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from service.access.policy import Consent, Principal, record_consent
from service.core.errors import Conflict
from service.enterprises.consent import CONSENT_COLUMNS, consent_columns, consent_of
from service.enterprises.derive import derive, expiry
from service.enterprises.imports import Problem, References
from service.enterprises.models import RowAction
from service.taxonomy.credit_code import CreditCode

ENTERPRISE_FIELDS = (
    "name",
    "district_code",
    "industry_code",
    "cluster_code",
    "chain_tag",
    "ownership",
    "employees",
    "revenue_fen",
    "total_assets_fen",
    "established_date",
    "credit_grade",
)
# Changing one of these may change the derived columns (normalised name, size class).
_DERIVED_FROM = frozenset({"name", "industry_code", "employees", "revenue_fen", "total_assets_fen"})
CONTACT_FIELDS = ("title", "phone", "email")
CONTACT_COLUMNS = ("name", *CONTACT_FIELDS, "is_primary")
# What an update of a held enterprise writes: its fields, those derived from them, its consent.
UPDATED_COLUMNS = (
    *ENTERPRISE_FIELDS,
    "name_normalized",
    "size_class",
    "size_industry_key",
    *CONSENT_COLUMNS,
)
PROJECT_FIELDS = (
    "kind",
    "cluster_code",
    "total_investment_fen",
    "equipment_investment_fen",
    "financing_need_fen",
    "year",
    "status",
    "description",
    "listed_in",
)


def _json(value: Any) -> Any:
    return value.isoformat() if type(value) in _DATES else value


_DATES = (date, datetime)


def _day(value: Any) -> Any:
    return date.fromisoformat(value) if isinstance(value, str) else value


@dataclass
class HeldEnterprise:
    """An enterprise as the library holds it."""

    columns: dict[str, Any]  # its row
    qualifications: set[tuple[str, date]]  # (type, issue date)
    contacts: list[dict[str, Any]]  # id, name, title, phone, email, is_primary


@dataclass
class Plan:
    """What a row does. ``columns``: for a create, every column of the new row; for an update,
    the columns that change, at their new values. ``qualifications``: the ones to add.
    ``contact``: one to add (no id) or the changed columns of one held (with its id)."""

    action: RowAction
    changes: list[dict[str, Any]] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    columns: dict[str, Any] = field(default_factory=dict)
    qualifications: list[dict[str, Any]] = field(default_factory=list)
    contact: dict[str, Any] | None = None
    held: dict[str, Any] | None = None  # the row as the library holds it (an update)
    held_contacts: list[dict[str, Any]] = field(default_factory=list)

    def change(self, name: str, old: Any, new: Any) -> None:
        self.changes.append({"field": name, "old": _json(old), "new": _json(new)})

    @property
    def changes_anything(self) -> bool:
        return bool(self.columns or self.qualifications or self.contact)


def _problem(line: int, name: str, code: str, message: str) -> Problem:
    return Problem(name, code, f"第 {line} 行：{message}")


def rejected(line: int, name: str, code: str, message: str) -> Plan:
    return Plan(RowAction.rejected, errors=[_problem(line, name, code, message)])


def _qualification_rows(
    wanted: Sequence[Sequence[str]], held: set[tuple[str, date]], refs: References, source: str
) -> list[dict[str, Any]]:
    out = []
    for code, issued_text in wanted:
        issued = date.fromisoformat(issued_text)
        if (code, issued) in held:
            continue
        expires = expiry(issued, refs.terms.get(code))
        out.append(
            {"type_code": code, "issued_date": issued, "expires_date": expires, "source": source}
        )
    return out


def plan_enterprise(
    line: int,
    credit_code: str,
    values: Mapping[str, Any],
    held: HeldEnterprise | None,
    refs: References,
    principal: Principal,
    now: datetime,
    source: str,
) -> Plan:
    """What the row's values do to the enterprise with ``credit_code`` (``held``: as the
    library holds it, None when it is not there)."""
    wanted = {
        name: _day(values[name]) if name == "established_date" else values[name]
        for name in ENTERPRISE_FIELDS
        if name in values
    }
    code = CreditCode(credit_code)  # checked when the row was read
    if held is None:
        if "name" not in wanted:
            return rejected(
                line, "name", "missing_name", f"企业库中没有 {credit_code}，新增企业须填写企业名称"
            )
        plan = Plan(RowAction.create)
        if "district_code" not in wanted and code.registered_in_wuxi:
            district = refs.district_of_area.get(code.area_code)
            if district is not None:
                wanted["district_code"] = district
        current: dict[str, Any] = {name: None for name in ENTERPRISE_FIELDS}
        consent = Consent()
        qualifications: set[tuple[str, date]] = set()
        contacts: list[dict[str, Any]] = []
    else:
        plan = Plan(RowAction.update, held=held.columns, held_contacts=held.contacts)
        current = held.columns
        consent = consent_of(current)
        qualifications = held.qualifications
        contacts = held.contacts
    columns: dict[str, Any] = {}
    for name, value in wanted.items():
        if current.get(name) != value:
            columns[name] = value
            plan.change(name, current.get(name), value)
    if held is None or _DERIVED_FROM & columns.keys():
        merged = {**current, **columns}
        derived = derive(
            code,
            merged["name"],
            merged["industry_code"],
            merged["employees"],
            merged["revenue_fen"],
            merged["total_assets_fen"],
            refs.size_rows_for(merged["industry_code"]),
        ).columns()
        for name, value in derived.items():
            if held is None or current.get(name) != value:
                columns[name] = value
        if derived["size_class"] != current.get("size_class"):
            plan.change("size_class", current.get("size_class"), derived["size_class"])
    plan.qualifications = _qualification_rows(
        values.get("qualifications", ()), qualifications, refs, source
    )
    for q in plan.qualifications:
        plan.change(
            "qualifications",
            None,
            {"type_code": q["type_code"], "issued_date": q["issued_date"].isoformat()},
        )
    plan.contact = _contact(plan, values.get("contact"), contacts)
    given = values.get("consent")
    if given is not None:
        _record_consent(plan, line, principal, consent, given, now, columns)
    if held is None:
        columns.update(credit_code=code.value)
        columns.setdefault("share_with_banks", False)
        plan.columns = {**current, **columns}
    else:
        plan.columns = columns
        if not plan.changes_anything:
            plan.action = RowAction.unchanged
    return plan


def _contact(
    plan: Plan, wanted: Mapping[str, Any] | None, held: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """The contact named in the file: the held one of that name brought up to date, or a new
    one (the primary one when the enterprise has none)."""
    if not wanted:
        return None
    public = ("name", *CONTACT_FIELDS)
    for contact in held:
        if contact["name"] == wanted["name"]:
            changed = {
                f: wanted[f] for f in CONTACT_FIELDS if f in wanted and wanted[f] != contact[f]
            }
            if not changed:
                return None
            plan.change(
                "contact",
                {f: contact[f] for f in public},
                {f: {**contact, **changed}[f] for f in public},
            )
            return {"id": contact["id"], **changed}
    new = {
        "name": wanted["name"],
        **{f: wanted.get(f) for f in CONTACT_FIELDS},
        "is_primary": not any(c["is_primary"] for c in held),
    }
    plan.change("contact", None, {f: new[f] for f in public})
    return new


def _record_consent(
    plan: Plan,
    line: int,
    principal: Principal,
    current: Consent,
    given: Mapping[str, Any],
    now: datetime,
    columns: dict[str, Any],
) -> None:
    """The choice on the signed 入库申报 form, by the consent rule (``record_consent``). When
    the enterprise's own later choice, or a newer form, wins, the row is applied all the same
    without it, and a warning says why."""
    try:
        after = record_consent(
            principal,
            current,
            bool(given["given"]),
            given["form_ref"],
            date.fromisoformat(given["form_signed_on"]),
            now,
        )
    except Conflict as exc:
        plan.warnings.append(
            _problem(
                line,
                "share_with_banks",
                exc.code,
                f"{exc.detail}本行的共享授权未登记，其余内容照常导入。",
            )
        )
        return
    if after == current:
        return
    if after.given != current.given:
        plan.change("share_with_banks", current.given, after.given)
    for name in ("form_ref", "form_signed_on"):
        old, new = getattr(current, name), getattr(after, name)
        if old != new:
            plan.change(f"consent_{name}", old, new)
    columns.update(consent_columns(after))


# --- projects -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """The enterprise a project row names, as the library holds it."""

    id: int
    cluster_code: str | None


def plan_project(
    line: int,
    values: Mapping[str, Any],
    unit: Unit | None,
    held: Sequence[Mapping[str, Any]],
    credit_code: str,
) -> Plan:
    """What the row does to the project of ``unit`` with the row's name (``held``: the unit's
    projects of that name, normally none or one)."""
    if unit is None:
        return rejected(
            line,
            "credit_code",
            "unknown_enterprise",
            f"统一社会信用代码 {credit_code} 的企业不在企业库中：请先导入企业，再导入其项目",
        )
    if len(held) > 1:
        return rejected(
            line,
            "name",
            "ambiguous_project",
            f"该企业在项目库中有 {len(held)} 个名为「{values['name']}」的项目，无法确定更新哪一个",
        )
    wanted = {name: values[name] for name in PROJECT_FIELDS if name in values}
    if not held:
        missing = [
            (name, code, label)
            for name, code, label in (
                ("kind", "missing_kind", "项目类型"),
                ("total_investment_fen", "missing_total_investment", "总投资"),
                ("year", "missing_year", "年度"),
            )
            if name not in wanted
        ]
        if missing:
            plan = Plan(RowAction.rejected)
            for name, code, label in missing:
                plan.errors.append(_problem(line, name, code, f"新增项目须填写{label}"))
            return plan
        plan = Plan(RowAction.create)
        current: dict[str, Any] = {name: None for name in PROJECT_FIELDS}
        wanted.setdefault("status", "planned")
        if "cluster_code" not in wanted and unit.cluster_code:
            wanted["cluster_code"] = unit.cluster_code
    else:
        current = dict(held[0])
        plan = Plan(RowAction.update, held=current)
    merged = {**current, **wanted}
    total = merged["total_investment_fen"]
    for name, label in (
        ("equipment_investment_fen", "设备投资"),
        ("financing_need_fen", "融资需求"),
    ):
        if merged[name] is not None and total is not None and merged[name] > total:
            plan.errors.append(
                _problem(line, name, "invalid_project_amounts", f"{label}不能超过项目总投资")
            )
    if plan.errors:
        plan.action = RowAction.rejected
        return plan
    for name, value in wanted.items():
        if current.get(name) != value:
            plan.columns[name] = value
            plan.change(name, current.get(name), value)
    if not held:
        plan.columns = {**merged, "name": values["name"], "enterprise_id": unit.id}
    elif not plan.columns:
        plan.action = RowAction.unchanged
    return plan
