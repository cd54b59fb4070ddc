"""Use cases of the enterprise library (企业库) and the project library (项目库).

Each write use case commits once; a failure leaves nothing half-written."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, delete

from service.access.audit import SYSTEM
from service.access.policy import Consent, Principal, record_consent
from service.core.concurrency import bump_version, check_version
from service.core.database import ROW_LOCK
from service.core.errors import Unprocessable
from service.core.events import emit
from service.core.models import refuse_nulls, row_dict, today_local, utcnow
from service.core.pagination import Page, PageParams, cursor_key, encode_cursor, make_page
from service.core.settings import get_settings
from service.enterprises import queries
from service.enterprises.derive import derive
from service.enterprises.exceptions import (
    DuplicateCreditCode,
    EnterpriseNotFound,
    InvalidEnterprise,
    ProjectNotFound,
)
from service.enterprises.models import (
    ConsentPublic,
    ConsentSource,
    Contact,
    ContactPublic,
    Enterprise,
    EnterpriseCreate,
    EnterprisePublic,
    EnterpriseSummary,
    EnterpriseUpdate,
    Project,
    ProjectCreate,
    ProjectPublic,
    ProjectUpdate,
    Qualification,
    QualificationCreate,
    QualificationPublic,
)
from service.enterprises.name_index import library_names
from service.taxonomy.credit_code import CreditCode, CreditCodeError, parse_credit_code
from service.taxonomy.industry import IndustryCodeError, normalize_industry_code
from service.taxonomy.models import Cluster, OwnershipType, SizeClass, Tier
from service.taxonomy.names import best_matches, normalize_company_name
from service.taxonomy.ownership import UNKNOWN, ownership_from_registration_type
from service.taxonomy.service import (
    Vocabulary,
    list_districts,
    list_qualification_types,
    load_size_rows,
)

# --- validation helpers -------------------------------------------------------------------


def _credit_code(raw: str) -> CreditCode:
    try:
        return parse_credit_code(raw)
    except CreditCodeError as exc:
        raise InvalidEnterprise(exc.message, code=exc.code, field="credit_code", value=raw) from exc


def _industry(raw: str | None) -> str | None:
    if raw is None:
        return None
    try:
        return normalize_industry_code(raw)
    except IndustryCodeError as exc:
        raise InvalidEnterprise(
            str(exc), code="invalid_industry_code", field="industry_code", value=raw
        ) from exc


def _established(value: date | None) -> date | None:
    if value is not None and value > today_local():
        raise InvalidEnterprise(
            "成立日期不能晚于今天。", code="invalid_established_date", field="established_date"
        )
    return value


def _ownership(
    vocabulary: Vocabulary, ownership: str | None, registration_type: str | None, sent: bool
) -> str | None:
    """The ownership code sent, or else the one the registration type implies."""
    if sent or not registration_type:
        return vocabulary.ownership(ownership)
    derived = ownership_from_registration_type(registration_type)
    if derived is None:
        raise InvalidEnterprise(
            f"无法从登记注册类型“{registration_type}”判断控股情况，请直接填写 ownership"
            f"（{'、'.join(f'{c}（{n}）' for c, n in vocabulary.ownership_types.items())}）。",
            code="undetermined_ownership",
            field="registration_type",
            value=registration_type,
        )
    return vocabulary.ownership(derived, field="registration_type")


def _qualification_rows(
    session: Session, vocabulary: Vocabulary, items: list[QualificationCreate]
) -> list[dict[str, Any]]:
    terms = {q.code: q.term_months for q in list_qualification_types(session)}
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, date]] = set()
    for i, item in enumerate(items):
        code = vocabulary.qualification(item.type_code, field=f"qualifications.{i}.type_code")
        assert code is not None
        expires = item.expires_date
        if expires is None and terms.get(code):
            expires = item.issued_date + relativedelta(months=terms[code]) - relativedelta(days=1)
        if expires is not None and expires < item.issued_date:
            raise InvalidEnterprise(
                "资质的到期日不能早于认定日。",
                code="invalid_qualification_dates",
                field=f"qualifications.{i}.expires_date",
            )
        if (code, item.issued_date) in seen:
            raise InvalidEnterprise(
                f"同一资质（{code}，{item.issued_date}）重复出现。",
                code="duplicate_qualification",
                field=f"qualifications.{i}",
            )
        seen.add((code, item.issued_date))
        rows.append(
            {
                "type_code": code,
                "issued_date": item.issued_date,
                "expires_date": expires,
                "source": item.source,
            }
        )
    return rows


def _default_district(session: Session, area_code: str) -> str | None:
    for district in list_districts(session):
        if district.area_code == area_code:
            return district.code
    return None


# --- consent ------------------------------------------------------------------------------


def consent_of(enterprise: Enterprise) -> Consent:
    return Consent(
        given=enterprise.share_with_banks,
        source=enterprise.consent_source,
        recorded_by=enterprise.consent_recorded_by,
        recorded_at=enterprise.consent_recorded_at,
        form_ref=enterprise.consent_form_ref,
        form_signed_on=enterprise.consent_form_signed_on,
    )


def _apply_consent(
    enterprise: Enterprise,
    principal: Principal,
    given: bool | None,
    form_ref: str | None,
    form_signed_on: date | None,
) -> None:
    """Record the caller's choice for the enterprise (``access.policy.record_consent``)."""
    if given is None:
        if form_ref is not None or form_signed_on is not None:
            raise InvalidEnterprise(
                "填写申报表编号时，请同时说明企业是否同意向银行共享信息（share_with_banks）。",
                code="consent_choice_required",
                field="share_with_banks",
            )
        return
    form_ref = form_ref.strip() if form_ref else None
    after = record_consent(
        principal, consent_of(enterprise), given, form_ref or None, form_signed_on, utcnow()
    )
    enterprise.share_with_banks = after.given
    enterprise.consent_source = ConsentSource(after.source) if after.source else None
    enterprise.consent_recorded_by = after.recorded_by
    enterprise.consent_recorded_at = after.recorded_at
    enterprise.consent_form_ref = after.form_ref
    enterprise.consent_form_signed_on = after.form_signed_on


def consent_public(enterprise: Enterprise) -> ConsentPublic:
    return ConsentPublic(
        given=enterprise.share_with_banks,
        source=enterprise.consent_source,
        recorded_by=enterprise.consent_recorded_by,
        recorded_at=enterprise.consent_recorded_at,
        form_ref=enterprise.consent_form_ref,
        form_signed_on=enterprise.consent_form_signed_on,
    )


# --- enterprises --------------------------------------------------------------------------


def get_enterprise(session: Session, enterprise_id: int, for_update: bool = False) -> Enterprise:
    # For a write, lock the row first (PostgreSQL) so concurrent writers queue up and each
    # sees the version the previous one left.
    enterprise = session.get(
        Enterprise,
        enterprise_id,
        with_for_update=ROW_LOCK if for_update else None,
        populate_existing=for_update,
    )
    if enterprise is None:
        raise EnterpriseNotFound(f"企业 {enterprise_id} 不存在。")
    return enterprise


def enterprise_public(
    session: Session, enterprise: Enterprise, on: date | None = None
) -> EnterprisePublic:
    on = on or today_local()
    names = Vocabulary(session).qualifications
    quals = [
        QualificationPublic(
            id=q.id,
            type_code=q.type_code,
            issued_date=q.issued_date,
            expires_date=q.expires_date,
            source=q.source,
            name=names.get(q.type_code),
            valid_today=q.issued_date <= on and (q.expires_date is None or q.expires_date >= on),
        )
        for q in queries.qualifications_of(session, enterprise.id)
    ]
    contacts = [
        ContactPublic.model_validate(c, from_attributes=True)
        for c in queries.contacts_of(session, enterprise.id)
    ]
    size = derive(
        parse_credit_code(enterprise.credit_code),
        enterprise.name,
        enterprise.industry_code,
        enterprise.employees,
        enterprise.revenue_fen,
        enterprise.total_assets_fen,
        load_size_rows(session),
    )
    tier = None
    if enterprise.cluster_code:
        cluster = session.get(Cluster, enterprise.cluster_code)
        tier = cluster.tier if cluster else None
    ownership = session.get(OwnershipType, enterprise.ownership) if enterprise.ownership else None
    data = row_dict(enterprise)
    data.update(
        qualifications=quals,
        contacts=contacts,
        size_reason=size.size_reason,
        cluster_tier=tier,
        ownership_name=ownership.name if ownership else None,
        is_private=ownership.private if ownership else None,
        consent=consent_public(enterprise),
    )
    return EnterprisePublic.model_validate(data)


def create_enterprise(
    session: Session, data: EnterpriseCreate, principal: Principal = SYSTEM
) -> Enterprise:
    """Add an enterprise. Its consent to share private facts with banks is recorded only when
    sent: by the office, with the signed 入库申报 form it comes from."""
    vocabulary = Vocabulary(session)
    code = _credit_code(data.credit_code)
    existing = queries.enterprise_by_credit_code(session, code.value)
    if existing is not None:
        raise DuplicateCreditCode(
            f"统一社会信用代码 {code.value} 已在企业库中。", existing_id=existing.id
        )
    industry = _industry(data.industry_code)
    district = vocabulary.district(data.district_code)
    if district is None and code.registered_in_wuxi:
        district = _default_district(session, code.area_code)
    derived = derive(
        code,
        data.name,
        industry,
        data.employees,
        data.revenue_fen,
        data.total_assets_fen,
        load_size_rows(session),
    )
    enterprise = Enterprise(
        credit_code=code.value,
        name=data.name.strip(),
        district_code=district,
        industry_code=industry,
        cluster_code=vocabulary.cluster(data.cluster_code),
        chain_tag=data.chain_tag,
        employees=data.employees,
        revenue_fen=data.revenue_fen,
        total_assets_fen=data.total_assets_fen,
        established_date=_established(data.established_date),
        credit_grade=data.credit_grade,
        ownership=_ownership(
            vocabulary,
            data.ownership,
            data.registration_type,
            sent="ownership" in data.model_fields_set,
        ),
        **derived.columns(),
    )
    recorded = "share_with_banks" in data.model_fields_set or data.consent_form_ref is not None
    _apply_consent(
        enterprise,
        principal,
        data.share_with_banks if recorded else None,
        data.consent_form_ref,
        data.consent_form_signed_on,
    )
    qualification_rows = _qualification_rows(session, vocabulary, data.qualifications)
    session.add(enterprise)
    try:
        session.flush()  # a concurrent create of the same code fails here, on the unique key
    except IntegrityError as exc:
        session.rollback()
        raise DuplicateCreditCode(f"统一社会信用代码 {code.value} 已在企业库中。") from exc
    for row in qualification_rows:
        session.add(Qualification(enterprise_id=enterprise.id, **row))
    for contact in data.contacts:
        session.add(Contact(enterprise_id=enterprise.id, **contact.model_dump()))
    session.flush()
    emit(session, "enterprise.changed", enterprise_id=enterprise.id)
    session.commit()
    session.refresh(enterprise)
    return enterprise


def update_enterprise(
    session: Session,
    enterprise_id: int,
    data: EnterpriseUpdate,
    expected_version: int | None = None,
    principal: Principal = SYSTEM,
) -> Enterprise:
    enterprise = get_enterprise(session, enterprise_id, for_update=True)
    check_version(expected_version, enterprise.version, "企业信息")
    vocabulary = Vocabulary(session)
    changes = data.model_dump(exclude_unset=True)
    refuse_nulls(Enterprise, changes)
    _apply_consent(
        enterprise,
        principal,
        changes.pop("share_with_banks", None),
        changes.pop("consent_form_ref", None),
        changes.pop("consent_form_signed_on", None),
    )
    for required in ("name",):
        if required in changes and changes[required] is None:
            raise InvalidEnterprise("企业名称不能为空。", code="missing_name", field="name")
    if "industry_code" in changes:
        changes["industry_code"] = _industry(changes["industry_code"])
    if "district_code" in changes:
        changes["district_code"] = vocabulary.district(changes["district_code"])
    if "cluster_code" in changes:
        changes["cluster_code"] = vocabulary.cluster(changes["cluster_code"])
    registration_type = changes.pop("registration_type", None)
    if "ownership" in changes or registration_type:
        changes["ownership"] = _ownership(
            vocabulary, changes.get("ownership"), registration_type, sent="ownership" in changes
        )
    if "established_date" in changes:
        _established(changes["established_date"])
    qualifications = changes.pop("qualifications", None)
    contacts = changes.pop("contacts", None)
    qualification_rows = (
        _qualification_rows(session, vocabulary, data.qualifications or [])
        if qualifications is not None
        else None
    )
    for field, value in changes.items():
        setattr(enterprise, field, value.strip() if field == "name" else value)
    derived = derive(
        parse_credit_code(enterprise.credit_code),
        enterprise.name,
        enterprise.industry_code,
        enterprise.employees,
        enterprise.revenue_fen,
        enterprise.total_assets_fen,
        load_size_rows(session),
    )
    for field, value in derived.columns().items():
        setattr(enterprise, field, value)
    if qualification_rows is not None:
        session.exec(delete(Qualification).where(Qualification.enterprise_id == enterprise.id))
        for row in qualification_rows:
            session.add(Qualification(enterprise_id=enterprise.id, **row))
    if contacts is not None:
        session.exec(delete(Contact).where(Contact.enterprise_id == enterprise.id))
        for contact in data.contacts or []:
            session.add(Contact(enterprise_id=enterprise.id, **contact.model_dump()))
    bump_version(session, Enterprise, enterprise, "企业信息")
    emit(session, "enterprise.changed", enterprise_id=enterprise.id)
    session.commit()
    session.refresh(enterprise)
    return enterprise


def add_qualification(
    session: Session, enterprise_id: int, data: QualificationCreate
) -> Qualification:
    enterprise = get_enterprise(session, enterprise_id, for_update=True)
    (row,) = _qualification_rows(session, Vocabulary(session), [data])
    qualification = Qualification(enterprise_id=enterprise.id, **row)
    session.add(qualification)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise InvalidEnterprise(
            f"该企业已有 {row['issued_date']} 认定的同一资质。",
            code="duplicate_qualification",
            status=409,
        ) from exc
    bump_version(session, Enterprise, enterprise, "企业信息")
    emit(session, "enterprise.changed", enterprise_id=enterprise.id)
    session.commit()
    session.refresh(qualification)
    return qualification


def remove_qualification(session: Session, enterprise_id: int, qualification_id: int) -> None:
    enterprise = get_enterprise(session, enterprise_id, for_update=True)
    qualification = session.get(Qualification, qualification_id)
    if qualification is None or qualification.enterprise_id != enterprise.id:
        raise EnterpriseNotFound(
            f"企业 {enterprise_id} 没有编号为 {qualification_id} 的资质。",
            code="qualification_not_found",
        )
    session.delete(qualification)
    bump_version(session, Enterprise, enterprise, "企业信息")
    emit(session, "enterprise.changed", enterprise_id=enterprise.id)
    session.commit()


@dataclass
class EnterpriseFilters:
    cluster: str | None = None
    tier: str | None = None
    district: str | None = None
    size_class: str | None = None
    qualification: str | None = None
    valid_on: date | None = None
    name: str | None = None
    credit_code: str | None = None
    registered_in_wuxi: bool | None = None
    chain_tag: str | None = None
    industry: str | None = None
    ownership: str | None = None
    private: bool | None = None


def _conditions(session: Session, f: EnterpriseFilters) -> list[ColumnElement[bool]]:
    vocabulary = Vocabulary(session)
    out: list[ColumnElement[bool]] = []
    if f.cluster:
        out.append(Enterprise.cluster_code == vocabulary.cluster(f.cluster, field="cluster"))
    if f.tier:
        if f.tier not in Tier.__members__:
            raise Unprocessable(
                f"未知的产业层级 '{f.tier}'，应为 landmark、advantage 或 future。",
                code="unknown_tier",
                field="tier",
            )
        out.append(queries.tier_condition(f.tier))
    if f.district:
        out.append(Enterprise.district_code == vocabulary.district(f.district, field="district"))
    if f.size_class:
        if f.size_class not in SizeClass.__members__:
            raise Unprocessable(
                f"未知的企业规模 '{f.size_class}'，应为 large、medium、small 或 micro。",
                code="unknown_size_class",
                field="size_class",
            )
        out.append(Enterprise.size_class == f.size_class)
    if f.qualification:
        code = vocabulary.qualification(f.qualification, field="qualification")
        assert code is not None
        out.append(queries.qualification_valid_on(code, f.valid_on or today_local()))
    if f.credit_code:
        out.append(Enterprise.credit_code == f.credit_code.strip().upper())
    if f.registered_in_wuxi is not None:
        out.append(Enterprise.registered_in_wuxi == f.registered_in_wuxi)
    if f.chain_tag:
        out.append(Enterprise.chain_tag == f.chain_tag)
    if f.ownership == UNKNOWN:
        out.append(Enterprise.ownership.is_(None))
    elif f.ownership:
        out.append(Enterprise.ownership == vocabulary.ownership(f.ownership, field="ownership"))
    if f.private is not None:
        out.append(queries.private_condition(f.private))
    if f.industry:
        prefix = f.industry.strip().upper()
        if prefix[:1].isdigit():
            prefix = _industry(prefix + "0" * max(0, 2 - len(prefix)))[: len(prefix) + 1]
        out.append(Enterprise.industry_code.startswith(prefix))
    return out


def _summaries(
    session: Session, rows: list[Enterprise], on: date, scores: dict[int, float] | None = None
) -> list[EnterpriseSummary]:
    codes = queries.valid_qualification_codes(session, [e.id for e in rows], on)
    return [
        EnterpriseSummary(
            id=e.id,
            credit_code=e.credit_code,
            name=e.name,
            district_code=e.district_code,
            industry_code=e.industry_code,
            cluster_code=e.cluster_code,
            chain_tag=e.chain_tag,
            size_class=e.size_class,
            registered_in_wuxi=e.registered_in_wuxi,
            credit_grade=e.credit_grade,
            ownership=e.ownership,
            qualification_codes=codes.get(e.id, []),
            match_score=(scores or {}).get(e.id),
            updated_at=e.updated_at,
        )
        for e in rows
    ]


def list_enterprises(
    session: Session, filters: EnterpriseFilters, page: PageParams
) -> Page[EnterpriseSummary]:
    conditions = _conditions(session, filters)
    on = filters.valid_on or today_local()
    if not filters.name or not filters.name.strip():
        key = cursor_key(page, 1, (int,))
        after = key[0] if key else None
        rows = queries.enterprise_page(session, conditions, after, page.limit)
        result = make_page(rows, page.limit, lambda e: [e.id])
        result.items = _summaries(session, result.items, on)
        return result
    return _search_by_name(session, filters.name, conditions, page, on)


def _search_by_name(
    session: Session,
    name: str,
    conditions: list[ColumnElement[bool]],
    page: PageParams,
    on: date,
) -> Page[EnterpriseSummary]:
    query = normalize_company_name(name) or name.strip()
    minimum = get_settings().name_search_min_score
    ids, names, position = library_names(session)
    verified = False
    if conditions:
        # A selective filter is cheaper to apply first: score only the names it keeps, which
        # also exist for sure.
        subset = queries.filtered_ids(session, conditions, _SUBSET_MAX)
        if subset is not None:
            kept = [position[eid] for eid in subset if eid in position]
            ids, names = [ids[i] for i in kept], [names[i] for i in kept]
            verified = True
    scored = [(-score, eid) for score, eid in best_matches(query, ids, names, minimum)]
    key = cursor_key(page, 2, (float, int))
    if key:
        last = (float(key[0]), key[1])
        scored = [s for s in scored if s > last]
    if verified:
        window = scored[: page.limit + 1]
    else:
        # The names are a cached copy: keep only what exists now and passes the filters,
        # reading ahead in chunks until the page is full.
        window = []
        chunk_size = 2 * page.limit + 2
        for start in range(0, len(scored), chunk_size):
            chunk = scored[start : start + chunk_size]
            present = queries.existing_ids(session, [eid for _, eid in chunk], conditions)
            window += [s for s in chunk if s[1] in present]
            if len(window) > page.limit:
                break
    by_id = queries.enterprises_by_ids(session, [eid for _, eid in window[: page.limit]])
    rows = [by_id[eid] for _, eid in window[: page.limit]]
    items = _summaries(session, rows, on, {eid: -neg for neg, eid in window})
    next_cursor = (
        encode_cursor([window[page.limit - 1][0], window[page.limit - 1][1]])
        if len(window) > page.limit
        else None
    )
    return Page(items=items, next_cursor=next_cursor, limit=page.limit)


_SUBSET_MAX = 100_000


# --- projects -----------------------------------------------------------------------------


def _check_project_amounts(total: int | None, equipment: int | None, need: int | None) -> None:
    if total is None:
        return
    if equipment is not None and equipment > total:
        raise Unprocessable(
            "设备投资不能超过项目总投资。",
            code="invalid_project_amounts",
            field="equipment_investment_fen",
        )
    if need is not None and need > total:
        raise Unprocessable(
            "融资需求不能超过项目总投资。",
            code="invalid_project_amounts",
            field="financing_need_fen",
        )


def get_project(session: Session, project_id: int, for_update: bool = False) -> Project:
    project = session.get(
        Project,
        project_id,
        with_for_update=ROW_LOCK if for_update else None,
        populate_existing=for_update,
    )
    if project is None:
        raise ProjectNotFound(f"项目 {project_id} 不存在。")
    return project


def project_public(session: Session, project: Project) -> ProjectPublic:
    enterprise = session.get(Enterprise, project.enterprise_id)
    return ProjectPublic.model_validate(
        {**row_dict(project), "enterprise_name": enterprise.name if enterprise else None}
    )


def create_project(session: Session, data: ProjectCreate) -> Project:
    enterprise = session.get(Enterprise, data.enterprise_id)
    if enterprise is None:
        raise Unprocessable(
            f"企业 {data.enterprise_id} 不存在，项目须属于企业库中的企业。",
            code="unknown_enterprise",
            field="enterprise_id",
        )
    cluster = Vocabulary(session).cluster(data.cluster_code) or enterprise.cluster_code
    _check_project_amounts(
        data.total_investment_fen, data.equipment_investment_fen, data.financing_need_fen
    )
    project = Project(**{**data.model_dump(), "cluster_code": cluster})
    session.add(project)
    session.commit()
    session.refresh(project)
    return project


def update_project(
    session: Session, project_id: int, data: ProjectUpdate, expected_version: int | None = None
) -> Project:
    project = get_project(session, project_id, for_update=True)
    check_version(expected_version, project.version, "项目信息")
    changes = data.model_dump(exclude_unset=True)
    refuse_nulls(Project, changes)
    for field in ("name", "kind", "total_investment_fen", "year", "status"):
        if field in changes and changes[field] is None:
            raise Unprocessable(f"{field} 不能为空。", code="missing_field", field=field)
    if "cluster_code" in changes:
        changes["cluster_code"] = Vocabulary(session).cluster(changes["cluster_code"])
    merged = {**row_dict(project), **changes}
    _check_project_amounts(
        merged["total_investment_fen"],
        merged["equipment_investment_fen"],
        merged["financing_need_fen"],
    )
    for field, value in changes.items():
        setattr(project, field, value)
    bump_version(session, Project, project, "项目信息")
    session.commit()
    session.refresh(project)
    return project


@dataclass
class ProjectFilters:
    enterprise_id: int | None = None
    cluster: str | None = None
    tier: str | None = None
    district: str | None = None
    kind: str | None = None
    status: str | None = None
    year: int | None = None
    min_financing_need_fen: int | None = None


def list_projects(session: Session, f: ProjectFilters, page: PageParams) -> Page[ProjectPublic]:
    vocabulary = Vocabulary(session)
    conditions: list[ColumnElement[bool]] = []
    if f.enterprise_id is not None:
        conditions.append(Project.enterprise_id == f.enterprise_id)
    if f.cluster:
        conditions.append(Project.cluster_code == vocabulary.cluster(f.cluster, field="cluster"))
    if f.tier:
        if f.tier not in Tier.__members__:
            raise Unprocessable(
                f"未知的产业层级 '{f.tier}'，应为 landmark、advantage 或 future。",
                code="unknown_tier",
                field="tier",
            )
        conditions.append(
            Project.cluster_code.in_(select(Cluster.code).where(Cluster.tier == f.tier))
        )
    if f.district:
        conditions.append(
            Enterprise.district_code == vocabulary.district(f.district, field="district")
        )
    if f.kind:
        conditions.append(Project.kind == f.kind)
    if f.status:
        conditions.append(Project.status == f.status)
    if f.year is not None:
        conditions.append(Project.year == f.year)
    if f.min_financing_need_fen is not None:
        conditions.append(Project.financing_need_fen >= f.min_financing_need_fen)
    key = cursor_key(page, 1, (int,))
    rows = queries.project_page(session, conditions, key[0] if key else None, page.limit)
    result = make_page(rows, page.limit, lambda r: [r[0].id])
    result.items = [
        ProjectPublic.model_validate({**row_dict(p), "enterprise_name": name})
        for p, name in result.items
    ]
    return result
