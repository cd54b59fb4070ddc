"""Use cases of financing needs, matching's own objects: post, read, list, change and withdraw a
need (its enterprise, or the office for it; to anyone else a need does not exist), and keep its
stored matches (``NeedMatch``: its top products) current: a need is matched again in the
transaction that posts or changes it, and the open needs when their enterprise or the catalogue
changes. A withdrawn, fulfilled or expired need is closed: it cannot change and has no matches.

The other use cases of matching are topics of their own: ``recommendations`` (and
explanations), ``prospects``, ``configuration`` (the scoring configuration's versions) and
``rematch`` (the listeners and jobs that keep stored matches current)."""

from datetime import date

from sqlmodel import Session

from service.access.audit import SYSTEM
from service.access.policy import (
    Principal,
    ensure_sees_enterprise,
    enterprise_scope,
)
from service.core.concurrency import bump_version, check_version
from service.core.database import ROW_LOCK
from service.core.events import emit
from service.core.models import refuse_nulls, row_dict, today_local, utcnow
from service.core.pagination import Page, PageParams, cursor_key, make_page
from service.enterprises.models import Enterprise, Project
from service.matching import facts, queries, scoring
from service.matching.catalogue import Catalogue
from service.matching.exceptions import (
    InvalidNeed,
    NeedClosed,
    NeedNotFound,
)
from service.matching.models import FinancingNeed, NeedMatch, NeedStatus
from service.matching.schemas import NeedCreate, NeedPublic, NeedUpdate

CLOSED = (NeedStatus.withdrawn, NeedStatus.fulfilled, NeedStatus.expired)


# --- needs ----------------------------------------------------------------------------------


def get_need(session: Session, need_id: int, for_update: bool = False) -> FinancingNeed:
    need = session.get(
        FinancingNeed,
        need_id,
        with_for_update=ROW_LOCK if for_update else None,
        populate_existing=for_update,
    )
    if need is None:
        raise NeedNotFound(f"融资需求 {need_id} 不存在。")
    return need


def read_need(session: Session, need_id: int, principal: Principal) -> FinancingNeed:
    """A need, for the office or its enterprise (to anyone else it does not exist)."""
    need = get_need(session, need_id)
    ensure_sees_enterprise(principal, need.enterprise_id, "融资需求")
    return need


def _check_project(session: Session, enterprise_id: int, project_id: int | None) -> None:
    if project_id is None:
        return
    project = session.get(Project, project_id)
    if project is None:
        raise InvalidNeed(f"项目 {project_id} 不存在。", code="unknown_project", field="project_id")
    if project.enterprise_id != enterprise_id:
        raise InvalidNeed(
            f"项目 {project_id} 不属于企业 {enterprise_id}。",
            code="project_not_of_enterprise",
            field="project_id",
        )


def _check_wanted_by(value: date | None) -> None:
    if value is not None and value < today_local():
        raise InvalidNeed(
            "期望到位日期不能早于今天。", code="invalid_wanted_by_date", field="wanted_by_date"
        )


def _check_banks(session: Session, codes: list[str] | None) -> None:
    if not codes:
        return
    known = queries.known_bank_codes(session, codes)
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise InvalidNeed(
            f"未知的银行代码：{'、'.join(unknown)}。", code="unknown_bank", field="bank_codes"
        )


def create_need(session: Session, data: NeedCreate, principal: Principal = SYSTEM) -> FinancingNeed:
    """Post a need (its enterprise, or the office for it) and match it at once."""
    enterprise_scope(principal, data.enterprise_id)
    enterprise = session.get(Enterprise, data.enterprise_id)
    if enterprise is None:
        raise InvalidNeed(
            f"企业 {data.enterprise_id} 不存在。", code="unknown_enterprise", field="enterprise_id"
        )
    _check_project(session, data.enterprise_id, data.project_id)
    _check_wanted_by(data.wanted_by_date)
    _check_banks(session, data.bank_codes)
    need = FinancingNeed(**{**data.model_dump(), "collateral": [str(c) for c in data.collateral]})
    session.add(need)
    session.flush()
    rematch_need(session, need)
    emit(session, "need.posted", need_id=need.id)
    session.commit()
    session.refresh(need)
    return need


def update_need(
    session: Session,
    need_id: int,
    data: NeedUpdate,
    expected_version: int | None = None,
    principal: Principal = SYSTEM,
) -> FinancingNeed:
    """Change the fields sent and match the need again (its enterprise, or the office)."""
    need = get_need(session, need_id, for_update=True)
    ensure_sees_enterprise(principal, need.enterprise_id, "融资需求")
    check_version(expected_version, need.version, "融资需求")
    if need.status in CLOSED:
        raise NeedClosed(f"融资需求 {need_id} 已{status_label(need.status)}，不能再修改。")
    changes = data.model_dump(exclude_unset=True)
    refuse_nulls(FinancingNeed, changes)
    for field in (
        "amount_fen",
        "term_months",
        "purpose",
        "collateral",
        "consent_share_details",
        "max_banks",
    ):
        if field in changes and changes[field] is None:
            raise InvalidNeed(f"{field} 不能为空。", code="missing_field", field=field)
    if "project_id" in changes:
        _check_project(session, need.enterprise_id, changes["project_id"])
    if "wanted_by_date" in changes:
        _check_wanted_by(changes["wanted_by_date"])
    if "bank_codes" in changes:
        _check_banks(session, changes["bank_codes"])
    if "collateral" in changes:
        changes["collateral"] = [str(c) for c in changes["collateral"]]
    for field, value in changes.items():
        setattr(need, field, value)
    bump_version(session, FinancingNeed, need, "融资需求")
    rematch_need(session, need)
    emit(session, "need.changed", need_id=need.id)
    session.commit()
    session.refresh(need)
    return need


def withdraw_need(
    session: Session, need_id: int, expected_version: int | None = None, *, principal: Principal
) -> FinancingNeed:
    """Withdraw a need (its enterprise, or the office): its stored matches go. Idempotent."""
    need = get_need(session, need_id, for_update=True)
    ensure_sees_enterprise(principal, need.enterprise_id, "融资需求")
    check_version(expected_version, need.version, "融资需求")
    if need.status == NeedStatus.withdrawn:
        return need  # withdrawing twice is the same as once
    if need.status in CLOSED:
        raise NeedClosed(f"融资需求 {need_id} 已{status_label(need.status)}，不能撤回。")
    need.status = NeedStatus.withdrawn
    bump_version(session, FinancingNeed, need, "融资需求")
    queries.delete_need_matches(session, need_id)
    emit(session, "need.withdrawn", need_id=need.id)
    session.commit()
    session.refresh(need)
    return need


def status_label(status: str) -> str:
    return {"withdrawn": "撤回", "fulfilled": "完成", "expired": "过期"}.get(str(status), "关闭")


def need_public(need: FinancingNeed) -> NeedPublic:
    return NeedPublic.model_validate(row_dict(need))


def list_needs(
    session: Session,
    page: PageParams,
    enterprise_id: int | None = None,
    status: str | None = None,
    *,
    principal: Principal,
) -> Page[NeedPublic]:
    """Needs by id: the office's, of one enterprise if asked; an enterprise's own only."""
    enterprise_id = enterprise_scope(principal, enterprise_id)
    key = cursor_key(page, 1, (int,))
    rows = queries.need_page(session, enterprise_id, status, key[0] if key else None, page.limit)
    result = make_page(rows, page.limit, lambda n: [n.id])
    result.items = [need_public(n) for n in result.items]
    return result


# --- stored matches -------------------------------------------------------------------------


def rematch_need(session: Session, need: FinancingNeed, catalogue: Catalogue | None = None) -> int:
    """Replace the need's stored matches with its current top products. No commit."""
    assert need.id is not None  # a stored (or flushed) need
    queries.delete_need_matches(session, need.id)
    if need.status in CLOSED:
        return 0
    catalogue = catalogue or Catalogue.load(session)
    enterprise = session.get(Enterprise, need.enterprise_id)
    assert enterprise is not None
    facts_ = catalogue.enterprise_facts(session, enterprise)
    results = catalogue.score_all(facts_, facts.need_facts(need, catalogue.config))
    ranked = scoring.rank(results)[: catalogue.config.top_per_enterprise]
    versions = {offer.rules.id: offer.version for offer in catalogue.offers}
    now = utcnow()
    for rank, result in enumerate(ranked, start=1):
        session.add(
            NeedMatch(
                need_id=need.id,
                enterprise_id=need.enterprise_id,
                product_id=result.product_id,
                product_version=versions[result.product_id],
                config_version=result.config_version,
                score_centi=result.score_centi,
                need_rank=rank,
                computed_at=now,
            )
        )
    session.flush()
    return len(ranked)


def rematch_open_needs(session: Session, enterprise_id: int | None = None) -> int:
    needs = queries.open_needs_for_update(
        session, None if enterprise_id is None else [enterprise_id]
    )
    if not needs:
        return 0
    catalogue = Catalogue.load(session)
    for need in needs:
        rematch_need(session, need, catalogue)
    return len(needs)
