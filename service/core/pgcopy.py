"""PostgreSQL's binary COPY format, read into and written from numpy arrays, so that a million
rows cross the wire with no Python object per row.

``read`` runs ``COPY (SELECT …) TO STDOUT (FORMAT BINARY)`` on a psycopg cursor (the caller's
transaction) and returns the rows as a structured array; every selected value must be of a
fixed width and never NULL (the statement coalesces). ``binary_copy`` builds the stream a
``COPY … FROM STDIN (FORMAT BINARY)`` takes, NULLs included."""

from collections.abc import Iterator
from typing import Any

import numpy as np

SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
HEADER = SIGNATURE + b"\x00" * 8  # no flags, no header extension
TRAILER = b"\xff\xff"


class LayoutError(ValueError):
    """The COPY's bytes are not the rows the caller described."""


def row_type(fields: list[tuple[str, str]]) -> np.dtype:
    """The binary layout of one row of ``fields`` (name, numpy type such as ``>i8`` or ``?``)."""
    return np.dtype(
        [("count", ">i2")]
        + [item for name, kind in fields for item in ((f"{name}_size", ">i4"), (name, kind))]
    )


def read(cursor: Any, select: Any, fields: list[tuple[str, str]]) -> np.ndarray:
    """The rows of ``select`` (SQL text or a ``psycopg.sql`` composition) as a structured
    array with ``fields``; raises ``LayoutError`` when a row does not have them (a NULL, a
    value of another width)."""
    parts: list[bytes] = []
    with cursor.copy(f"COPY ({select}) TO STDOUT (FORMAT BINARY)") as copy:
        for block in copy:
            parts.append(bytes(block))
    return parse(b"".join(parts), fields)


def parse(data: bytes, fields: list[tuple[str, str]]) -> np.ndarray:
    row = row_type(fields)
    if data[: len(SIGNATURE)] != SIGNATURE or len(data) < len(HEADER) + len(TRAILER):
        raise LayoutError("not a binary COPY")
    start = len(HEADER) + int.from_bytes(data[15:19], "big")
    body = len(data) - start - len(TRAILER)
    if data[-2:] != TRAILER or body < 0 or body % row.itemsize:
        raise LayoutError("unexpected binary COPY layout")
    rows = np.frombuffer(data, dtype=row, offset=start, count=body // row.itemsize)
    if np.any(rows["count"] != len(fields)) or any(
        np.any(rows[f"{name}_size"] != np.dtype(kind).itemsize) for name, kind in fields
    ):
        raise LayoutError("unexpected binary COPY layout")
    return rows


def binary_copy(fields: list[tuple[np.ndarray, int]], chunk_rows: int = 250_000) -> Iterator[bytes]:
    """PostgreSQL's binary COPY stream of the rows, in their order, built with numpy:
    ``fields`` are the columns (arrays, masked where NULL) and their widths in bytes. Each
    chunk is laid out as if no field were NULL, then the data bytes of the NULL fields are
    left out (a NULL is a length of -1 and no data)."""
    yield HEADER
    n = len(fields[0][0]) if fields else 0
    layout: list[tuple[str, str]] = [("count", ">i2")]
    for i, (_, width) in enumerate(fields):
        layout += [(f"len{i}", ">i4"), (f"v{i}", f">i{width}")]
    dtype = np.dtype(layout)
    nullable = [
        i for i, (values, _) in enumerate(fields) if np.ma.getmask(values) is not np.ma.nomask
    ]
    # Which bytes of a row to keep, for each combination of the nullable fields' NULLs.
    keep = np.ones((1 << len(nullable), dtype.itemsize), dtype=bool)
    for nulls in range(1 << len(nullable)):
        for bit, i in enumerate(nullable):
            if nulls >> bit & 1:
                start = dtype.fields[f"v{i}"][1]  # type: ignore[index]
                keep[nulls, start : start + fields[i][1]] = False
    for lo in range(0, n, chunk_rows):
        part = slice(lo, lo + chunk_rows)
        block = np.empty(len(range(*part.indices(n))), dtype=dtype)
        block["count"] = len(fields)
        combination = np.zeros(len(block), dtype=np.intp)
        for i, (values, width) in enumerate(fields):
            block[f"len{i}"] = width
            block[f"v{i}"] = np.ma.getdata(values)[part]
        for bit, i in enumerate(nullable):
            null = np.ma.getmaskarray(fields[i][0][part])
            block[f"len{i}"][null] = -1
            combination |= null.astype(np.intp) << bit
        raw = block.view(np.uint8).reshape(len(block), dtype.itemsize)
        yield raw[keep[combination]].tobytes() if nullable else raw.tobytes()
    yield TRAILER
