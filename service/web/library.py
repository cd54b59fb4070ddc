"""The library pages: the office's releases (what each gives banks, its warnings, its
exports) and a bank's view of the latest release (every enterprise's public facts, the
private facts of those that consented), searched and paged. What a bank sees is decided by
the releases' own use cases (``releases.view``, ``releases.items``); this module only puts it
into words."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from service.access.policy import FactTier, Principal, tier_fields
from service.core.pagination import PageParams
from service.enterprises.exports import (
    Names,
    contact_text,
    industry_section,
    qualifications_text,
)
from service.lists import releases
from service.lists.exceptions import ReleaseNotFound
from service.lists.exports import need_text, sharing
from service.lists.schemas import ReleasePublic
from service.web.labels import label

PAGE_SIZE = 50


def tiers_in_words() -> dict[str, dict[str, list[str]]]:
    """Which fields of each kind every bank gets and which only with consent, by their
    Chinese names: {"enterprise": {"public": [...], "private": [...]}, "project": …}."""
    return {
        kind: {
            str(tier): [label(f"{kind}_field", name) for name in tier_fields(kind, tier)]
            for tier in FactTier
        }
        for kind in ("enterprise", "project")
    }


def office_releases(session: Session, principal: Principal, limit: int = 50) -> Any:
    return releases.list_releases(session, principal, PageParams(limit=limit, cursor=None))


@dataclass
class EnterpriseRow:
    """One enterprise of a bank's library page, in words."""

    id: int
    name: str | None
    credit_code: str | None
    sharing: str  # shared | not_shared | consent_withdrawn
    facts: dict[str, str | None] = field(default_factory=dict)  # public, by Chinese name
    private: dict[str, Any] = field(default_factory=dict)  # by Chinese name
    contacts: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)


def _wan(fen: int | None) -> str | None:
    return None if fen is None else f"{fen / 1_000_000:,.2f} 万元"


def enterprise_row(item: Any, names: Names) -> EnterpriseRow:
    data: Mapping[str, Any] = item.data or {}
    industry = data.get("industry_code")
    facts = {
        "所属地区": names.district.get(data.get("district_code") or "", data.get("district_code")),
        "产业集群": names.cluster.get(data.get("cluster_code") or "", data.get("cluster_code")),
        "行业": f"{industry_section(industry)}（{industry}）" if industry else None,
        "控股情况": names.ownership.get(data.get("ownership") or "", data.get("ownership")),
        "成立日期": data.get("established_date"),
        "企业规模": label("size", data.get("size_class")) if data.get("size_class") else None,
        "产业链": data.get("chain_tag"),
        "资质": qualifications_text(data.get("qualifications"), names),
    }
    row = EnterpriseRow(
        id=item.id,
        name=data.get("name"),
        credit_code=data.get("credit_code"),
        sharing=sharing("enterprise", item),
        facts=facts,
    )
    if row.sharing == "shared":
        employees = data.get("employees")
        row.private = {
            "从业人员": f"{employees:,} 人" if employees is not None else None,
            "营业收入": _wan(data.get("revenue_fen")),
            "资产总额": _wan(data.get("total_assets_fen")),
            "信用等级": data.get("credit_grade"),
        }
        ordered = sorted(data.get("contacts") or [], key=lambda c: not c.get("is_primary"))
        row.contacts = [contact_text(c) for c in ordered]
        row.needs = [need_text(n) for n in data.get("needs") or []]
    return row


@dataclass
class LibraryPage:
    """The latest release as the bank sees it: one page of its enterprises."""

    release: ReleasePublic | None
    rows: Sequence[EnterpriseRow]
    search: str
    next_cursor: str | None
    page: int

    @property
    def consenting_now(self) -> int:
        if self.release is None:
            return 0
        return self.release.shared_enterprises - self.release.withheld_since_consent_withdrawn


def bank_library(
    session: Session,
    principal: Principal,
    search: str | None,
    cursor: str | None,
    page: int,
) -> LibraryPage:
    search = (search or "").strip()
    try:
        _, release = releases.view(session, principal, None)
    except ReleaseNotFound:
        return LibraryPage(None, [], search, None, 1)
    found = releases.items(
        session,
        principal,
        release.number,
        PageParams(limit=PAGE_SIZE, cursor=cursor),
        "enterprise",
        search or None,
    )
    names = Names.load(session)
    rows = [enterprise_row(item, names) for item in found.items]
    return LibraryPage(release, rows, search, found.next_cursor, page if cursor else 1)
