"""The enterprise's support policies (政策直达): each policy it is entitled to now, with the
amount and how it is made up, why, what to prepare, the department that runs it and what the
office recorded of its award; the ones not yet found marked 新; then, folded, the policies it
is not entitled to with what is missing.

Opening the page marks its notices seen, as opening a new lead records that the bank saw it:
the person has now read them. The policies use cases decide who sees what (an enterprise its
own)."""

import re
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from sqlmodel import Session

from service.policies import service as policies
from service.policies.schemas import EntitlementPublic
from service.web.enterprise import enterprise_id_of, page
from service.web.pages import SessionDep, first_page, page_router, qualification_names
from service.web.security import EnterpriseUser, Visitor

router = page_router()

# A qualification's code in a reason, as the rules write it: "2026-03-01 获评（little_giant）".
_CODE_IN_WORDS = re.compile(r"（([a-z][a-z0-9_]*)）")


def in_words(text: str, names: dict[str, str]) -> str:
    """A reason with the qualification types it names by their names, never their codes."""
    return _CODE_IN_WORDS.sub(lambda m: f"（{names.get(m.group(1), '相关资质')}）", text)


@dataclass
class PolicyView:
    """One policy as the page shows it."""

    item: EntitlementPublic
    reasons: list[str]
    missing: list[str]
    new: bool  # told of it, and not yet seen


def policy_views(
    items: list[EntitlementPublic], unseen: set[tuple[str, str]], names: dict[str, str]
) -> list[PolicyView]:
    """The entitlements with their words readable and the new ones marked. Pure."""
    return [
        PolicyView(
            item=e,
            reasons=[in_words(r, names) for r in e.reasons],
            missing=[in_words(m, names) for m in e.missing],
            new=(e.policy_code, e.period or "") in unseen,
        )
        for e in items
    ]


def _unseen(session: Session, who: Visitor) -> list[Any]:
    return first_page(lambda p: policies.list_notices(session, who.principal, p, unseen=True))


@router.get("/enterprise/policies")
def enterprise_policies(request: Request, session: SessionDep, who: EnterpriseUser) -> Response:
    items = policies.entitlements(
        session, who.principal, enterprise_id_of(who), include_ineligible=True
    )
    unseen = _unseen(session, who)
    views = policy_views(
        items, {(n.policy_code, n.period) for n in unseen}, qualification_names(session)
    )
    if unseen:  # shown now: seen from here on
        policies.mark_seen(session, who.principal, max(n.id for n in unseen))
    return page(
        request,
        "enterprise/policies.html",
        who,
        entitled=[v for v in views if v.item.eligible],
        others=[v for v in views if not v.item.eligible],
        new_count=sum(1 for v in views if v.new),
    )
