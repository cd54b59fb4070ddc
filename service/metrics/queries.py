"""Reads for the office's metrics: one flat row per lead with what the reports group by
(``lead_rows``, filtered by ``LeadFilter``: period, bank, product, ownership, 民营), one per
loan with its renewal case (``loan_rows``), and the 1-year LPR history. Read-only; nothing here
writes."""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from service.enterprises.models import Enterprise
from service.enterprises.queries import private_condition
from service.leads.models import Lead
from service.loans.models import Loan, RenewalCase
from service.products.models import Bank, Product, ProductVersion
from service.taxonomy.models import Cluster, District, LprRate, OwnershipType
from service.taxonomy.ownership import UNKNOWN


@dataclass(frozen=True)
class LeadRow:
    """A lead as the metrics see it. Timestamps are UTC; dates are Asia/Shanghai business
    dates. Labels are the current names (a renamed bank or product reports under its new
    name); ``scheme`` is that of the product version the lead was offered under; the
    ownership is the enterprise's as recorded now."""

    lead_id: int
    bank_code: str
    bank_name: str
    product_code: str
    product_name: str
    scheme: str
    cluster_code: str | None
    cluster_name: str | None
    district_code: str | None
    district_name: str | None
    size_class: str | None
    status: str
    created_at: datetime
    ownership: str | None = None
    ownership_name: str | None = None
    ownership_order: int | None = None
    viewed_at: datetime | None = None
    first_contact_at: datetime | None = None
    contact_due_date: date | None = None
    sla_breached_at: datetime | None = None
    closed_at: datetime | None = None
    declined_reason: str | None = None
    approved_amount_fen: int | None = None
    approved_rate_bp: int | None = None
    approved_date: date | None = None
    disbursed_amount_fen: int | None = None
    disbursed_rate_bp: int | None = None
    disbursed_date: date | None = None


@dataclass(frozen=True)
class LeadFilter:
    """Leads created in [created_from, created_before) (UTC instants: the caller turns local
    dates into them), of one bank, of one product, of enterprises of one ownership type
    (``unknown``: not recorded) and counted as 民营 or not, when given."""

    created_from: datetime | None = None
    created_before: datetime | None = None
    bank_code: str | None = None
    product_id: int | None = None
    ownership: str | None = None
    private: bool | None = None


def ownership_conditions(ownership: str | None, private: bool | None) -> list[ColumnElement[bool]]:
    """The enterprise's ownership is ``ownership`` (a checked code, or ``unknown``) and its type
    counts as 民营 (``private``), or, known, does not."""
    out: list[ColumnElement[bool]] = []
    if ownership == UNKNOWN:
        out.append(col(Enterprise.ownership).is_(None))
    elif ownership is not None:
        out.append(col(Enterprise.ownership) == ownership)
    if private is not None:
        out.append(private_condition(private))
    return out


def lead_rows(session: Session, where: LeadFilter) -> list[LeadRow]:
    current = aliased(ProductVersion)
    offered = aliased(ProductVersion)
    stmt: Select = (
        select(
            col(Lead.id).label("lead_id"),
            col(Lead.bank_code),
            col(Bank.short_name).label("bank_name"),
            col(Product.code).label("product_code"),
            col(current.name).label("product_name"),
            func.coalesce(col(offered.scheme), col(current.scheme)).label("scheme"),
            col(Enterprise.cluster_code),
            col(Cluster.name).label("cluster_name"),
            col(Enterprise.district_code),
            col(District.name).label("district_name"),
            col(Enterprise.size_class),
            col(Lead.status),
            col(Lead.created_at),
            col(Enterprise.ownership),
            col(OwnershipType.name).label("ownership_name"),
            col(OwnershipType.sort_order).label("ownership_order"),
            col(Lead.viewed_at),
            col(Lead.first_contact_at),
            col(Lead.contact_due_date),
            col(Lead.sla_breached_at),
            col(Lead.closed_at),
            col(Lead.declined_reason),
            col(Lead.approved_amount_fen),
            col(Lead.approved_rate_bp),
            col(Lead.approved_date),
            col(Lead.disbursed_amount_fen),
            col(Lead.disbursed_rate_bp),
            col(Lead.disbursed_date),
        )
        .join(Bank, col(Bank.code) == col(Lead.bank_code))
        .join(Product, col(Product.id) == col(Lead.product_id))
        .join(
            current,
            and_(
                col(current.product_id) == col(Product.id),
                col(current.version) == col(Product.current_version),
            ),
        )
        .outerjoin(
            offered,
            and_(
                col(offered.product_id) == col(Product.id),
                col(offered.version) == col(Lead.product_version),
            ),
        )
        .join(Enterprise, col(Enterprise.id) == col(Lead.enterprise_id))
        .outerjoin(Cluster, col(Cluster.code) == col(Enterprise.cluster_code))
        .outerjoin(District, col(District.code) == col(Enterprise.district_code))
        .outerjoin(OwnershipType, col(OwnershipType.code) == col(Enterprise.ownership))
    )
    if where.created_from is not None:
        stmt = stmt.where(col(Lead.created_at) >= where.created_from)
    if where.created_before is not None:
        stmt = stmt.where(col(Lead.created_at) < where.created_before)
    if where.bank_code is not None:
        stmt = stmt.where(col(Lead.bank_code) == where.bank_code)
    if where.product_id is not None:
        stmt = stmt.where(col(Lead.product_id) == where.product_id)
    stmt = stmt.where(*ownership_conditions(where.ownership, where.private))
    # Each selected column is labelled as the LeadRow field it fills.
    return [LeadRow(**row._mapping) for row in session.execute(stmt.order_by(col(Lead.id)))]


def lpr_1y_history(session: Session) -> list[tuple[date, int]]:
    """Every 1-year LPR fixing as (effective date, rate in bp), oldest first."""
    rows = session.execute(
        select(col(LprRate.effective_date), col(LprRate.rate_bp))
        .where(col(LprRate.tenor) == "1Y")
        .order_by(col(LprRate.effective_date))
    )
    return [(d, rate) for d, rate in rows]


@dataclass(frozen=True)
class LoanRow:
    """A loan with its renewal case as the renewal metrics see it."""

    loan_id: int
    bank_code: str
    bank_name: str
    status: str
    kind: str
    principal_fen: int
    maturity_date: date
    size_class: str | None
    case_status: str | None = None
    contacted_date: date | None = None
    committed_date: date | None = None
    bridged_date: date | None = None
    renewed_date: date | None = None


def loan_rows(
    session: Session,
    maturing_from: date | None,
    maturing_to: date | None,
    bank_code: str | None,
    active_only: bool = False,
    product_id: int | None = None,
    ownership: str | None = None,
    private: bool | None = None,
) -> list[LoanRow]:
    statement = (
        select(
            col(Loan.id),
            col(Loan.bank_code),
            col(Bank.name),
            col(Loan.status),
            col(Loan.kind),
            col(Loan.principal_fen),
            col(Loan.maturity_date),
            col(Enterprise.size_class),
            col(RenewalCase.status),
            col(RenewalCase.contacted_date),
            col(RenewalCase.committed_date),
            col(RenewalCase.bridged_date),
            col(RenewalCase.renewed_date),
        )
        .join(Bank, col(Bank.code) == col(Loan.bank_code))
        .join(Enterprise, col(Enterprise.id) == col(Loan.enterprise_id))
        .outerjoin(RenewalCase, col(RenewalCase.loan_id) == col(Loan.id))
    )
    if maturing_from is not None:
        statement = statement.where(col(Loan.maturity_date) >= maturing_from)
    if maturing_to is not None:
        statement = statement.where(col(Loan.maturity_date) <= maturing_to)
    if bank_code is not None:
        statement = statement.where(col(Loan.bank_code) == bank_code)
    if product_id is not None:
        statement = statement.where(col(Loan.product_id) == product_id)
    if active_only:
        statement = statement.where(col(Loan.status) == "active")
    statement = statement.where(*ownership_conditions(ownership, private))
    return [LoanRow(*row) for row in session.execute(statement.order_by(col(Loan.id)))]
