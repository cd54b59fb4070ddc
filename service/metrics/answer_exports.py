"""The three answers as files (``format=csv`` or ``xlsx``): a header line of field names, one
line per row (the city or total last), every cell through the spreadsheet writer's formula
guard (``core.tables``), like the other reports' CSV files (``exports``)."""

from collections.abc import Sequence
from typing import Any

from service.core.tables import csv_bytes, xlsx_bytes
from service.metrics.answer_schemas import (
    AnswerFormat,
    AreaReport,
    ConversionReport,
    StallReport,
)

STALL_HEADER = ["stage", "stage_label", "bank", "bank_label", "count", "median_days", "oldest_days"]


def _file(fmt: AnswerFormat, title: str, header: Sequence[str], lines: list[list[Any]]) -> bytes:
    if fmt == AnswerFormat.xlsx:
        return xlsx_bytes(title, header, lines)
    return csv_bytes(header, lines)


def conversion_file(report: ConversionReport, fmt: AnswerFormat) -> bytes:
    rows = [*report.groups, report.city]
    header = list(type(report.city).model_fields)
    return _file(fmt, "conversion", header, [[getattr(r, h) for h in header] for r in rows])


def stalls_file(report: StallReport, fmt: AnswerFormat) -> bytes:
    """Per stage one line per bank and one for the stage (bank empty); then the needs that
    reached no bank, one line per reason (stage ``unreached``)."""
    lines: list[list[Any]] = []
    for stage in report.stages:
        for b in stage.banks:
            lines.append(
                [stage.stage, stage.label, b.key, b.label, b.count, b.median_days, b.oldest_days]
            )
        lines.append(
            [
                stage.stage,
                stage.label,
                None,
                "合计",
                stage.count,
                stage.median_days,
                stage.oldest_days,
            ]
        )
    for r in report.unreached_reasons:
        lines.append(["unreached", r.label, r.reason, None, r.count, r.median_days, r.oldest_days])
    u = report.unreached
    lines.append(
        ["unreached", "未到达任何银行", None, "合计", u.count, u.median_days, u.oldest_days]
    )
    return _file(fmt, "stalls", STALL_HEADER, lines)


def areas_file(report: AreaReport, fmt: AnswerFormat) -> bytes:
    rows = [*report.groups, report.total]
    header = list(type(report.total).model_fields)
    return _file(
        fmt, f"areas-{report.group_by}", header, [[getattr(r, h) for h in header] for r in rows]
    )
