"""The office's search of the enterprise library with its total: a page of the enterprises
domain's own search (``enterprises.service.list_enterprises``: by name through the name
index, ranked by how well each name matches; by credit code, district, cluster and
qualification held today), and how many enterprises match in all.

The total counts what the same search finds: the rows passing the filters (one count in
SQL, on the indexed district and cluster columns), or, searching by name, the names of the
index scoring at least ``FINMATCH_NAME_SEARCH_MIN_SCORE`` among them that exist now (an
estimate, said so, when a common word matches more than ``VERIFY_MAX`` names)."""

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlmodel import Session, col

from service.access.models import Role
from service.access.policy import Principal, require
from service.core.models import today_local
from service.core.pagination import Page, PageParams
from service.core.settings import get_settings
from service.enterprises import queries as enterprise_queries
from service.enterprises import service as enterprises
from service.enterprises.models import Enterprise
from service.enterprises.name_index import library_names
from service.enterprises.schemas import EnterpriseSummary
from service.taxonomy.names import best_matches, normalize_company_name
from service.taxonomy.service import Vocabulary

SUBSET_MAX = 100_000
CHUNK = 5_000
VERIFY_MAX = 20_000  # matching names checked against the table; more: an estimate


@dataclass(frozen=True)
class LibrarySearch:
    name: str | None = None
    credit_code: str | None = None
    district: str | None = None
    cluster: str | None = None
    qualification: str | None = None

    def any(self) -> bool:
        return any((self.name, self.credit_code, self.district, self.cluster, self.qualification))


@dataclass(frozen=True)
class LibraryPage:
    page: Page[EnterpriseSummary]
    total: int
    approximate: bool = False  # a name search matching more than VERIFY_MAX names


def _conditions(session: Session, search: LibrarySearch) -> list[ColumnElement[bool]]:
    vocabulary = Vocabulary(session)
    out: list[ColumnElement[bool]] = []
    if search.district:
        out.append(
            col(Enterprise.district_code) == vocabulary.district(search.district, field="district")
        )
    if search.cluster:
        out.append(
            col(Enterprise.cluster_code) == vocabulary.cluster(search.cluster, field="cluster")
        )
    if search.qualification:
        code = vocabulary.qualification(search.qualification, field="qualification")
        assert code is not None
        out.append(enterprise_queries.qualification_valid_on(code, today_local()))
    if search.credit_code:
        out.append(col(Enterprise.credit_code) == search.credit_code.strip().upper())
    return out


def count_matches(session: Session, search: LibrarySearch) -> tuple[int, bool]:
    """How many enterprises the search finds, and whether that is an estimate."""
    conditions = _conditions(session, search)
    name = (search.name or "").strip()
    if not name:
        count = session.execute(select(func.count()).select_from(Enterprise).where(*conditions))
        return int(count.scalar_one()), False
    ids, names, position = library_names(session)
    if conditions:
        subset = enterprise_queries.filtered_ids(session, conditions, SUBSET_MAX)
        if subset is not None:
            kept = [position[i] for i in subset if i in position]
            ids, names = [ids[i] for i in kept], [names[i] for i in kept]
    query = normalize_company_name(name) or name
    scored = [
        eid for _, eid in best_matches(query, ids, names, get_settings().name_search_min_score)
    ]
    if len(scored) > VERIFY_MAX:
        # Tens of thousands of names match a common word: an estimate reads as well, and
        # checking each against the table would take seconds.
        return len(scored), True
    # The names are a cached copy: count only what exists now and passes the filters.
    found = sum(
        len(enterprise_queries.existing_ids(session, scored[i : i + CHUNK], conditions))
        for i in range(0, len(scored), CHUNK)
    )
    return found, False


def search_library(
    session: Session, principal: Principal, search: LibrarySearch, page: PageParams
) -> LibraryPage:
    """A page of the matching enterprises and how many match in all; the office only."""
    require(principal, Role.office)
    filters = enterprises.EnterpriseFilters(
        name=search.name,
        credit_code=search.credit_code,
        district=search.district,
        cluster=search.cluster,
        qualification=search.qualification,
    )
    found = enterprises.list_enterprises(session, filters, page, principal)
    total, approximate = count_matches(session, search)
    return LibraryPage(page=found, total=total, approximate=approximate)
