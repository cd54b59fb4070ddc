"""What is derived, never typed in: an enterprise's columns from its credit code, name and
figures (normalised name, where it is registered, its size class), and a qualification's
expiry from its type's term. Pure: no I/O."""

from calendar import monthrange
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from service.taxonomy.credit_code import CreditCode
from service.taxonomy.names import normalize_company_name
from service.taxonomy.sizing import Figures, SizeRow, classify


@dataclass(frozen=True)
class Derived:
    name_normalized: str
    registered_area_code: str
    registered_in_wuxi: bool
    size_class: str | None
    size_industry_key: str | None
    size_reason: str

    def columns(self) -> dict:
        return {
            "name_normalized": self.name_normalized,
            "registered_area_code": self.registered_area_code,
            "registered_in_wuxi": self.registered_in_wuxi,
            "size_class": self.size_class,
            "size_industry_key": self.size_industry_key,
        }


def derive(
    credit_code: CreditCode,
    name: str,
    industry_code: str | None,
    employees: int | None,
    revenue_fen: int | None,
    total_assets_fen: int | None,
    size_rows: Sequence[SizeRow],
) -> Derived:
    size = classify(industry_code, Figures(employees, revenue_fen, total_assets_fen), size_rows)
    return Derived(
        name_normalized=normalize_company_name(name),
        registered_area_code=credit_code.area_code,
        registered_in_wuxi=credit_code.registered_in_wuxi,
        size_class=size.size_class,
        size_industry_key=size.industry_key,
        size_reason=size.reason,
    )


def expiry(issued: date, term_months: int | None) -> date | None:
    """The last day of a qualification's term: issued + the term's months − 1 day (the 31st
    of a month the term ends in a shorter month counts as its last day); None without a
    term."""
    if not term_months:
        return None
    year, month = divmod(issued.month - 1 + term_months, 12)
    year += issued.year
    day = min(issued.day, monthrange(year, month + 1)[1])
    return date(year, month + 1, day) - timedelta(days=1)
