"""The office's reports as CSV files (``format=csv``): UTF-8 with a byte-order mark for Excel,
a header line, one line per group and then the total, every cell through the spreadsheet
writer's formula guard (``core.tables``); and the file name each report is sent under, made
of its filters and kept to safe characters."""

import re
from collections.abc import Sequence

from pydantic import BaseModel

from service.core.tables import csv_bytes as to_csv
from service.metrics.schemas import (
    AmountReport,
    DeclineReport,
    FunnelReport,
    MaturityReport,
    RenewalReport,
    ReportQuery,
    ResponseTimeReport,
)


def _table_csv(rows: Sequence[BaseModel]) -> bytes:
    header = list(type(rows[0]).model_fields)
    return to_csv(header, ([getattr(row, name) for name in header] for row in rows))


def funnel_csv(report: FunnelReport) -> bytes:
    """One line per group, then the total (key empty, label 合计)."""
    return _table_csv([*report.groups, report.total])


def response_times_csv(report: ResponseTimeReport) -> bytes:
    return _table_csv([*report.groups, report.total])


def amounts_csv(report: AmountReport) -> bytes:
    return _table_csv([*report.groups, report.total])


def decline_reasons_csv(report: DeclineReport) -> bytes:
    """One line per group and reason, then the total's reasons (key empty, label 合计)."""
    header = ["key", "label", "declined", "reason", "reason_label", "count", "share"]
    lines = [
        [group.key, group.label, group.declined, r.reason, r.label, r.count, r.share]
        for group in [*report.groups, report.total]
        for r in group.reasons
    ]
    return to_csv(header, lines)


def csv_filename(report_name: str, query: ReportQuery, group_by: str | None = None) -> str:
    parts = [
        "finmatch",
        report_name,
        *([f"by-{group_by}"] if group_by else []),
        *([query.bank] if query.bank else []),
        *([query.product] if query.product else []),
        *([query.ownership] if query.ownership else []),
        *([] if query.private is None else ["private" if query.private else "non-private"]),
        query.from_date.isoformat() if query.from_date else "start",
        query.to_date.isoformat() if query.to_date else "today",
    ]
    # Codes are already [a-z0-9_-]; the filter keeps the header safe whatever they hold.
    return re.sub(r"[^A-Za-z0-9_.-]", "-", "_".join(parts)) + ".csv"


def renewals_csv(report: RenewalReport) -> bytes:
    return _table_csv([*report.groups, report.total])


def maturities_csv(report: MaturityReport) -> bytes:
    return _table_csv([*report.groups, report.total])
