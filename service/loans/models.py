"""Loans (a bank's credit to an enterprise, with its maturity), the reminders sent before each
maturity, the renewal case of a maturing loan, and bridge-fund applications."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Index, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from service.core.models import BigId, UTCDateTime, utcnow
from service.loans.renewal import CaseStatus


class LoanKind(StrEnum):
    working_capital = "working_capital"  # 流动资金贷款
    project = "project"  # 项目贷款 (fixed assets, equipment, construction)


class LoanStatus(StrEnum):
    active = "active"
    repaid = "repaid"
    renewed = "renewed"  # replaced by its renewal (renewed_from_id points back)


class LoanSource(StrEnum):
    lead = "lead"  # a bank reported a lead disbursed
    api = "api"
    import_ = "import"
    renewal = "renewal"


class Loan(SQLModel, table=True):
    __tablename__ = "loan"
    __table_args__ = (
        # A re-import updates the loan with the same contract number at the same bank.
        UniqueConstraint("bank_code", "contract_no"),
        # The reminder run reads active loans by maturity.
        Index("ix_loan_status_maturity_date", "status", "maturity_date"),
        Index("ix_loan_bank_code_maturity_date", "bank_code", "maturity_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    bank_code: str = Field(foreign_key="bank.code", max_length=32)
    contract_no: str = Field(max_length=64)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    product_id: int | None = Field(default=None, foreign_key="product.id")
    lead_id: int | None = Field(default=None, foreign_key="lead.id", unique=True)
    kind: LoanKind = Field(sa_type=String(24))
    principal_fen: int = Field(sa_type=BigInteger)
    rate_bp: int
    disbursed_date: date
    maturity_date: date
    status: LoanStatus = Field(default=LoanStatus.active, sa_type=String(16))
    source: LoanSource = Field(sa_type=String(16))
    renewed_from_id: int | None = Field(default=None, foreign_key="loan.id")
    closed_date: date | None = None
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReminderRun(SQLModel, table=True):
    """One run of the reminder job: what it was asked and what it did."""

    __tablename__ = "reminder_run"

    id: int | None = Field(default=None, primary_key=True)
    as_of: date
    stages: str = Field(max_length=100)  # "30,15,7"
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reminders: int = 0
    late: int = 0
    recomputed: int = 0  # provisional reminder dates made final as the calendar learned a year
    trigger: str = Field(default="worker", max_length=16)  # worker | cli | api


class LoanReminder(SQLModel, table=True):
    """A reminder of one stage before one maturity. The unique key makes it exactly once, how
    many runners there may be; a maturity moved by a re-import gets its own schedule. A
    provisional one's date was found on a year whose official holiday notice the calendar
    did not carry yet; the run recomputes it when the calendar learns the year."""

    __tablename__ = "loan_reminder"
    __table_args__ = (
        UniqueConstraint("loan_id", "maturity_date", "stage_days"),
        Index("ix_loan_reminder_bank_code_id", "bank_code", "id"),
        Index("ix_loan_reminder_run_id_bank_code", "run_id", "bank_code"),
        # Every run looks for the few provisional reminders among many final ones.
        Index(
            "ix_loan_reminder_provisional",
            "maturity_date",
            "stage_days",
            sqlite_where=text("provisional = 1"),
            postgresql_where=text("provisional"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    loan_id: int = Field(foreign_key="loan.id")
    bank_code: str = Field(foreign_key="bank.code", max_length=32)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    maturity_date: date
    stage_days: int
    remind_date: date  # when it was due (after moving off non-working days)
    provisional: bool = False  # remind_date is on an estimated calendar year (see above)
    late: bool = False  # sent after remind_date (the job was down)
    final: bool = False  # the last stage: the office is told too
    run_id: int = Field(foreign_key="reminder_run.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RenewalCase(SQLModel, table=True):
    """What the bank did about a maturing loan; one per loan."""

    __tablename__ = "renewal_case"

    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="loan.id", unique=True)
    status: CaseStatus = Field(default=CaseStatus.open, sa_type=String(16))
    version: int = 1
    contacted_date: date | None = None
    committed_date: date | None = None
    committed_amount_fen: int | None = Field(default=None, sa_type=BigInteger)
    no_principal: bool | None = None  # the renewal is 无还本续贷 (as committed)
    bridge_needed_date: date | None = None
    bridged_date: date | None = None
    renewed_date: date | None = None
    renewal_loan_id: int | None = Field(default=None, foreign_key="loan.id")
    repaid_date: date | None = None
    failed_date: date | None = None
    failed_reason: str | None = Field(default=None, max_length=500)
    note: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BridgeStatus(StrEnum):
    submitted = "submitted"
    approved = "approved"
    disbursed = "disbursed"
    repaid = "repaid"
    rejected = "rejected"
    cancelled = "cancelled"


class BridgeApplication(SQLModel, table=True):
    """A request for the 转贷应急资金 to repay a maturing loan until the bank re-lends."""

    __tablename__ = "bridge_application"

    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="loan.id", index=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    bank_code: str = Field(foreign_key="bank.code", max_length=32, index=True)
    amount_fen: int = Field(sa_type=BigInteger)
    days: int
    start_date: date
    end_date: date
    fee_fen: int = Field(sa_type=BigInteger)
    committed_amount_fen: int = Field(sa_type=BigInteger)
    status: BridgeStatus = Field(default=BridgeStatus.submitted, sa_type=String(16))
    version: int = 1
    note: str | None = Field(default=None, max_length=500)
    # When each step happened (Asia/Shanghai business dates), as the office records them.
    approved_date: date | None = None
    disbursed_date: date | None = None
    repaid_date: date | None = None
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
