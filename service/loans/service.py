"""Use cases of loans: recording loans (from disbursed leads, one by one, or imported in bulk),
the reminder run, renewal cases and bridge-fund applications."""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlmodel import Session

from service.access.models import Role
from service.access.policy import Forbidden, Principal, identified_enterprises, require
from service.core.concurrency import check_version
from service.core.database import ROW_LOCK, rolled_back
from service.core.errors import Unprocessable
from service.core.events import emit
from service.core.models import refuse_future, today_local, utcnow
from service.core.pagination import Page, PageParams, cursor_key, make_page
from service.core.settings import get_settings
from service.core.tables import FileError, read_table
from service.enterprises.models import Enterprise
from service.jobs.service import unnoticed
from service.leads import outbox
from service.leads import service as leads
from service.leads.models import Lead, WebhookEndpoint
from service.loans import bridge, imports, queries, renewal, schedule
from service.loans.exceptions import (
    BridgeApplicationNotFound,
    BridgeNotEligible,
    BridgeTransitionNotAllowed,
    ImportFileInvalid,
    InvalidBridgeDate,
    InvalidLoan,
    InvalidRenewalChange,
    LoanExists,
    LoanNotFound,
)
from service.loans.models import (
    BridgeApplication,
    BridgeStatus,
    Loan,
    LoanKind,
    LoanReminder,
    LoanSource,
    LoanStatus,
    ReminderRun,
    RenewalCase,
)
from service.loans.renewal import CASE_LABEL, CaseStatus
from service.loans.schemas import (
    BridgeApplicationPublic,
    BridgeDecision,
    BridgeQuote,
    BridgeRequest,
    EligibilityPublic,
    ImportRejected,
    ImportReport,
    ImportRowError,
    LoanCreate,
    LoanPublic,
    ReasonPublic,
    ReminderPreview,
    ReminderPublic,
    ReminderRunPublic,
    ReminderRunSimulation,
    RenewalCasePublic,
    RenewalChange,
    StagePublic,
)
from service.products.models import Bank, Product
from service.taxonomy.credit_code import CreditCodeError, parse_credit_code

REMINDER_RUN = "loans.reminders"
# Key of the transaction-scoped advisory lock that lets one reminder run at a time proceed on
# PostgreSQL (the unique key of a reminder is what makes it exactly once; the lock only
# saves a second runner the work). "FMRM".
_RUN_LOCK = 0x464D524D


def _local_date(at: datetime) -> date:
    """The business date (Asia/Shanghai) of a stored UTC timestamp."""
    return at.astimezone(ZoneInfo(get_settings().timezone)).date()


def require_office(principal: Principal) -> None:
    require(principal, Role.office)


def stages() -> tuple[int, ...]:
    return schedule.parse_stages(get_settings().reminder_stages)


# --- visibility -----------------------------------------------------------------------------


def _visible(principal: Principal, loan: Loan) -> bool:
    if principal.is_office:
        return True
    if principal.role == Role.bank:
        return loan.bank_code == principal.bank_code
    return loan.enterprise_id == principal.enterprise_id


def get_loan(session: Session, principal: Principal, loan_id: int, lock: bool = False) -> Loan:
    loan = session.get(
        Loan, loan_id, with_for_update=ROW_LOCK if lock else None, populate_existing=lock
    )
    if loan is None or not _visible(principal, loan):
        raise LoanNotFound(f"贷款 {loan_id} 不存在。")
    return loan


def _bank_of(principal: Principal, requested: str | None) -> str:
    """The bank a write is for: a bank's own; the office names one."""
    require(principal, Role.bank, Role.office)
    if principal.role == Role.bank:
        assert principal.bank_code is not None
        if requested is not None and requested != principal.bank_code:
            raise Forbidden(
                f"银行密钥只能登记本行（{principal.bank_code}）的贷款。", code="forbidden_bank"
            )
        return principal.bank_code
    if requested is None:
        raise InvalidLoan("金融办登记贷款须指明银行（bank_code）。", code="bank_required")
    return requested


# --- recording loans ------------------------------------------------------------------------

_PURPOSE_KIND = {"equipment": LoanKind.project, "project": LoanKind.project}


def on_lead_disbursed(
    session: Session,
    lead: Lead,
    maturity_date: date,
    contract_no: str | None,
    purpose: str | None,
) -> None:
    """Listener: a bank reported a lead disbursed; the loan starts its renewal schedule."""
    assert lead.disbursed_amount_fen is not None and lead.disbursed_date is not None
    number = contract_no or f"FM-L{lead.id}"
    if session.scalar(
        select(Loan.id).where(Loan.bank_code == lead.bank_code, Loan.contract_no == number)
    ):
        raise LoanExists(f"本行已有合同编号为 {number} 的贷款。", field="contract_no")
    session.add(
        Loan(
            bank_code=lead.bank_code,
            contract_no=number,
            enterprise_id=lead.enterprise_id,
            product_id=lead.product_id,
            lead_id=lead.id,
            kind=_PURPOSE_KIND.get(purpose or "", LoanKind.working_capital),
            principal_fen=lead.disbursed_amount_fen,
            rate_bp=lead.disbursed_rate_bp or 0,
            disbursed_date=lead.disbursed_date,
            maturity_date=maturity_date,
            source=LoanSource.lead,
        )
    )
    session.flush()


def _enterprise_id(
    session: Session, principal: Principal, enterprise_id: int | None, credit_code: str | None
) -> int:
    """The borrower. By id only one the caller may know (for a bank: one that consented to
    it); one it may not answers as one that does not exist. By credit code any library
    enterprise: the bank names a borrower it already knows."""
    if enterprise_id is not None:
        if session.get(Enterprise, enterprise_id) is None or not identified_enterprises(
            principal, [enterprise_id]
        ):
            raise InvalidLoan(f"企业 {enterprise_id} 不在企业库中。", code="unknown_enterprise")
        return enterprise_id
    if credit_code is None:
        raise InvalidLoan(
            "须给出企业（enterprise_id 或 credit_code）。", code="enterprise_required"
        )
    try:
        code = parse_credit_code(credit_code).value
    except CreditCodeError as exc:
        raise InvalidLoan(exc.message, code=exc.code, field="credit_code") from exc
    found = session.scalar(select(Enterprise.id).where(Enterprise.credit_code == code))
    if found is None:
        raise InvalidLoan(
            f"统一社会信用代码 {code} 的企业不在企业库中，请先登记企业。", code="unknown_enterprise"
        )
    return found


def _product_id(session: Session, bank_code: str, product_code: str | None) -> int | None:
    if product_code is None:
        return None
    product = session.scalar(select(Product).where(Product.code == product_code))
    if product is None or product.bank_code != bank_code:
        raise InvalidLoan(f"本行没有代码为 {product_code} 的产品。", code="unknown_product")
    return product.id


def create_loan(session: Session, principal: Principal, data: LoanCreate) -> Loan:
    bank_code = _bank_of(principal, data.bank_code)
    if session.get(Bank, bank_code) is None:
        raise InvalidLoan(f"银行 {bank_code} 不存在。", code="unknown_bank")
    if data.maturity_date <= data.disbursed_date:
        raise InvalidLoan("到期日须晚于放款日。", code="maturity_not_after_disbursement")
    loan = Loan(
        bank_code=bank_code,
        contract_no=data.contract_no.strip(),
        enterprise_id=_enterprise_id(session, principal, data.enterprise_id, data.credit_code),
        product_id=_product_id(session, bank_code, data.product_code),
        kind=data.kind,
        principal_fen=data.principal_fen,
        rate_bp=data.rate_bp,
        disbursed_date=data.disbursed_date,
        maturity_date=data.maturity_date,
        source=LoanSource.api,
    )
    _check_new_contract(session, bank_code, loan.contract_no)
    session.add(loan)
    session.commit()
    return loan


def _check_new_contract(session: Session, bank_code: str, contract_no: str) -> None:
    existing = session.scalar(
        select(Loan.id).where(Loan.bank_code == bank_code, Loan.contract_no == contract_no)
    )
    if existing is not None:
        raise LoanExists(
            f"本行已有合同编号为 {contract_no} 的贷款（{existing}）。", loan_id=existing
        )


# --- importing ------------------------------------------------------------------------------

_IMPORTED = (
    "enterprise_id",
    "product_id",
    "kind",
    "principal_fen",
    "rate_bp",
    "disbursed_date",
    "maturity_date",
)


def import_loans(
    session: Session,
    principal: Principal,
    content: bytes,
    filename: str | None,
    bank_code: str | None,
    dry_run: bool = False,
) -> ImportReport:
    """Validate every row and record the good ones in one transaction: a contract number the
    bank already has updates that loan, a new one adds a loan. Rejected rows are reported
    with every reason; ``dry_run`` reports without writing."""
    require(principal, Role.bank, Role.office)
    default_bank = principal.bank_code if principal.role == Role.bank else bank_code
    try:
        rows, count = imports.parse_rows(read_table(content, filename))
    except FileError as exc:
        raise ImportFileInvalid(exc.message, code=exc.code, status=exc.status, **exc.extra) from exc
    banks = set(session.scalars(select(Bank.code)))
    codes = {r.credit_code for r in rows if r.credit_code}
    enterprises: dict[str, int] = {}
    for chunk in _chunks(sorted(codes), 1000):
        enterprises.update(
            session.execute(
                select(Enterprise.credit_code, Enterprise.id).where(
                    Enterprise.credit_code.in_(chunk)
                )
            ).all()
        )
    products = {
        code: (pid, bank)
        for code, pid, bank in session.execute(select(Product.code, Product.id, Product.bank_code))
    }
    report = ImportReport(
        dry_run=dry_run, rows=count, created=0, updated=0, unchanged=0, rejected=0, rejected_rows=[]
    )
    seen: dict[tuple[str, str], int] = {}
    good: list[tuple[str, imports.LoanRow, int, int | None]] = []
    for row in rows:
        bank = row.bank_code or default_bank
        if principal.role == Role.bank and row.bank_code and row.bank_code != principal.bank_code:
            row.reject(
                "bank_code",
                "forbidden_bank",
                f"银行密钥只能导入本行（{principal.bank_code}）的贷款",
            )
        elif bank is None:
            row.reject("bank_code", "bank_required", "缺少银行代码（导入时指定或在表中给出）")
        elif bank not in banks:
            row.reject("bank_code", "unknown_bank", f"银行 {bank} 不存在")
        enterprise_id = enterprises.get(row.credit_code or "")
        if row.credit_code and enterprise_id is None:
            row.reject(
                "credit_code",
                "unknown_enterprise",
                f"统一社会信用代码 {row.credit_code} 的企业不在企业库中",
            )
        product_id = None
        if row.product_code:
            found = products.get(row.product_code)
            if found is None or found[1] != bank:
                row.reject(
                    "product_code", "unknown_product", f"本行没有代码为 {row.product_code} 的产品"
                )
            else:
                product_id = found[0]
        if bank and row.contract_no:
            key = (bank, row.contract_no)
            if key in seen:
                row.reject(
                    "contract_no",
                    "duplicate_in_file",
                    f"合同编号 {row.contract_no} 在第 {seen[key]} 行已出现",
                )
            else:
                seen[key] = row.line
        if row.errors:
            report.rejected += 1
            report.rejected_rows.append(
                ImportRejected(
                    row=row.line,
                    contract_no=row.contract_no,
                    errors=[ImportRowError(**e.__dict__) for e in row.errors],
                )
            )
            continue
        assert bank is not None and enterprise_id is not None
        good.append((bank, row, enterprise_id, product_id))
    existing: dict[tuple[str, str], Loan] = {}
    for bank in {g[0] for g in good}:
        numbers = [g[1].contract_no for g in good if g[0] == bank]
        for chunk in _chunks(numbers, 1000):
            for loan in session.scalars(
                select(Loan).where(Loan.bank_code == bank, Loan.contract_no.in_(chunk))
            ):
                existing[(bank, loan.contract_no)] = loan
    today = today_local()
    for bank, row, enterprise_id, product_id in good:
        assert row.contract_no is not None
        values: dict[str, Any] = {
            "enterprise_id": enterprise_id,
            "product_id": product_id,
            "kind": LoanKind(row.kind or LoanKind.working_capital),
            "principal_fen": row.principal_fen,
            "rate_bp": row.rate_bp,
            "disbursed_date": row.disbursed_date,
            "maturity_date": row.maturity_date,
        }
        loan = existing.get((bank, row.contract_no))
        if loan is None:
            report.created += 1
            status = LoanStatus(row.status or LoanStatus.active)
            session.add(
                Loan(
                    bank_code=bank,
                    contract_no=row.contract_no,
                    source=LoanSource.import_,
                    status=status,
                    closed_date=today if status != LoanStatus.active else None,
                    **values,
                )
            )
            continue
        if product_id is None:
            values["product_id"] = loan.product_id  # a list without products keeps the known one
        changed = {k: v for k, v in values.items() if getattr(loan, k) != v}
        if row.status is not None and row.status != loan.status:
            if loan.status == LoanStatus.renewed:
                changed_status = None  # a renewed loan stays renewed; its renewal lives on
            else:
                changed_status = LoanStatus(row.status)
                changed["status"] = changed_status
                changed["closed_date"] = None if changed_status == LoanStatus.active else today
        if not changed:
            report.unchanged += 1
            continue
        report.updated += 1
        for key, value in changed.items():
            setattr(loan, key, value)
        loan.version += 1
        loan.updated_at = utcnow()
    if dry_run:
        session.rollback()
    else:
        session.commit()
    return report


def _chunks(items: Sequence[Any], size: int) -> Any:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- reading loans --------------------------------------------------------------------------


def list_loans(
    session: Session,
    principal: Principal,
    page: PageParams,
    bank_code: str | None = None,
    enterprise_id: int | None = None,
    status: LoanStatus | None = None,
    case_status: CaseStatus | None = None,
    maturing_from: date | None = None,
    maturing_to: date | None = None,
) -> Page[LoanPublic]:
    """Loans by maturity, soonest first: a bank's own, an enterprise's own, the office's all."""
    statement = select(Loan)
    if principal.role == Role.bank:
        bank_code = principal.bank_code
    elif principal.role == Role.enterprise:
        enterprise_id = principal.enterprise_id
    if bank_code is not None:
        statement = statement.where(Loan.bank_code == bank_code)
    if enterprise_id is not None:
        statement = statement.where(Loan.enterprise_id == enterprise_id)
    if status is not None:
        statement = statement.where(Loan.status == status)
    if maturing_from is not None:
        statement = statement.where(Loan.maturity_date >= maturing_from)
    if maturing_to is not None:
        statement = statement.where(Loan.maturity_date <= maturing_to)
    if case_status is not None:
        cases = select(RenewalCase.loan_id).where(RenewalCase.status == case_status)
        statement = statement.where(Loan.id.in_(cases))  # type: ignore[union-attr]
    key = cursor_key(page, 2, (str, int))
    if key:
        try:
            after = date.fromisoformat(key[0])
        except ValueError:
            raise Unprocessable(
                "分页游标无效，请使用上一页返回的 next_cursor。", code="invalid_cursor"
            ) from None
        statement = statement.where(
            (Loan.maturity_date > after) | ((Loan.maturity_date == after) & (Loan.id > key[1]))
        )
    rows = list(
        session.scalars(statement.order_by(Loan.maturity_date, Loan.id).limit(page.limit + 1))
    )
    result = make_page(rows, page.limit, lambda loan: [loan.maturity_date.isoformat(), loan.id])
    result.items = loans_public(session, principal, result.items)
    return result


def loans_public(
    session: Session, principal: Principal, loans: list[Loan], named_by_code: bool = False
) -> list[LoanPublic]:
    """Loans as the caller may see them: who the borrower is (name, credit code) only when
    the access policy lets the caller know it, or (``named_by_code``) in the answer to the
    request that named the borrower by its credit code."""
    if not loans:
        return []
    ids = [loan.id for loan in loans]
    enterprise_ids = {loan.enterprise_id for loan in loans}
    enterprises = {
        e.id: e
        for e in session.scalars(select(Enterprise).where(Enterprise.id.in_(enterprise_ids)))  # type: ignore[union-attr]
    }
    known = identified_enterprises(principal, enterprise_ids)
    banks = dict(session.execute(select(Bank.code, Bank.name)).all())
    product_ids = {loan.product_id for loan in loans if loan.product_id}
    products = dict(
        session.execute(
            select(Product.id, Product.code).where(Product.id.in_(product_ids))  # type: ignore[union-attr]
        ).all()
    )
    cases = {
        c.loan_id: c
        for c in session.scalars(select(RenewalCase).where(RenewalCase.loan_id.in_(ids)))
    }
    sent: dict[tuple[int, date, int], LoanReminder] = {}
    for r in session.scalars(select(LoanReminder).where(LoanReminder.loan_id.in_(ids))):
        sent[(r.loan_id, r.maturity_date, r.stage_days)] = r
    plan = stages()
    out = []
    for loan in loans:
        enterprise = enterprises.get(loan.enterprise_id)
        eligibility = renewal.no_principal_renewal(
            enterprise.size_class if enterprise else None, loan.kind, loan.maturity_date
        )
        reminders = []
        for planned in schedule.reminder_stages(loan.maturity_date, plan):
            done = sent.get((loan.id, loan.maturity_date, planned.days))  # type: ignore[arg-type]
            reminders.append(
                StagePublic(
                    stage_days=planned.days,
                    remind_date=done.remind_date if done else planned.remind_date,
                    provisional=done.provisional if done else planned.provisional,
                    sent=done is not None,
                    late=done.late if done else None,
                )
            )
        case_row = cases.get(loan.id)
        named = loan.enterprise_id in known
        out.append(
            LoanPublic(
                **_columns(loan, exclude={"product_id"}),
                bank_name=banks.get(loan.bank_code),
                enterprise_name=enterprise.name if enterprise and named else None,
                credit_code=enterprise.credit_code
                if enterprise and (named or named_by_code)
                else None,
                product_code=products.get(loan.product_id) if loan.product_id else None,
                no_principal_renewal=_eligibility(eligibility),
                reminders=reminders,
                renewal=case_public(case_row) if case_row else None,
            )
        )
    return out


def _columns(row: Any, exclude: set[str]) -> dict[str, Any]:
    """A table row's values as they are (model_dump would re-serialise plain strings that
    stand for enums, with a warning each)."""
    return {k: getattr(row, k) for k in type(row).model_fields if k not in exclude}


def _eligibility(e: renewal.Eligibility) -> EligibilityPublic:
    return EligibilityPublic(
        eligible=e.eligible,
        reasons=[ReasonPublic(code=r.code, message=r.message) for r in e.reasons],
        basis=e.basis,
    )


def case_public(case_row: RenewalCase) -> RenewalCasePublic:
    status = CaseStatus(case_row.status)
    return RenewalCasePublic(
        **_columns(case_row, exclude={"status"}),
        status=status,
        status_label=CASE_LABEL[status],
        allowed_next=[s for s in CaseStatus if s in renewal.ALLOWED[status]],
    )


# --- reminders ------------------------------------------------------------------------------


def run_reminders(
    session: Session,
    as_of: date | None = None,
    trigger: str = "worker",
    commit: bool = True,
    *,
    future: bool = False,
) -> ReminderRun:
    """Send every reminder due by ``as_of`` (today by default) that was not sent yet, for
    every active loan that has not matured: after downtime the missed ones go out, marked
    late. A reminder whose date was found on a year without its official holiday notice is
    marked provisional; each run first gives the provisional ones sent earlier their final
    date once the calendar knows their year (after a ``holidays`` upgrade). Set-based, in
    one transaction; safe to run twice or from several processes at once (each loan,
    maturity and stage has one reminder, by a unique key). A date after today is refused
    (``future_as_of``: its reminders would reach the banks early) unless ``future``, which
    only ``simulate_reminders`` gives."""
    as_of = as_of or today_local()
    if not future:
        refuse_future(as_of, "把到那天才该发的续贷提醒发给银行")
    plan = stages()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _RUN_LOCK})
    now = utcnow()
    run = ReminderRun(as_of=as_of, stages=",".join(map(str, plan)), trigger=trigger, started_at=now)
    session.add(run)
    session.flush()
    assert run.id is not None
    run.recomputed = _settle_provisional(session)
    for index, days in enumerate(plan):
        first = index == 0
        due = schedule.due_maturities(as_of, days, first)
        estimated = {m for m in due if schedule.stage(m, days, first).provisional}
        queries.insert_reminders(
            session,
            run.id,
            as_of,
            days,
            due,
            final=index == len(plan) - 1,
            now=now,
            provisional=estimated,
        )
    run.reminders, run.late = queries.counted(session, run.id)
    if run.reminders:
        queries.open_cases(session, run.id, now)
        _announce_reminders(session, run.id, now)
    run.finished_at = utcnow()
    if commit:
        session.commit()
    else:
        session.flush()
    return run


SIMULATION_SAMPLE = 20


def simulate_reminders(
    session: Session, as_of: date | None = None, trigger: str = "api"
) -> ReminderRunSimulation:
    """What ``run_reminders`` would do as of ``as_of`` (any date, the future too): the same
    run, commit included, inside a transaction that is rolled back, so that nothing of it
    persists (the run, reminders, renewal cases, bank events, webhook deliveries, jobs,
    audit entries)."""
    with rolled_back(session) as scratch, unnoticed():
        run = run_reminders(scratch, as_of, trigger=trigger, future=True)
        assert run.id is not None
        by_bank = dict(queries.counts_by_bank(scratch, run.id))
        sample = queries.first_of_run(scratch, run.id, SIMULATION_SAMPLE)
        return ReminderRunSimulation(
            as_of=run.as_of,
            stages=[int(s) for s in run.stages.split(",")],
            reminders=run.reminders,
            late=run.late,
            recomputed=run.recomputed,
            by_bank=by_bank,
            sample=[ReminderPreview.model_validate(row, from_attributes=True) for row in sample],
        )


def _settle_provisional(session: Session) -> int:
    """Recompute the provisional reminders' dates; those the calendar now knows for certain
    get their final date (and late flag) and stop being provisional. How many changed."""
    final: dict[tuple[int, bool], dict[date, date]] = {}
    plans: dict[tuple[int, bool], set[str]] = {}
    for maturity, days, plan in queries.provisional_stages(session):
        first = schedule.is_first(days, [int(d) for d in plan.split(",")])
        again = schedule.stage(maturity, days, first)
        if again.provisional:
            continue
        final.setdefault((days, first), {})[maturity] = again.remind_date
        plans.setdefault((days, first), set()).add(plan)
    return sum(
        queries.settle_reminders(session, days, sorted(plans[(days, first)]), dates)
        for (days, first), dates in final.items()
    )


def _announce_reminders(session: Session, run_id: int, now: Any) -> None:
    """The banks' ``loan.reminder`` events and their webhook deliveries, in bulk."""
    endpoints = session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.enabled.is_(True))
    ).all()  # type: ignore[attr-defined]
    for bank_code, count in queries.counts_by_bank(session, run_id):
        last = leads.next_seqs(session, bank_code, count)
        first = last - count + 1
        queries.insert_events(session, run_id, bank_code, first, now)
        for endpoint in endpoints:
            if endpoint.bank_code != bank_code:
                continue
            if endpoint.event_types and queries.REMINDER_EVENT not in endpoint.event_types:
                continue
            assert endpoint.id is not None
            queries.insert_deliveries(session, endpoint.id, bank_code, first, last, now)
            outbox.schedule(session, endpoint.id)


def run_reminder_job(session: Session) -> dict:
    """Worker job (periodic): today's reminders. The runner commits nothing more."""
    run = run_reminders(session, trigger="worker", commit=False)
    return {
        "run_id": run.id,
        "as_of": run.as_of.isoformat(),
        "reminders": run.reminders,
        "recomputed": run.recomputed,
    }


def run_public(run: ReminderRun) -> ReminderRunPublic:
    return ReminderRunPublic(
        **_columns(run, exclude={"stages"}), stages=[int(s) for s in run.stages.split(",")]
    )


def list_reminders(
    session: Session,
    principal: Principal,
    page: PageParams,
    bank_code: str | None = None,
    enterprise_id: int | None = None,
    final: bool | None = None,
    late: bool | None = None,
    since: date | None = None,
) -> Page[ReminderPublic]:
    """Reminders, newest first: a bank's, an enterprise's, the office's all (``final=true``:
    the last-stage ones the office is told of)."""
    statement = select(LoanReminder, Loan.contract_no, Loan.principal_fen).join(
        Loan, Loan.id == LoanReminder.loan_id
    )
    if principal.role == Role.bank:
        bank_code = principal.bank_code
    elif principal.role == Role.enterprise:
        enterprise_id = principal.enterprise_id
    if bank_code is not None:
        statement = statement.where(LoanReminder.bank_code == bank_code)
    if enterprise_id is not None:
        statement = statement.where(LoanReminder.enterprise_id == enterprise_id)
    if final is not None:
        statement = statement.where(LoanReminder.final.is_(final))  # type: ignore[attr-defined]
    if late is not None:
        statement = statement.where(LoanReminder.late.is_(late))  # type: ignore[attr-defined]
    if since is not None:
        statement = statement.where(LoanReminder.remind_date >= since)
    key = cursor_key(page, 1, (int,))
    if key:
        statement = statement.where(LoanReminder.id < key[0])
    rows = session.execute(
        statement.order_by(LoanReminder.id.desc()).limit(page.limit + 1)  # type: ignore[union-attr]
    ).all()
    result = make_page(rows, page.limit, lambda row: [row[0].id])
    known = identified_enterprises(principal, {row[0].enterprise_id for row in result.items})
    names = dict(
        session.execute(
            select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(known))  # type: ignore[union-attr]
        ).all()
    )
    result.items = [
        ReminderPublic(
            **_columns(reminder, exclude={"run_id"}),
            contract_no=contract_no,
            principal_fen=principal_fen,
            enterprise_name=names.get(reminder.enterprise_id),
        )
        for reminder, contract_no, principal_fen in result.items
    ]
    return result


# --- renewal cases --------------------------------------------------------------------------


def _case(session: Session, loan: Loan, lock: bool) -> RenewalCase:
    """The loan's renewal case, opened on first use (the reminder run opens most)."""
    statement = select(RenewalCase).where(RenewalCase.loan_id == loan.id)
    if lock:
        statement = statement.with_for_update(**ROW_LOCK)
    case_row = session.scalar(statement.execution_options(populate_existing=True))
    if case_row is None:
        queries.ensure_case(session, loan.id, utcnow())  # type: ignore[arg-type]
        case_row = session.scalar(statement.execution_options(populate_existing=True))
    assert case_row is not None
    return case_row


def get_case(session: Session, principal: Principal, loan_id: int) -> RenewalCase:
    loan = get_loan(session, principal, loan_id)
    case_row = _case(session, loan, lock=False)
    session.commit()
    return case_row


def change_case(
    session: Session,
    principal: Principal,
    loan_id: int,
    change: RenewalChange,
    expected_version: int | None = None,
) -> RenewalCase:
    """The bank records what happened about a maturing loan. A wrong step is a 409; a change
    based on a stale version (If-Match) a 412."""
    require(principal, Role.bank, Role.office)
    loan = get_loan(session, principal, loan_id, lock=True)
    case_row = _case(session, loan, lock=True)
    check_version(expected_version, case_row.version, "续贷事项")
    current, to = CaseStatus(case_row.status), CaseStatus(change.status)
    renewal.check_transition(current, to)
    on = change.on_date or today_local()
    _check_change_data(loan, case_row, to, change, on)
    if to in (CaseStatus.bridge_needed, CaseStatus.bridged):
        _check_bridge_step(session, loan, to)
    if to not in (CaseStatus.repaid, CaseStatus.failed):
        case_row.contacted_date = case_row.contacted_date or on  # implied by any later step
    if to == CaseStatus.committed:
        case_row.committed_date = on
        case_row.committed_amount_fen = change.committed_amount_fen or loan.principal_fen
        case_row.no_principal = change.no_principal
    elif to == CaseStatus.bridge_needed:
        case_row.bridge_needed_date = on
    elif to == CaseStatus.bridged:
        case_row.bridged_date = on
    elif to == CaseStatus.renewed:
        case_row.renewed_date = on
        case_row.renewal_loan_id = _renew(session, loan, case_row, change, on)
    elif to == CaseStatus.repaid:
        case_row.repaid_date = on
        loan.status = LoanStatus.repaid
        loan.closed_date = on
        loan.version += 1
    elif to == CaseStatus.failed:
        case_row.failed_date = on
        case_row.failed_reason = change.reason
    if change.note is not None:
        case_row.note = change.note
    case_row.status = to
    case_row.version += 1
    case_row.updated_at = utcnow()
    session.flush()
    leads.publish(
        session,
        loan.bank_code,
        "renewal.updated",
        {"loan_id": loan.id, "case_id": case_row.id, "status": str(to), "previous": str(current)},
    )
    # Whether the bank has committed the renewal decides the bridge fund's fit.
    emit(session, "renewal.changed", enterprise_id=loan.enterprise_id)
    session.commit()
    return case_row


def _check_change_data(
    loan: Loan, case_row: RenewalCase, to: CaseStatus, change: RenewalChange, on: date
) -> None:
    def refuse(field: str, message: str) -> None:
        raise InvalidRenewalChange(message, field=field)

    if on > today_local():
        refuse("on_date", "日期不能晚于今天")
    if to != CaseStatus.committed and (
        change.committed_amount_fen is not None or change.no_principal is not None
    ):
        refuse("committed_amount_fen", "只有承诺续贷时才填写承诺金额和续贷方式")
    if to != CaseStatus.renewed:
        for name in ("new_maturity_date", "new_principal_fen", "new_rate_bp", "new_contract_no"):
            if getattr(change, name) is not None:
                refuse(name, "只有续贷完成时才填写新贷款的到期日、金额、利率和合同编号")
    if to == CaseStatus.failed:
        if not (change.reason and change.reason.strip()):
            refuse("reason", "续贷未成须说明原因")
    elif change.reason is not None:
        refuse("reason", "只有续贷未成时才填写原因")
    if to == CaseStatus.renewed:
        if change.new_maturity_date is None:
            refuse("new_maturity_date", "续贷完成须填写新贷款的到期日")
        elif change.new_maturity_date <= on:
            refuse("new_maturity_date", "新贷款的到期日须晚于续贷日期")


def _check_bridge_step(session: Session, loan: Loan, to: CaseStatus) -> None:
    """bridge_needed follows a bridge application; bridged, its disbursement."""
    wanted = (
        (BridgeStatus.submitted, BridgeStatus.approved, BridgeStatus.disbursed)
        if to == CaseStatus.bridge_needed
        else (BridgeStatus.disbursed, BridgeStatus.repaid)
    )
    found = session.scalar(
        select(BridgeApplication.id).where(
            BridgeApplication.loan_id == loan.id,
            BridgeApplication.status.in_(wanted),  # type: ignore[attr-defined]
        )
    )
    if found is None:
        message = (
            "须先提交转贷应急资金申请（POST /loans/{id}/bridge-applications）"
            if to == CaseStatus.bridge_needed
            else "转贷应急资金尚未放款，不能记为已转贷"
        )
        raise InvalidRenewalChange(message, code="bridge_application_required")


def _renew(
    session: Session, loan: Loan, case_row: RenewalCase, change: RenewalChange, on: date
) -> int:
    """The renewal is a new loan that starts its own schedule; the old one is closed."""
    assert change.new_maturity_date is not None
    number = change.new_contract_no or f"{loan.contract_no}-R{on.strftime('%Y%m%d')}"
    _check_new_contract(session, loan.bank_code, number)
    new = Loan(
        bank_code=loan.bank_code,
        contract_no=number,
        enterprise_id=loan.enterprise_id,
        product_id=loan.product_id,
        kind=loan.kind,
        principal_fen=change.new_principal_fen
        or case_row.committed_amount_fen
        or loan.principal_fen,
        rate_bp=change.new_rate_bp if change.new_rate_bp is not None else loan.rate_bp,
        disbursed_date=on,
        maturity_date=change.new_maturity_date,
        source=LoanSource.renewal,
        renewed_from_id=loan.id,
    )
    session.add(new)
    loan.status = LoanStatus.renewed
    loan.closed_date = on
    loan.version += 1
    loan.updated_at = utcnow()
    session.flush()
    assert new.id is not None
    return new.id


# --- the bridge fund ------------------------------------------------------------------------


def _applicant(session: Session, loan: Loan) -> bridge.Applicant:
    enterprise = session.get(Enterprise, loan.enterprise_id)
    bank = session.get(Bank, loan.bank_code)
    assert enterprise is not None and bank is not None
    case_row = session.scalar(select(RenewalCase).where(RenewalCase.loan_id == loan.id))
    return bridge.Applicant(
        size_class=enterprise.size_class,
        registered_in_wuxi=enterprise.registered_in_wuxi,
        credit_grade=enterprise.credit_grade,
        bank_partner=bank.bridge_fund_partner,
        bank_name=bank.name,
        case_status=CaseStatus(case_row.status) if case_row else None,
        committed_fen=case_row.committed_amount_fen if case_row else None,
        principal_fen=loan.principal_fen,
    )


def quote_bridge(
    session: Session, principal: Principal, loan_id: int, request: BridgeRequest
) -> BridgeQuote:
    """Whether the loan may use the bridge fund for this amount, term and start (every reason
    if not), the cap that applies, and the fee."""
    loan = get_loan(session, principal, loan_id)
    applicant = _applicant(session, loan)
    verdict = bridge.check(applicant, request.amount_fen, request.days)
    start = request.start_date or loan.maturity_date
    more = bridge.check_start(start, loan.maturity_date, today_local())
    if loan.status != LoanStatus.active:
        more.append(renewal.Reason("loan_not_active", "贷款已结清或已续贷"))
    if more:
        verdict = renewal.Eligibility(False, [*verdict.reasons, *more])
    limit = (
        bridge.cap(applicant.committed_fen, loan.principal_fen) if applicant.committed_fen else None
    )
    fee = (
        bridge.fee(request.amount_fen, request.days)
        if 1 <= request.days <= bridge.MAX_DAYS
        else None
    )
    return BridgeQuote(
        loan_id=loan_id,
        eligible=verdict.eligible,
        reasons=[ReasonPublic(code=r.code, message=r.message) for r in verdict.reasons],
        amount_fen=request.amount_fen,
        days=request.days,
        max_amount_fen=limit.amount_fen if limit else None,
        max_amount_basis=limit.basis if limit else None,  # type: ignore[arg-type]
        max_amount_explanation=limit.explanation if limit else None,
        committed_share_fen=limit.share_fen if limit else None,
        principal_fen=loan.principal_fen,
        fee_fen=fee.fee_fen if fee else None,
        fee_exact_fen=str(fee.exact_fen.normalize()) if fee else None,
        fee_explanation=fee.explanation if fee else None,
        start_date=start,
        end_date=bridge.end_date(start, request.days),
    )


def apply_bridge(
    session: Session, principal: Principal, loan_id: int, request: BridgeRequest
) -> BridgeApplication:
    """Apply for the bridge fund; an ineligible request is refused with every reason. The
    renewal case moves to bridge_needed."""
    loan = get_loan(session, principal, loan_id, lock=True)
    quote = quote_bridge(session, principal, loan_id, request)
    if not quote.eligible:
        raise BridgeNotEligible(
            "不符合转贷应急资金使用条件：" + "；".join(r.message for r in quote.reasons),
            reasons=[r.model_dump() for r in quote.reasons],
        )
    open_one = session.scalar(
        select(BridgeApplication.id).where(
            BridgeApplication.loan_id == loan.id,
            BridgeApplication.status.in_(  # type: ignore[attr-defined]
                (BridgeStatus.submitted, BridgeStatus.approved, BridgeStatus.disbursed)
            ),
        )
    )
    if open_one is not None:
        raise BridgeTransitionNotAllowed(
            f"该贷款已有进行中的转贷应急资金申请 {open_one}。", code="bridge_application_exists"
        )
    case_row = _case(session, loan, lock=True)
    assert quote.fee_fen is not None and case_row.committed_amount_fen is not None
    application = BridgeApplication(
        loan_id=loan.id,  # type: ignore[arg-type]
        enterprise_id=loan.enterprise_id,
        bank_code=loan.bank_code,
        amount_fen=request.amount_fen,
        days=request.days,
        start_date=quote.start_date,
        end_date=quote.end_date,
        fee_fen=quote.fee_fen,
        committed_amount_fen=case_row.committed_amount_fen,
        note=request.note,
    )
    session.add(application)
    if case_row.status == CaseStatus.committed:
        case_row.status = CaseStatus.bridge_needed
        case_row.bridge_needed_date = today_local()
        case_row.version += 1
        case_row.updated_at = utcnow()
    session.flush()
    leads.publish(
        session,
        loan.bank_code,
        "bridge.updated",
        {"loan_id": loan.id, "bridge_application_id": application.id, "status": "submitted"},
    )
    session.commit()
    return application


_BRIDGE_NEXT: dict[BridgeStatus, tuple[BridgeStatus, ...]] = {
    BridgeStatus.submitted: (BridgeStatus.approved, BridgeStatus.rejected, BridgeStatus.cancelled),
    BridgeStatus.approved: (BridgeStatus.disbursed, BridgeStatus.cancelled),
    BridgeStatus.disbursed: (BridgeStatus.repaid,),
    BridgeStatus.repaid: (),
    BridgeStatus.rejected: (),
    BridgeStatus.cancelled: (),
}


def get_bridge(session: Session, principal: Principal, application_id: int) -> BridgeApplication:
    application = session.get(BridgeApplication, application_id)
    if application is None:
        raise BridgeApplicationNotFound(f"转贷应急资金申请 {application_id} 不存在。")
    loan = session.get(Loan, application.loan_id)
    if loan is None or not _visible(principal, loan):
        raise BridgeApplicationNotFound(f"转贷应急资金申请 {application_id} 不存在。")
    return application


_DATED = {
    BridgeStatus.approved: "approved_date",
    BridgeStatus.disbursed: "disbursed_date",
    BridgeStatus.repaid: "repaid_date",
}


def decide_bridge(
    session: Session,
    principal: Principal,
    application_id: int,
    decision: BridgeDecision,
    expected_version: int | None = None,
) -> BridgeApplication:
    """The fund (the office) approves, rejects, disburses and records repayment, each on the
    day it happened (``on_date``, default today); the bank or the enterprise may cancel before
    disbursement. Disbursement marks the case bridged on its date.

    The dates are checked as the fund's credit officer would (``bridge`` lists the rules): an
    impossible date (ahead of today, approval or disbursement before the application,
    disbursement before approval or after the loan's maturity, repayment before disbursement)
    is a 422 whose ``code`` names the first rule broken, with every one in ``reasons``, and
    nothing is written. A repayment after the term applied for, even beyond the fund's 10 days,
    is what happened: it is recorded, and the application shows ``days_used`` and
    ``overdue_days`` for the office to follow up."""
    application = get_bridge(session, principal, application_id)
    session.refresh(application, with_for_update=ROW_LOCK)
    check_version(expected_version, application.version, "转贷应急资金申请")
    current, to = BridgeStatus(application.status), BridgeStatus(decision.status)
    if to not in _BRIDGE_NEXT[current]:
        raise BridgeTransitionNotAllowed(
            f"申请当前为 {current}，不能改为 {to}",
            current=str(current),
            allowed=[str(s) for s in _BRIDGE_NEXT[current]],
        )
    if to != BridgeStatus.cancelled:
        require(principal, Role.office)
    loan = session.get(Loan, application.loan_id)
    assert loan is not None
    today = today_local()
    on = decision.on_date or today
    _check_bridge_date(application, loan, to, decision.on_date, on, today)
    application.status = to
    application.version += 1
    application.decided_at = utcnow()
    application.updated_at = utcnow()
    if to in _DATED:
        setattr(application, _DATED[to], on)
    if decision.note is not None:
        application.note = decision.note
    case_row = _case(session, loan, lock=True)
    if to == BridgeStatus.disbursed and case_row.status == CaseStatus.bridge_needed:
        case_row.status, case_row.bridged_date = CaseStatus.bridged, on
        case_row.version += 1
    elif to in (BridgeStatus.rejected, BridgeStatus.cancelled) and (
        case_row.status == CaseStatus.bridge_needed
    ):
        case_row.status = CaseStatus.committed  # the renewal commitment stands
        case_row.version += 1
    session.flush()
    data: dict[str, Any] = {
        "loan_id": loan.id,
        "bridge_application_id": application.id,
        "status": str(to),
    }
    if to in _DATED:
        data[_DATED[to]] = on.isoformat()
    if to == BridgeStatus.repaid and application.disbursed_date is not None:
        used = bridge.use(application.disbursed_date, on, application.days, today)
        data |= {"days_used": used.days_used, "overdue_days": used.overdue_days}
    leads.publish(session, loan.bank_code, "bridge.updated", data)
    session.commit()
    return application


def _check_bridge_date(
    application: BridgeApplication,
    loan: Loan,
    to: BridgeStatus,
    given: date | None,
    on: date,
    today: date,
) -> None:
    """Refuse a step whose date cannot be right, before anything is written."""
    if to not in _DATED:
        if given is not None:
            raise InvalidBridgeDate(
                "只有批准、放款和还款时才填写日期", code="date_not_applicable", field="on_date"
            )
        return
    applied_on = _local_date(application.created_at)
    if to == BridgeStatus.approved:
        reasons = bridge.check_approval(on, applied_on, today)
    elif to == BridgeStatus.disbursed:
        reasons = bridge.check_disbursement(
            on, applied_on, application.approved_date, loan.maturity_date, today
        )
    else:
        reasons = bridge.check_repayment(on, application.disbursed_date, today)
    if reasons:
        raise InvalidBridgeDate(
            "；".join(r.message for r in reasons),
            code=reasons[0].code,
            field="on_date",
            reasons=[ReasonPublic(code=r.code, message=r.message).model_dump() for r in reasons],
        )


def list_bridges(
    session: Session,
    principal: Principal,
    page: PageParams,
    status: BridgeStatus | None = None,
    loan_id: int | None = None,
) -> Page[BridgeApplicationPublic]:
    statement = select(BridgeApplication)
    if principal.role == Role.bank:
        statement = statement.where(BridgeApplication.bank_code == principal.bank_code)
    elif principal.role == Role.enterprise:
        statement = statement.where(BridgeApplication.enterprise_id == principal.enterprise_id)
    if status is not None:
        statement = statement.where(BridgeApplication.status == status)
    if loan_id is not None:
        statement = statement.where(BridgeApplication.loan_id == loan_id)
    key = cursor_key(page, 1, (int,))
    if key:
        statement = statement.where(BridgeApplication.id < key[0])  # type: ignore[operator]
    rows = list(
        session.scalars(
            statement.order_by(BridgeApplication.id.desc()).limit(page.limit + 1)  # type: ignore[union-attr]
        )
    )
    result = make_page(rows, page.limit, lambda a: [a.id])
    result.items = [bridge_public(a) for a in result.items]
    return result


def bridge_public(application: BridgeApplication) -> BridgeApplicationPublic:
    disbursed_on = application.disbursed_date  # unknown for one repaid before dates were kept
    used = (
        bridge.use(disbursed_on, application.repaid_date, application.days, today_local())
        if disbursed_on is not None
        and application.status in (BridgeStatus.disbursed, BridgeStatus.repaid)
        else None
    )
    return BridgeApplicationPublic(
        **_columns(application, exclude=set()),
        repay_by_date=bridge.end_date(disbursed_on, application.days) if disbursed_on else None,
        days_used=used.days_used if used else None,
        overdue_days=used.overdue_days if used else None,
    )
