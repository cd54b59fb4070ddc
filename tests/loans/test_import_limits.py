"""A loan import refuses files over the spreadsheet limits and hostile files with a problem
that says which limit or what is wrong, writes nothing, and reads the real extent of a sheet
whatever its declared dimension."""

import inspect
import time
from itertools import count

import pytest

from service.core.tables import Limits, read_limits
from tests import spreadsheets as s
from tests.factories import bank_payload, create_enterprise

HEADER = ["合同编号", "统一社会信用代码", "本金（万元）", "年利率(%)", "放款日", "到期日"]


@pytest.fixture
def bank(client) -> str:
    return client.post("/api/v1/banks", json=bank_payload()).json()["code"]


def _upload(c, content: bytes, name: str, **params):
    return c.post(
        "/api/v1/loans/import",
        files={"file": (name, content, "application/octet-stream")},
        data={"bank": params.pop("bank")} if "bank" in params else {},
        params=params,
    )


def _problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["code"]) == (status, code)
    assert body["detail"]
    return body


@pytest.mark.parametrize(
    ("content", "name", "code"),
    [case[1:] for case in s.hostile_uploads(HEADER)],
    ids=[case[0] for case in s.hostile_uploads(HEADER)],
)
def test_hostile_files_are_refused_and_nothing_is_written(client, bank, content, name, code):
    started = time.monotonic()
    _problem(_upload(client, content, name, bank=bank), 422, code)
    assert time.monotonic() - started < 10
    assert client.get("/api/v1/loans").json()["items"] == []


def _loans(client) -> list[list]:
    a, b = create_enterprise(client), create_enterprise(client)
    return [
        HEADER,
        ["HT-1", a["credit_code"], 500, 3.45, "2025-12-01", "2026-12-01"],
        ["HT-2", b["credit_code"], 100, 3.1, "2025-06-30", "2027-06-30"],
    ]


@pytest.mark.parametrize(
    "build", [s.understated, lambda rows: s.far_corner(rows, value=None), s.xlsx]
)
def test_every_row_of_a_sheet_is_read_whatever_its_dimension(client, bank, build) -> None:
    response = _upload(client, build(_loans(client)), "loans.xlsx", bank=bank, dry_run="true")
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["rows"], report["created"], report["rejected"]) == (2, 2, 0)


def test_each_limit_is_named_with_its_value(client, bank, monkeypatch) -> None:
    content = s.xlsx(_loans(client))
    monkeypatch.setattr(read_limits, "LIMITS", Limits(file_bytes=len(content) - 1))
    body = _problem(_upload(client, content, "loans.xlsx", bank=bank), 413, "file_too_large")
    assert body["limit"] == len(content) - 1
    for limits, code, value in [
        (Limits(rows=2), "too_many_rows", 2),
        (Limits(columns=5), "too_many_columns", 5),
        (Limits(cells=10), "too_many_cells", 10),
    ]:
        monkeypatch.setattr(read_limits, "LIMITS", limits)
        body = _problem(_upload(client, content, "loans.xlsx", bank=bank), 422, code)
        assert body["limit"] == value and str(value) in body["detail"]
    monkeypatch.setattr(read_limits, "LIMITS", Limits())
    clock = count(step=7.0)
    monkeypatch.setattr(read_limits.time, "monotonic", lambda: next(clock))
    body = _problem(_upload(client, content, "loans.xlsx", bank=bank), 422, "read_timeout")
    assert body["limit"] == 30 and "30 秒" in body["detail"]
    assert client.get("/api/v1/loans").json()["items"] == []


def test_the_upload_is_read_off_the_event_loop() -> None:
    from service.loans.router import import_loans

    assert not inspect.iscoroutinefunction(import_loans)  # FastAPI runs a plain def in a thread
