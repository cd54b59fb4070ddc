"""Use cases of the enterprise library (企业库): an enterprise with its qualifications and
contacts, created, read, changed, listed and searched by name. (The project library's are in
``projects``, the bulk imports' in ``import_service``, the exports in ``exports``.)

Who may do what: the office creates enterprises, lists and searches the library and keeps
qualifications; an enterprise reads and changes its own profile, but only the fields it keeps
itself (``access.policy.check_enterprise_fields``); another's answers as missing (404). Its
consent to share with banks is recorded by ``consent``. Each write use case commits once; a
failure leaves nothing half-written."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete

from service.access.audit import SYSTEM
from service.access.models import Role
from service.access.policy import (
    Principal,
    check_enterprise_fields,
    ensure_sees_enterprise,
    require,
)
from service.core.concurrency import bump_version, check_version
from service.core.database import ROW_LOCK
from service.core.errors import Unprocessable
from service.core.events import emit
from service.core.models import refuse_nulls, row_dict, today_local
from service.core.pagination import Page, PageParams, cursor_key, encode_cursor, make_page
from service.core.settings import get_settings
from service.enterprises import queries
from service.enterprises.consent import apply_consent, consent_public
from service.enterprises.derive import derive, expiry
from service.enterprises.exceptions import (
    DuplicateCreditCode,
    EnterpriseNotFound,
    InvalidEnterprise,
)
from service.enterprises.models import Contact, Enterprise, Qualification
from service.enterprises.name_index import library_names
from service.enterprises.schemas import (
    ContactPublic,
    EnterpriseCreate,
    EnterprisePublic,
    EnterpriseSummary,
    EnterpriseUpdate,
    QualificationCreate,
    QualificationPublic,
)
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
        if expires is None:
            expires = expiry(item.issued_date, terms.get(code))
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


def check_tier(tier: str) -> None:
    """A cluster tier to filter by (of enterprises or of projects) is one of the three."""
    if tier not in Tier.__members__:
        raise Unprocessable(
            f"未知的产业层级 '{tier}'，应为 landmark、advantage 或 future。",
            code="unknown_tier",
            field="tier",
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


def _id(row: Enterprise | Qualification) -> int:
    """The id of a row read or flushed (never None then)."""
    assert row.id is not None
    return row.id


def read_enterprise(session: Session, enterprise_id: int, principal: Principal) -> Enterprise:
    """An enterprise, for the office or the enterprise itself."""
    ensure_sees_enterprise(principal, enterprise_id)
    return get_enterprise(session, enterprise_id)


def enterprise_public(
    session: Session, enterprise: Enterprise, on: date | None = None
) -> EnterprisePublic:
    on = on or today_local()
    names = Vocabulary(session).qualifications
    quals = [
        QualificationPublic(
            id=_id(q),
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
    """Add an enterprise (the office). Its consent to share private facts with banks is
    recorded only when sent: by the office, with the signed 入库申报 form it comes from."""
    require(principal, Role.office)
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
    apply_consent(
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
        session.add(Qualification(enterprise_id=_id(enterprise), **row))
    for contact in data.contacts:
        session.add(Contact(enterprise_id=_id(enterprise), **contact.model_dump()))
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
    """Change the fields sent (the office, or the enterprise itself those it keeps)."""
    ensure_sees_enterprise(principal, enterprise_id)
    check_enterprise_fields(principal, data.model_fields_set)
    enterprise = get_enterprise(session, enterprise_id, for_update=True)
    check_version(expected_version, enterprise.version, "企业信息")
    vocabulary = Vocabulary(session)
    changes = data.model_dump(exclude_unset=True)
    refuse_nulls(Enterprise, changes)  # the name among the fields that cannot be emptied
    apply_consent(
        enterprise,
        principal,
        changes.pop("share_with_banks", None),
        changes.pop("consent_form_ref", None),
        changes.pop("consent_form_signed_on", None),
    )
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
        session.exec(delete(Qualification).where(col(Qualification.enterprise_id) == enterprise.id))
        for row in qualification_rows:
            session.add(Qualification(enterprise_id=_id(enterprise), **row))
    if contacts is not None:
        session.exec(delete(Contact).where(col(Contact.enterprise_id) == enterprise.id))
        for contact in data.contacts or []:
            session.add(Contact(enterprise_id=_id(enterprise), **contact.model_dump()))
    bump_version(session, Enterprise, enterprise, "企业信息")
    emit(session, "enterprise.changed", enterprise_id=enterprise.id)
    session.commit()
    session.refresh(enterprise)
    return enterprise


def add_qualification(
    session: Session, enterprise_id: int, data: QualificationCreate, principal: Principal
) -> Qualification:
    """The office records a qualification (its expiry by default from the type's term)."""
    require(principal, Role.office)
    enterprise = get_enterprise(session, enterprise_id, for_update=True)
    (row,) = _qualification_rows(session, Vocabulary(session), [data])
    qualification = Qualification(enterprise_id=_id(enterprise), **row)
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


def remove_qualification(
    session: Session, enterprise_id: int, qualification_id: int, principal: Principal
) -> None:
    require(principal, Role.office)
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
        out.append(col(Enterprise.cluster_code) == vocabulary.cluster(f.cluster, field="cluster"))
    if f.tier:
        check_tier(f.tier)
        out.append(queries.tier_condition(col(Enterprise.cluster_code), f.tier))
    if f.district:
        out.append(
            col(Enterprise.district_code) == vocabulary.district(f.district, field="district")
        )
    if f.size_class:
        if f.size_class not in SizeClass.__members__:
            raise Unprocessable(
                f"未知的企业规模 '{f.size_class}'，应为 large、medium、small 或 micro。",
                code="unknown_size_class",
                field="size_class",
            )
        out.append(col(Enterprise.size_class) == f.size_class)
    if f.qualification:
        code = vocabulary.qualification(f.qualification, field="qualification")
        assert code is not None
        out.append(queries.qualification_valid_on(code, f.valid_on or today_local()))
    if f.credit_code:
        out.append(col(Enterprise.credit_code) == f.credit_code.strip().upper())
    if f.registered_in_wuxi is not None:
        out.append(col(Enterprise.registered_in_wuxi) == f.registered_in_wuxi)
    if f.chain_tag:
        out.append(col(Enterprise.chain_tag) == f.chain_tag)
    if f.ownership == UNKNOWN:
        out.append(col(Enterprise.ownership).is_(None))
    elif f.ownership:
        out.append(
            col(Enterprise.ownership) == vocabulary.ownership(f.ownership, field="ownership")
        )
    if f.private is not None:
        out.append(queries.private_condition(f.private))
    if f.industry:
        prefix = f.industry.strip().upper()
        if prefix[:1].isdigit():
            code = _industry(prefix + "0" * max(0, 2 - len(prefix)))
            assert code is not None
            prefix = code[: len(prefix) + 1]
        out.append(col(Enterprise.industry_code).startswith(prefix))
    return out


def _summaries(
    session: Session, rows: list[Enterprise], on: date, scores: dict[int, float] | None = None
) -> list[EnterpriseSummary]:
    codes = queries.valid_qualification_codes(session, [_id(e) for e in rows], on)
    return [
        EnterpriseSummary(
            id=_id(e),
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
            qualification_codes=codes.get(_id(e), []),
            match_score=(scores or {}).get(_id(e)),
            updated_at=e.updated_at,
        )
        for e in rows
    ]


def list_enterprises(
    session: Session, filters: EnterpriseFilters, page: PageParams, principal: Principal
) -> Page[EnterpriseSummary]:
    """The library, filtered, for the office; by name, ranked by how well each matches."""
    require(principal, Role.office)
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
