"""The SQL of leads.

First the lead feed's statements: leads as their holders see them, the page in one joined
statement, then the enterprises' contacts in one statement (their valid qualifications come
from the enterprise library's query); and the audit entry of a bank's read. Rows, not ORM
objects, and on PostgreSQL through the driver (``core.database.fetch``): a bank pulls pages
of 100.

Then the plain reads of the use cases (on the session): open leads of a subject, the
candidates for a need, late leads, events, contact requests, webhook endpoints, deliveries
and their attempts. The rules that choose what to read live in the use-case modules."""

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Executable,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    func,
    insert,
    select,
)
from sqlmodel import Session, col

from service.access.models import AuditEntry, UserAccount
from service.core.database import ROW_LOCK, Statement, among
from service.core.models import UTCDateTime, utcnow
from service.enterprises.models import Contact, Enterprise
from service.leads.models import (
    BankEvent,
    ContactRequest,
    ContactRequestStatus,
    DeliveryStatus,
    Lead,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from service.leads.states import OPEN, LeadStatus
from service.matching.models import EnterpriseMatch, FinancingNeed, NeedMatch, NeedStatus
from service.products.models import Bank, Product, ProductVersion

LEAD_COLUMNS = tuple(Lead.__table__.c)  # type: ignore[attr-defined]
PAGE_COLUMNS = (
    *LEAD_COLUMNS,
    col(Enterprise.name).label("enterprise_name"),
    Enterprise.credit_code,
    Enterprise.cluster_code,
    Enterprise.district_code,
    Enterprise.size_class,
    Enterprise.registered_in_wuxi,
    Enterprise.industry_code,
    Enterprise.share_with_banks,
    Enterprise.employees,
    Enterprise.revenue_fen,
    Enterprise.total_assets_fen,
    Enterprise.credit_grade,
    col(Product.code).label("product_code"),
    col(ProductVersion.name).label("product_name"),
    col(FinancingNeed.amount_fen).label("need_amount_fen"),
    col(FinancingNeed.term_months).label("need_term_months"),
    col(FinancingNeed.purpose).label("need_purpose"),
    col(FinancingNeed.collateral).label("need_collateral"),
    col(FinancingNeed.wanted_by_date).label("need_wanted_by_date"),
    col(UserAccount.display_name).label("assignee_name"),
)


# The filters a page of leads may have, each with its own named parameter.
FILTERS: dict[str, Any] = {
    "bank_code": lambda: Lead.bank_code == bindparam("bank_code"),
    "enterprise_id": lambda: Lead.enterprise_id == bindparam("enterprise_id"),
    "need_id": lambda: Lead.need_id == bindparam("need_id"),
    "status": lambda: Lead.status == bindparam("status", type_=String),
    "product_id": lambda: Lead.product_id == bindparam("product_id"),
    "updated_since": lambda: Lead.updated_at >= bindparam("updated_since", type_=UTCDateTime),
    "assignee_id": lambda: Lead.assignee_user_id == bindparam("assignee_id"),
    "assignee_none": lambda: col(Lead.assignee_user_id).is_(None),  # its value is not read
    "after_seq": lambda: Lead.seq > bindparam("after_seq"),
    "after_id": lambda: Lead.id > bindparam("after_id"),
}


def page_statement(conditions: Sequence[ColumnElement[bool]]) -> Select[Any]:
    """Leads with their enterprise, product (current version's name), need and assignee's
    name, one row each."""
    return (
        select(*PAGE_COLUMNS)
        .join(Enterprise, col(Enterprise.id) == col(Lead.enterprise_id))
        .join(Product, col(Product.id) == col(Lead.product_id))
        .join(
            ProductVersion,
            and_(
                col(ProductVersion.product_id) == col(Product.id),
                col(ProductVersion.version) == col(Product.current_version),
            ),
        )
        .outerjoin(FinancingNeed, col(FinancingNeed.id) == col(Lead.need_id))
        .outerjoin(UserAccount, col(UserAccount.id) == col(Lead.assignee_user_id))
        .where(*conditions)
    )


def page(where: dict[str, Any], by_seq: bool, limit: int) -> Statement:
    """Up to ``limit`` leads matching ``where`` (names from ``FILTERS``) in feed order (seq)
    or id order."""

    def build() -> Select[Any]:
        order = col(Lead.seq) if by_seq else col(Lead.id)
        conditions = [FILTERS[name]() for name in sorted(where)]
        return page_statement(conditions).order_by(order).limit(bindparam("limit", type_=Integer))

    shape = ("leads.page", tuple(sorted(where)), by_seq)
    return Statement(shape, build, {**where, "limit": limit})


def by_ids(session: Session, ids: Sequence[int]) -> list[Any]:
    return list(session.execute(page_statement([col(Lead.id).in_(list(ids))])).all())


def contacts(session: Session | str, enterprise_ids: Sequence[int]) -> Statement:
    """(enterprise_id, name, title, phone, email) of the enterprises' contacts."""

    def build() -> Executable:
        return (
            select(
                col(Contact.enterprise_id),
                col(Contact.name),
                col(Contact.title),
                col(Contact.phone),
                col(Contact.email),
            )
            .where(among(session, Contact.enterprise_id, [], name="ids"))
            .order_by(col(Contact.enterprise_id), col(Contact.id))
        )

    return Statement("leads.contacts", build, {"ids": list(enterprise_ids)})


def contacts_by_enterprise(rows: Sequence[Any]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for enterprise_id, name, title, phone, email in rows:
        out.setdefault(enterprise_id, []).append(
            {"name": name, "title": title, "phone": phone, "email": email}
        )
    return out


READ_SUBJECT = "leads"  # a read's subject_id: what was read (the enterprises are in the list)


def audit_read(
    key_id: int | None, bank_code: str | None, enterprise_ids: Sequence[int]
) -> Statement:
    """The audit entry of a bank's read of these enterprises' details (one request)."""

    def build() -> Any:
        return insert(AuditEntry).values(
            {
                name: bindparam(name, type_=column.type)
                for name, column in AuditEntry.__table__.c.items()  # type: ignore[attr-defined]
                if name in AUDIT_READ_COLUMNS
            }
        )

    values = {
        "at": utcnow(),
        "actor_key_id": key_id,
        "actor_role": "bank",
        "actor_bank_code": bank_code,
        "action": "read",
        "subject_type": "enterprise",
        "subject_id": READ_SUBJECT,
        "enterprise_ids": list(enterprise_ids),
    }
    return Statement("leads.audit_read", build, values, writes=True)


AUDIT_READ_COLUMNS = (
    "at",
    "actor_key_id",
    "actor_role",
    "actor_bank_code",
    "action",
    "subject_type",
    "subject_id",
    "enterprise_ids",
)


def consented_enterprises(session: Session, enterprise_ids: set[int], bank_code: str) -> set[int]:
    """Of these enterprises, those with a lead of the bank that carries their consent."""
    if not enterprise_ids:
        return set()
    return set(
        session.scalars(
            select(col(Lead.enterprise_id)).where(
                col(Lead.enterprise_id).in_(enterprise_ids),
                col(Lead.bank_code) == bank_code,
                col(Lead.consented).is_(True),
            )
        )
    )


# --- leads of a subject (a need, or an enterprise without one) -------------------------------


def open_bank_codes(session: Session, subject: str) -> set[str]:
    """The banks with an open lead of the subject."""
    return set(
        session.scalars(
            select(col(Lead.bank_code)).where(
                col(Lead.subject_key) == subject, col(Lead.status).in_(OPEN)
            )
        )
    )


def open_lead_id(session: Session, subject: str, bank_code: str) -> int | None:
    """The bank's open lead of the subject, if any."""
    return session.scalar(
        select(col(Lead.id)).where(
            col(Lead.subject_key) == subject,
            col(Lead.bank_code) == bank_code,
            col(Lead.status).in_(OPEN),
        )
    )


def open_leads_locked(session: Session, subject: str) -> list[Lead]:
    """The subject's open leads, locked until commit, in id order."""
    return list(
        session.scalars(
            select(Lead)
            .where(col(Lead.subject_key) == subject, col(Lead.status).in_(OPEN))
            .order_by(col(Lead.id))
            .with_for_update(**ROW_LOCK)
        )
    )


def banks_of_subject(session: Session, subject: str) -> set[str]:
    """Every bank that ever had a lead of the subject, open or closed."""
    return set(session.scalars(select(col(Lead.bank_code)).where(col(Lead.subject_key) == subject)))


def product_bank(session: Session, product_id: int) -> str | None:
    return session.scalar(select(col(Product.bank_code)).where(col(Product.id) == product_id))


def latest_lead_by_bank(session: Session, banks: Sequence[str]) -> dict[str, int]:
    """Each bank's newest lead id (banks without any lead are left out)."""
    rows = session.execute(
        select(col(Lead.bank_code), func.max(col(Lead.id)))
        .where(col(Lead.bank_code).in_(banks))
        .group_by(col(Lead.bank_code))
    ).all()
    return {bank: latest for bank, latest in rows}


def ranked_need_matches(session: Session, need_id: int) -> list[tuple[NeedMatch, str]]:
    """The need's matches with their products' banks, best first."""
    rows = session.execute(
        select(NeedMatch, col(Product.bank_code))
        .join(Product, col(Product.id) == col(NeedMatch.product_id))
        .where(col(NeedMatch.need_id) == need_id)
        .order_by(col(NeedMatch.need_rank))
    ).all()
    return [(match, bank_code) for match, bank_code in rows]


def need_status(session: Session, need_id: int) -> NeedStatus | None:
    return session.scalar(select(col(FinancingNeed.status)).where(col(FinancingNeed.id) == need_id))


def need_purpose(session: Session, need_id: int) -> str | None:
    return session.scalar(
        select(col(FinancingNeed.purpose)).where(col(FinancingNeed.id) == need_id)
    )


def need_term_months(session: Session, need_id: int) -> int | None:
    return session.scalar(
        select(col(FinancingNeed.term_months)).where(col(FinancingNeed.id) == need_id)
    )


def profile_score(session: Session, enterprise_id: int, product_id: int) -> int | None:
    """The score of the enterprise's profile match with the product, if it has one."""
    return session.scalar(
        select(col(EnterpriseMatch.score_centi)).where(
            col(EnterpriseMatch.enterprise_id) == enterprise_id,
            col(EnterpriseMatch.product_id) == product_id,
        )
    )


def recent_leads(
    session: Session,
    bank_code: str | None,
    enterprise_id: int | None,
    status: LeadStatus | None,
    limit: int,
) -> list[Lead]:
    """The latest-changed leads, of one bank and one enterprise when given."""
    statement = select(Lead)
    if bank_code is not None:
        statement = statement.where(col(Lead.bank_code) == bank_code)
    if enterprise_id is not None:
        statement = statement.where(col(Lead.enterprise_id) == enterprise_id)
    if status is not None:
        statement = statement.where(col(Lead.status) == status)
    order = (col(Lead.updated_at).desc(), col(Lead.id).desc())
    return list(session.scalars(statement.order_by(*order).limit(limit)))


def late_leads_claimed(session: Session, today: date) -> list[Lead]:
    """Leads never contacted, not flagged yet, whose first contact was due before ``today``;
    locked, skipping those another runner holds."""
    return list(
        session.scalars(
            select(Lead)
            .where(
                col(Lead.status).in_([LeadStatus.new, LeadStatus.viewed]),
                col(Lead.first_contact_at).is_(None),
                col(Lead.sla_breached_at).is_(None),
                col(Lead.contact_due_date) < today,
            )
            .order_by(col(Lead.id))
            .with_for_update(skip_locked=True)
        )
    )


# --- events and contact requests --------------------------------------------------------------


def bank_events(
    session: Session, bank_code: str | None, after: int | None, limit: int
) -> list[BankEvent]:
    """Up to ``limit`` events after a position: one bank's by feed position (``seq``), every
    bank's by id."""
    order = col(BankEvent.seq) if bank_code is not None else col(BankEvent.id)
    statement = select(BankEvent)
    if bank_code is not None:
        statement = statement.where(col(BankEvent.bank_code) == bank_code)
    if after is not None:
        statement = statement.where(order > after)
    return list(session.scalars(statement.order_by(order).limit(limit)))


def contact_requests(
    session: Session,
    bank_code: str | None,
    enterprise_id: int | None,
    status: ContactRequestStatus | None,
    limit: int = 500,
) -> list[ContactRequest]:
    """The newest contact requests, of one bank or one enterprise when given."""
    statement = select(ContactRequest)
    if enterprise_id is not None:
        statement = statement.where(col(ContactRequest.enterprise_id) == enterprise_id)
    if bank_code is not None:
        statement = statement.where(col(ContactRequest.bank_code) == bank_code)
    if status is not None:
        statement = statement.where(col(ContactRequest.status) == status)
    return list(session.scalars(statement.order_by(col(ContactRequest.id).desc()).limit(limit)))


def product_names(session: Session, product_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """(code, current version's name) of each product."""
    rows = session.execute(
        select(col(Product.id), col(Product.code), col(ProductVersion.name))
        .join(
            ProductVersion,
            (col(ProductVersion.product_id) == col(Product.id))
            & (col(ProductVersion.version) == col(Product.current_version)),
        )
        .where(col(Product.id).in_(set(product_ids)))
    )
    return {pid: (code, name) for pid, code, name in rows}


def bank_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    rows = session.execute(
        select(col(Bank.code), col(Bank.name)).where(col(Bank.code).in_(set(codes)))
    )
    return {code: name for code, name in rows}


# --- webhooks ---------------------------------------------------------------------------------


def webhook_endpoints(session: Session, bank_code: str | None) -> list[WebhookEndpoint]:
    """Endpoints in id order, of one bank when given."""
    statement = select(WebhookEndpoint).order_by(col(WebhookEndpoint.id))
    if bank_code is not None:
        statement = statement.where(col(WebhookEndpoint.bank_code) == bank_code)
    return list(session.scalars(statement))


def enabled_endpoints(
    session: Session, bank_code: str | None, district_code: str | None = None
) -> list[WebhookEndpoint]:
    """A bank's enabled endpoints, or (``bank_code`` None) a district office's."""
    audience = (
        col(WebhookEndpoint.bank_code) == bank_code
        if bank_code is not None
        else col(WebhookEndpoint.district_code) == district_code
    )
    return list(
        session.scalars(
            select(WebhookEndpoint).where(audience, col(WebhookEndpoint.enabled).is_(True))
        )
    )


def districts_subscribed(session: Session) -> set[str]:
    """The districts whose office has an enabled endpoint."""
    return set(
        session.scalars(
            select(col(WebhookEndpoint.district_code)).where(
                col(WebhookEndpoint.district_code).is_not(None),
                col(WebhookEndpoint.enabled).is_(True),
            )
        )
    )


def deliveries(
    session: Session,
    endpoint_id: int,
    status: DeliveryStatus | None,
    before_id: int | None,
    limit: int,
) -> list[Any]:
    """(delivery, its event's type) of an endpoint, newest first, below ``before_id``."""
    statement = (
        select(WebhookDelivery, col(BankEvent.type))
        .join(BankEvent, col(BankEvent.id) == col(WebhookDelivery.event_id))
        .where(col(WebhookDelivery.endpoint_id) == endpoint_id)
    )
    if status is not None:
        statement = statement.where(col(WebhookDelivery.status) == status)
    if before_id is not None:
        statement = statement.where(col(WebhookDelivery.id) < before_id)
    order = col(WebhookDelivery.id).desc()
    return list(session.execute(statement.order_by(order).limit(limit)).all())


def attempts(session: Session, delivery_ids: Sequence[int]) -> dict[int, list[WebhookAttempt]]:
    """Each delivery's attempts, oldest first."""
    out: dict[int, list[WebhookAttempt]] = {}
    for attempt in session.scalars(
        select(WebhookAttempt)
        .where(col(WebhookAttempt.delivery_id).in_(delivery_ids))
        .order_by(col(WebhookAttempt.id))
    ):
        out.setdefault(attempt.delivery_id, []).append(attempt)
    return out


def due_deliveries_claimed(
    session: Session, endpoint_id: int, now: datetime, limit: int
) -> list[WebhookDelivery]:
    """An endpoint's pending deliveries due by ``now``, oldest first; locked, skipping those
    another runner holds."""
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(
                col(WebhookDelivery.endpoint_id) == endpoint_id,
                col(WebhookDelivery.status) == DeliveryStatus.pending,
                col(WebhookDelivery.next_attempt_at) <= now,
            )
            .order_by(col(WebhookDelivery.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def fail_pending(session: Session, endpoint_id: int, error: str) -> None:
    """Every pending delivery of the endpoint fails with ``error``."""
    session.execute(
        WebhookDelivery.__table__.update()  # type: ignore[attr-defined]
        .where(
            WebhookDelivery.endpoint_id == endpoint_id,
            WebhookDelivery.status == DeliveryStatus.pending,
        )
        .values(status=DeliveryStatus.failed, last_error=error)
    )


def postpone_pending(session: Session, endpoint_id: int, until: datetime) -> None:
    """The endpoint's pending deliveries due before ``until`` wait until then."""
    session.execute(
        WebhookDelivery.__table__.update()  # type: ignore[attr-defined]
        .where(
            WebhookDelivery.endpoint_id == endpoint_id,
            WebhookDelivery.status == DeliveryStatus.pending,
            WebhookDelivery.next_attempt_at < until,
        )
        .values(next_attempt_at=until)
    )


def next_due(session: Session, endpoint_id: int) -> datetime | None:
    """When the endpoint's next pending delivery is due."""
    return session.scalar(
        select(func.min(col(WebhookDelivery.next_attempt_at))).where(
            col(WebhookDelivery.endpoint_id) == endpoint_id,
            col(WebhookDelivery.status) == DeliveryStatus.pending,
        )
    )
