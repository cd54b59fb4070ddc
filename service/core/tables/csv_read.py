"""The rows of a CSV upload: UTF-8 (with or without a byte-order mark) or else GB18030, the
delimiter sniffed (comma, tab, semicolon or the full-width comma), quotes doubled as every
spreadsheet writes them. The file is decoded as it is read (memory holds a line, not a copy of
the file); a NUL byte, a cell over the csv module's field limit or a broken quote refuses the
file. Each record's cells count against the read's budget."""

import codecs
import csv
import io
from collections.abc import Iterator
from typing import Any

from service.core.tables.read_limits import FileError, ReadBudget


def _encoding(content: bytes) -> str:
    """UTF-8 (with or without a byte-order mark) if the file is that, else GB18030: checked a
    piece at a time, so that no decoded copy of the whole file is kept."""
    view = memoryview(content)
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            for start in range(0, len(view), _CSV_CHUNK):
                decoder.decode(view[start : start + _CSV_CHUNK])
            decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    raise FileError(  # pragma: no cover - gb18030 decodes nearly everything
        "unknown_encoding", "无法识别文件编码，请存为 UTF-8 或 GB18030"
    )


_CSV_CHUNK = 64 * 1024


def csv_rows(content: bytes, budget: ReadBudget) -> Iterator[tuple[int, list[Any]]]:
    """The records, decoded as they are read (memory holds a line, not a copy of the file)."""
    encoding = _encoding(content)
    # A NUL byte is a NUL character in UTF-8 and GB18030 alike (no multi-byte character
    # holds one).
    nul = content.find(b"\x00")
    if nul >= 0:  # no name, code or amount holds one; PostgreSQL could not store it
        line = content.count(b"\n", 0, nul) + 1
        raise FileError(
            "nul_character",
            f"文件第 {line} 行含有空字符（U+0000），这不是合法的文字；请删去后重新上传",
            line=line,
        )
    # The first 4096 characters (a character cut at the end of the bytes read is dropped).
    sample = content[: 4 * 4096].decode(encoding, errors="ignore")[:4096]
    dialect: type[csv.Dialect]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;，")
        # The sniffer takes quotes inside a quoted cell as not doubled when its sample has
        # none; every spreadsheet (and RFC 4180) doubles them, and a later cell that holds
        # one ('专精特新""小巨人""企业') would be misread. (The class is the sniffer's own,
        # made for this sample.)
        dialect.doublequote = True
    except csv.Error:
        dialect = csv.excel
    try:
        stream = io.TextIOWrapper(io.BytesIO(content), encoding=encoding, newline="")
        for number, record in enumerate(csv.reader(stream, dialect), start=1):
            budget.add_cells(len(record))
            yield number, record
    except csv.Error as exc:  # a NUL byte, an unterminated quote at the end …
        if "field larger than field limit" in str(exc):
            limit = csv.field_size_limit()
            raise FileError(
                "cell_too_long",
                f"有单元格超过 {limit} 个字符的上限（常因引号未闭合），无法读取",
                limit=limit,
            ) from exc
        raise FileError("unreadable_csv", f"无法读取 CSV 文件：{exc}") from exc
