"""The office's figures over loans, from plain rows (``queries.LoanRow``) to report rows. Pure.

Renewal compliance of the loans maturing in a period, per bank: contacted about renewal at
least 30 days before maturity (``CONTACT_AHEAD_DAYS``), renewed on or before the maturity date,
bridged with the 转贷应急资金, failed, repaid, still open. Compliance is judged only on the loans
that are *due*: maturity passed or inside the reminder window (the earliest reminder stage,
``window_days`` before maturity, has come); a loan maturing next year cannot have been
contacted late yet, and counting it would dilute every rate. Upcoming maturities by month: how
many and how much, how many may renew without repaying principal (``loans.renewal``), how many
the bank has contacted or committed to renew."""

from collections.abc import Sequence
from datetime import date, timedelta

from service.loans.renewal import no_principal_renewal
from service.metrics.numbers import ratio
from service.metrics.queries import LoanRow
from service.metrics.schemas import MaturityRow, RenewalRow

CONTACT_AHEAD_DAYS = 30
_AFTER_COMMITMENT = {"committed", "bridge_needed", "bridged", "renewed"}


def is_due(row: LoanRow, today: date, window_days: int) -> bool:
    """Maturity passed, or within ``window_days`` (the earliest reminder stage) from today."""
    return row.maturity_date <= today + timedelta(days=window_days)


def renewal_row(
    key: str | None,
    label: str,
    rows: Sequence[LoanRow],
    today: date,
    window_days: int = CONTACT_AHEAD_DAYS,
) -> RenewalRow:
    """Renewal compliance of a set of maturing loans: of those due (``is_due``), contacted at
    least 30 days ahead, renewed by the maturity date, bridged, failed, each over the due
    loans. ``maturing`` and ``principal_fen`` still cover every loan of the period."""
    due_rows = [r for r in rows if is_due(r, today, window_days)]
    n = len(due_rows)
    ahead = timedelta(days=CONTACT_AHEAD_DAYS)
    contacted = sum(
        1 for r in due_rows if r.contacted_date and r.contacted_date <= r.maturity_date - ahead
    )
    renewed = [r for r in due_rows if r.case_status == "renewed"]
    on_time = sum(1 for r in renewed if r.renewed_date and r.renewed_date <= r.maturity_date)
    bridged = sum(1 for r in due_rows if r.bridged_date is not None)
    failed = sum(1 for r in due_rows if r.case_status == "failed")
    repaid = sum(1 for r in due_rows if r.case_status == "repaid" or r.status == "repaid")
    return RenewalRow(
        key=key,
        label=label,
        maturing=len(rows),
        due=n,
        principal_fen=sum(r.principal_fen for r in rows),
        matured=sum(1 for r in rows if r.maturity_date < today),
        contacted_30=contacted,
        contacted_30_rate=ratio(contacted, n),
        renewed_before_maturity=on_time,
        renewed_before_maturity_rate=ratio(on_time, n),
        renewed=len(renewed),
        bridged=bridged,
        bridged_rate=ratio(bridged, n),
        failed=failed,
        failed_rate=ratio(failed, n),
        repaid=repaid,
        open=n - len(renewed) - failed - repaid,
    )


def renewals(
    rows: Sequence[LoanRow], today: date, window_days: int = CONTACT_AHEAD_DAYS
) -> tuple[list[RenewalRow], RenewalRow]:
    by_bank: dict[str, list[LoanRow]] = {}
    for row in rows:
        by_bank.setdefault(row.bank_code, []).append(row)
    groups = [
        renewal_row(code, members[0].bank_name, members, today, window_days)
        for code, members in sorted(by_bank.items())
    ]
    return groups, renewal_row(None, "合计", rows, today, window_days)


def maturity_row(key: str | None, label: str, rows: Sequence[LoanRow]) -> MaturityRow:
    eligible = sum(
        1 for r in rows if no_principal_renewal(r.size_class, r.kind, r.maturity_date).eligible
    )
    return MaturityRow(
        key=key,
        label=label,
        loans=len(rows),
        principal_fen=sum(r.principal_fen for r in rows),
        no_principal_eligible=eligible,
        contacted=sum(1 for r in rows if r.contacted_date is not None),
        committed=sum(1 for r in rows if r.case_status in _AFTER_COMMITMENT),
    )


def maturities(rows: Sequence[LoanRow]) -> tuple[list[MaturityRow], MaturityRow]:
    by_month: dict[str, list[LoanRow]] = {}
    for row in rows:
        by_month.setdefault(row.maturity_date.strftime("%Y-%m"), []).append(row)
    groups = [maturity_row(month, month, members) for month, members in sorted(by_month.items())]
    return groups, maturity_row(None, "合计", rows)
