"""A list import refuses files over the spreadsheet limits and hostile files with a problem
that says which limit or what is wrong, records no import, and reads the real extent of a
sheet whatever its declared dimension."""

import inspect
import time
from itertools import count
from typing import Any

import pytest

from service.core.tables import Limits, read_limits
from tests import spreadsheets as s

HEADER = ["企业名称", "统一社会信用代码", "所在地区"]
ROWS = [
    ["2026年第一批名单"],
    HEADER,
    ["无锡甲精密机械有限公司", None, "新吴区"],
    ["无锡乙电子有限公司"],
]


def _upload(c, content: bytes, name: str, **form: Any):
    return c.post(
        "/api/v1/lists/imports",
        files={"file": (name, content, "application/octet-stream")},
        data={"qualification_type": "little_giant", **form},
    )


def _problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["code"]) == (status, code)
    assert body["detail"]
    return body


def _no_import(client) -> None:
    assert client.get("/api/v1/lists/imports").json()["items"] == []


@pytest.mark.parametrize(
    ("content", "name", "code"),
    [case[1:] for case in s.hostile_uploads(HEADER)],
    ids=[case[0] for case in s.hostile_uploads(HEADER)],
)
def test_hostile_files_are_refused_and_nothing_is_recorded(client, content, name, code) -> None:
    started = time.monotonic()
    _problem(_upload(client, content, name), 422, code)
    assert time.monotonic() - started < 10
    _no_import(client)


@pytest.mark.parametrize(
    "build",
    [
        s.understated,
        lambda rows: s.far_corner(rows, value=None),
        lambda rows: s.shared_strings(s.xlsx(rows)),
    ],
)
def test_every_row_of_a_sheet_is_read_whatever_its_dimension(client, build) -> None:
    response = _upload(client, build(ROWS), "名单.xlsx")
    assert response.status_code == 201, response.text
    assert response.json()["rows"] == 2


def test_each_limit_is_named_with_its_value(client, monkeypatch) -> None:
    content = s.xlsx(ROWS)
    monkeypatch.setattr(read_limits, "LIMITS", Limits(file_bytes=100))
    body = _problem(_upload(client, content, "名单.xlsx"), 413, "file_too_large")
    assert body["limit"] == 100 and "100 字节" in body["detail"]
    for limits, code, value in [
        (Limits(rows=3), "too_many_rows", 3),
        (Limits(columns=2), "too_many_columns", 2),
        (Limits(cells=6), "too_many_cells", 6),
    ]:
        monkeypatch.setattr(read_limits, "LIMITS", limits)
        body = _problem(_upload(client, content, "名单.xlsx"), 422, code)
        assert body["limit"] == value and str(value) in body["detail"]
    monkeypatch.setattr(read_limits, "LIMITS", Limits())
    clock = count(step=7.0)
    monkeypatch.setattr(read_limits.time, "monotonic", lambda: next(clock))
    _problem(_upload(client, content, "名单.xlsx"), 422, "read_timeout")
    _no_import(client)


def test_blank_rows_past_the_row_limit_are_skipped(client, monkeypatch) -> None:
    monkeypatch.setattr(read_limits, "LIMITS", Limits(rows=5))
    text = "企业名称\n无锡甲精密机械有限公司\n" + ",,\n" * 100
    response = _upload(client, text.encode(), "名单.csv")
    assert response.status_code == 201, response.text
    assert response.json()["rows"] == 1


def test_the_upload_is_read_off_the_event_loop() -> None:
    from service.lists.router import import_list

    assert not inspect.iscoroutinefunction(import_list)  # FastAPI runs a plain def in a thread
