"""Columns of an enterprise that are derived, never typed in. Pure: no I/O."""

from collections.abc import Sequence
from dataclasses import dataclass

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
