"""A library release as a spreadsheet (CSV for Excel, XLSX), one file per kind.

The office gets the release as published, every field. A bank gets its view of it, read
through ``releases.items`` page by page (the query and the tiers of the API's items, not a
copy of them): every enterprise's public facts, every listed project's, the private facts of
the enterprises that consented when it was published and still do, and the items whose
consent was withdrawn since marked, their private facts left out. A bank's file has the
private columns too, empty where it may not see them, and a column that says why.

The columns are the library's (``enterprises.exports``): names, not codes; money in 万元; a
list (qualifications, contacts, financing needs) as text in one cell. Who gets which file is the
access policy's (``reads_releases_as_published``, and ``bank_view`` through ``releases.items``)."""

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlmodel import Session

from service.access.policy import FactTier, Principal, reads_releases_as_published, tier_fields
from service.core.exports import Format, OpenSession, Spreadsheet, check_fits
from service.core.pagination import PageParams
from service.enterprises import exports as library
from service.enterprises.exports import Column, Kind, Names, wan
from service.lists import queries, releases
from service.lists.schemas import ReleaseItemPublic
from service.matching.defaults import DEFAULT_PURPOSES

BATCH = 1000


def need_text(need: Mapping[str, Any]) -> str:
    """300 万元，12 个月，流动资金，2026-12-31 前"""
    purpose = DEFAULT_PURPOSES.get(need.get("purpose") or "", (need.get("purpose"), None))[0]
    parts = [f"{wan(need.get('amount_fen'))} 万元", f"{need.get('term_months')} 个月", purpose]
    if need.get("wanted_by_date"):
        parts.append(f"{need['wanted_by_date']} 前")
    return "，".join(str(p) for p in parts if p)


def needs_text(needs: Sequence[Mapping[str, Any]] | None) -> str | None:
    return "；".join(need_text(n) for n in needs) if needs else None


NEEDS = Column("融资需求", lambda d, _: needs_text(d.get("needs")), width=40, field="needs")
ENTERPRISE_COLUMNS: dict[FactTier, tuple[Column, ...]] = {
    FactTier.public: (
        library.CREDIT_CODE,
        library.NAME,
        library.DISTRICT,
        library.CLUSTER,
        library.CHAIN,
        library.INDUSTRY_CODE,
        library.INDUSTRY,
        library.OWNERSHIP,
        library.ESTABLISHED,
        library.SIZE,
        library.QUALIFICATIONS,
        library.QUALIFICATIONS_EXPIRY,
    ),
    FactTier.private: (
        library.EMPLOYEES,
        library.REVENUE,
        library.ASSETS,
        library.GRADE,
        library.CONTACTS,
        NEEDS,
    ),
}
PROJECT_COLUMNS: dict[FactTier, tuple[Column, ...]] = {
    FactTier.public: (
        library.PROJECT_NAME,
        library.PROJECT_UNIT,
        library.PROJECT_UNIT_CODE,  # the unit's: one of its enterprise's public facts
        library.PROJECT_YEAR,
        library.PROJECT_TOTAL,
        library.PROJECT_CLUSTER,
        library.PROJECT_LIST,
    ),
    FactTier.private: (
        library.PROJECT_KIND,
        library.PROJECT_STATUS,
        library.PROJECT_EQUIPMENT,
        library.PROJECT_NEED,
        library.PROJECT_DESCRIPTION,
    ),
}
COLUMNS = {"enterprise": ENTERPRISE_COLUMNS, "project": PROJECT_COLUMNS}
ID_HEADER = {"enterprise": "企业编号", "project": "项目编号"}
SHARING_HEADER = "非公开信息"
SHARED_AT_PUBLICATION_HEADER = "发布时授权共享"
SHARING_LABEL = {
    "shared": "已授权",
    "not_shared": "未授权",
    releases.CONSENT_WITHDRAWN: "授权已撤回（不再提供）",
}


def sharing(kind: str, item: ReleaseItemPublic) -> str:
    """What a bank's row of the item holds: its private facts by consent, not (public facts
    only), or no longer (withdrawn since publication)."""
    if item.withheld:
        return item.withheld
    private = set(tier_fields(kind, FactTier.private))
    return "shared" if item.data and private & item.data.keys() else "not_shared"


def columns_of(kind: Kind) -> tuple[Column, ...]:
    """The fact columns of a kind: the public ones, then the private ones."""
    return COLUMNS[kind][FactTier.public] + COLUMNS[kind][FactTier.private]


def release_export(
    session: Session,
    principal: Principal,
    number: int | None,
    kind: Kind,
    fmt: Format,
    open_session: OpenSession,
) -> Spreadsheet:
    """A release (by number, or the latest) of one library as the caller sees it."""
    release = releases.get_release(session, principal, number)  # an office's or a bank's
    found, as_of = release.number, release.as_of.isoformat()
    everything = reads_releases_as_published(principal)
    check_fits(fmt, release.enterprises if kind == "enterprise" else release.projects)
    names = Names.load(session)
    facts = columns_of(kind)
    headers = [Column(ID_HEADER[kind], lambda d, _: None, "int")]
    if everything:
        headers.append(Column(SHARED_AT_PUBLICATION_HEADER, lambda d, _: None))
    else:
        headers.append(Column(SHARING_HEADER, lambda d, _: None, width=22))
    columns = (*facts[:2], *headers, *facts[2:])

    def lines() -> Iterator[list[Any]]:
        for item, shared, unit_code in _items(open_session, principal, found, kind):
            data = dict(item.data or {})
            if kind == "project":
                data["unit_credit_code"] = unit_code
            mark = library.yes_no(shared) if everything else SHARING_LABEL[sharing(kind, item)]
            cells = [c.value(data, names) if item.data else None for c in facts]
            yield [*cells[:2], item.id, mark, *cells[2:]]

    library.release_request_session(session)
    whose = "" if everything else f"_{principal.bank_code}"
    english = "enterprises" if kind == "enterprise" else "projects"
    return library.spreadsheet(
        fmt,
        f"{library.LIBRARY_NAME[kind]}_第{found}版_{as_of}{whose}.{fmt}",
        f"finmatch-{english}-release-{found}-{as_of}{whose}.{fmt}",
        f"{library.LIBRARY_NAME[kind]}第{found}版",
        columns,
        lines,
    )


def _items(
    open_session: OpenSession, principal: Principal, number: int, kind: Kind
) -> Iterator[tuple[ReleaseItemPublic, bool | None, str | None]]:
    """Every item of the kind as ``releases.items`` gives it to the caller, a page at a time
    (each in a session of its own), with whether it was shared when published (the office
    only) and, for a project, its unit's credit code."""
    cursor: str | None = None
    while True:
        with open_session() as session:
            page = releases.items(
                session, principal, number, PageParams(limit=BATCH, cursor=cursor), kind
            )
            shared = (
                queries.shared_when_published(session, number, kind, [i.id for i in page.items])
                if reads_releases_as_published(principal)
                else {}
            )
            units = _unit_codes(session, number, page.items) if kind == "project" else {}
        for item in page.items:
            unit = (item.data or {}).get("enterprise_id")
            yield item, shared.get(item.id), units.get(unit) if unit else None
        cursor = page.next_cursor
        if not cursor:
            return


def _unit_codes(
    session: Session, number: int, items: Sequence[ReleaseItemPublic]
) -> dict[int, str]:
    """The credit codes of the projects' units in the same release: a public fact of every
    enterprise, so every bank may read it beside any project it sees."""
    ids = sorted({i.data["enterprise_id"] for i in items if i.data and i.data.get("enterprise_id")})
    return queries.credit_codes_in_release(session, number, ids)
