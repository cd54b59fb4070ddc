"""Use case of a product's prospects: the enterprises kept for it, those with a posted need first
by score, then those whose profile fits; for the office and the product's bank. What the bank
may see of each: public facts always, private facts with the enterprise's consent to that bank
(``access.policy.private_facts_shared``), a need without consent anonymously."""

from bisect import bisect_right
from typing import Any

from sqlmodel import Session

from service.access.models import Role
from service.access.policy import (
    Principal,
    blank_private,
    check_sees_bank,
    private_facts_shared,
)
from service.core.models import today_local
from service.core.pagination import Page, PageParams, cursor_key, encode_cursor
from service.enterprises.models import Enterprise
from service.enterprises.queries import enterprises_by_ids, valid_qualification_codes
from service.matching import facts, queries
from service.matching.schemas import (
    Prospect,
    ProspectNeed,
)
from service.products.service import get_product


def prospects(
    session: Session, product_code: str, page: PageParams, principal: Principal
) -> Page[Prospect]:
    """The product's kept prospects, for the office and the product's bank: enterprises whose
    posted needs fit it, then library enterprises whose profile fits it; best first. Public
    facts always; private facts with the enterprise's consent to the product's bank; a need
    without consent anonymously."""
    product = get_product(session, product_code)
    check_sees_bank(principal, product.bank_code)
    assert product.id is not None
    need_rows = queries.need_prospects(session, product.id)
    profile_rows = queries.profile_prospects(session, product.id)
    entries = [(-m.score_centi, 0, m.id, "need", m.enterprise_id, m, need) for m, need in need_rows]
    entries += [
        (-m.score_centi, 1, m.id, "profile", m.enterprise_id, m, None) for m in profile_rows
    ]
    entries.sort(key=lambda e: e[:3])
    key = cursor_key(page, 3, (int, int, int))
    start = 0
    if key:
        start = bisect_right([e[:3] for e in entries], (int(key[0]), int(key[1]), int(key[2])))
    window = entries[start : start + page.limit + 1]
    shown = window[: page.limit]
    ids = [e[4] for e in shown]
    enterprises = enterprises_by_ids(session, ids)
    quals = valid_qualification_codes(session, ids, today_local())
    # What the product's bank may see, whoever asks (the office sees the bank's view).
    sharing = private_facts_shared(
        Principal(Role.bank, bank_code=product.bank_code),
        ids,
        lambda wanted, bank_code: facts.consenting(session, wanted, bank_code),
    )
    items = []
    for position, (neg, _, match_id, basis, enterprise_id, _, need) in enumerate(shown, 1):
        enterprise = enterprises[enterprise_id]
        private = enterprise_id in sharing
        # Who the enterprise is and what it wants to borrow together reveal its need: a need
        # shared by neither the need's own consent nor the enterprise's stays anonymous.
        anonymous = need is not None and not (need.consent_share_details or private)
        items.append(
            Prospect(
                prospect_id=f"{basis}-{match_id}",
                basis=basis,
                score=-neg / 100,
                rank=start + position,
                consented=private or bool(need is not None and need.consent_share_details),
                anonymous=anonymous,
                cluster_code=enterprise.cluster_code,
                district_code=enterprise.district_code,
                size_class=enterprise.size_class,
                qualification_codes=quals.get(enterprise_id, []),
                registered_in_wuxi=enterprise.registered_in_wuxi,
                need=ProspectNeed(
                    amount_fen=need.amount_fen,
                    term_months=need.term_months,
                    purpose=str(need.purpose),
                    collateral=list(need.collateral),
                    wanted_by_date=need.wanted_by_date,
                )
                if need
                else None,
                enterprise_id=None if anonymous else enterprise.id,
                enterprise_name=None if anonymous else enterprise.name,
                credit_code=None if anonymous else enterprise.credit_code,
                industry_code=None if anonymous else enterprise.industry_code,
                **_figures(enterprise, private),
            )
        )
    next_cursor = (
        encode_cursor(list(window[page.limit - 1][:3])) if len(window) > page.limit else None
    )
    return Page(items=items, next_cursor=next_cursor, limit=page.limit)


def _figures(enterprise: Enterprise, private: bool) -> dict[str, Any]:
    """A prospect's figures and grade: private facts, blanked without consent."""
    figures = {
        "employees": enterprise.employees,
        "revenue_fen": enterprise.revenue_fen,
        "total_assets_fen": enterprise.total_assets_fen,
        "credit_grade": enterprise.credit_grade,
    }
    return figures if private else blank_private("enterprise", figures)
