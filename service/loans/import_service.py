"""Use case of importing a bank's list of loans (CSV or XLSX): reading the rows is ``imports``
(pure); here every row is checked against the library and recorded.

Rules here: banks and the office import; a bank imports only its own loans (a row naming
another bank is rejected), the office names the bank at the import or in each row; the
borrower is a library enterprise by credit code, the product one of the loan's bank; a contract
number appears once per bank in a file; a contract number the bank already has updates that
loan (a list without products keeps the known one; a renewed loan stays renewed), a new one
adds a loan. Good rows are recorded in one transaction, every rejected row is reported with
every reason, and a dry run writes nothing."""

from typing import Any

from sqlmodel import Session

from service.access.models import Role
from service.access.policy import Principal, between_scope, require, sees_bank
from service.core.events import emit
from service.core.models import today_local, utcnow
from service.core.tables import FileError, read_table
from service.loans import imports, queries
from service.loans.exceptions import ImportFileInvalid
from service.loans.models import Loan, LoanKind, LoanSource, LoanStatus
from service.loans.schemas import ImportRejected, ImportReport, ImportRowError


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
    default_bank, _ = between_scope(principal, bank_code, None)
    try:
        rows, count = imports.parse_rows(read_table(content, filename))
    except FileError as exc:
        raise ImportFileInvalid(exc.message, code=exc.code, status=exc.status, **exc.extra) from exc
    banks = queries.bank_codes(session)
    codes = {r.credit_code for r in rows if r.credit_code}
    enterprises = queries.enterprise_ids_by_credit_code(session, sorted(codes))
    products = queries.products_by_code(session)
    report = ImportReport(
        dry_run=dry_run, rows=count, created=0, updated=0, unchanged=0, rejected=0, rejected_rows=[]
    )
    seen: dict[tuple[str, str], int] = {}
    good: list[tuple[str, imports.LoanRow, int, int | None]] = []
    for row in rows:
        bank = row.bank_code or default_bank
        if row.bank_code and not sees_bank(principal, row.bank_code):
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
        numbers = [r.contract_no for b, r, _, _ in good if b == bank and r.contract_no is not None]
        for known in queries.loans_by_contract(session, bank, numbers):
            existing[(bank, known.contract_no)] = known
    today = today_local()
    touched: set[int] = set()
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
            touched.add(enterprise_id)
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
        # A renewed loan stays renewed: its renewal lives on.
        if (
            row.status is not None
            and row.status != loan.status
            and loan.status != LoanStatus.renewed
        ):
            changed_status = LoanStatus(row.status)
            changed["status"] = changed_status
            changed["closed_date"] = None if changed_status == LoanStatus.active else today
        if not changed:
            report.unchanged += 1
            continue
        report.updated += 1
        touched |= {enterprise_id, loan.enterprise_id}
        for key_name, value in changed.items():
            setattr(loan, key_name, value)
        loan.version += 1
        loan.updated_at = utcnow()
    if dry_run:
        session.rollback()
    else:
        if touched:
            session.flush()
            emit(session, "loans.changed", enterprise_ids=sorted(touched))
        session.commit()
    return report
