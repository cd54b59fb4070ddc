"""Spreadsheets built in the test, ordinary and hostile: XLSX rewritten part by part (a cell
at the sheet's far corner, an understated dimension, a DTD), zip bombs, truncated and foreign
archives, CSV with huge lines."""

import io
import re
import zipfile
from collections.abc import Callable
from functools import cache

from openpyxl import Workbook

SHEET = "xl/worksheets/sheet1.xml"
LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
    + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">\n'
        for i in range(1, 10)
    )
    + "]>\n"
)


def xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rewrite(
    content: bytes,
    part: str,
    change: Callable[[bytes], bytes],
    more: dict[str, Callable[[bytes], bytes]] | None = None,
    add: dict[str, bytes] | None = None,
) -> bytes:
    """The workbook with parts changed (``part`` and those in ``more``) or added (``add``),
    the others copied as they are."""
    changes = {part: change, **(more or {})}
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(content)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info.filename, changes.get(info.filename, lambda d: d)(data))
        for name, data in (add or {}).items():
            target.writestr(name, data)
    return out.getvalue()


def shared_strings(content: bytes, phonetic: bool = False) -> bytes:
    """The workbook with its text in a shared-strings part, as Excel saves it (openpyxl
    writes text inline); with ``phonetic``, each string carries a phonetic guide (rPh) that
    is not part of its text."""
    strings: list[str] = []

    def to_index(match: re.Match[str]) -> str:
        strings.append(match.group(2))
        return f'<c r="{match.group(1)}" t="s"><v>{len(strings) - 1}</v></c>'

    sheet = zipfile.ZipFile(io.BytesIO(content)).read(SHEET).decode()
    sheet = re.sub(r'<c r="([A-Z]+\d+)" t="inlineStr"><is><t>([^<]*)</t></is></c>', to_index, sheet)
    guide = '<rPh sb="0" eb="1"><t>ピンイン</t></rPh>' if phonetic else ""
    sst = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + "".join(f"<si><r><t>{text}</t></r>{guide}</si>" for text in strings)
        + "</sst>"
    ).encode()
    relation = (
        '<Relationship Id="rIdSS" Target="sharedStrings.xml" Type="http://schemas.'
        'openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/></Relationships>'
    )
    override = (
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
    )
    return rewrite(
        content,
        SHEET,
        lambda _: sheet.encode(),
        more={
            "xl/_rels/workbook.xml.rels": lambda d: d.replace(
                b"</Relationships>", relation.encode()
            ),
            "[Content_Types].xml": lambda d: d.replace(b"</Types>", override.encode()),
        },
        add={"xl/sharedStrings.xml": sst},
    )


def with_sheet_xml(content: bytes, change: Callable[[str], str]) -> bytes:
    return rewrite(content, SHEET, lambda data: change(data.decode()).encode())


def far_corner(rows: list[list], value: str | None = "x") -> bytes:
    """A cell at XFD1048576 (the last one a sheet has) and the dimension to match; with
    ``value=None`` the cell is only styled, as Excel leaves one that was formatted."""
    cell = (
        f'<c r="XFD1048576" t="inlineStr"><is><t>{value}</t></is></c>'
        if value is not None
        else '<c r="XFD1048576" s="0"/>'
    )
    return with_sheet_xml(
        xlsx(rows),
        lambda xml: re.sub(
            r'<dimension ref="[^"]*"', '<dimension ref="A1:XFD1048576"', xml
        ).replace("</sheetData>", f'<row r="1048576">{cell}</row></sheetData>'),
    )


def understated(rows: list[list]) -> bytes:
    """Every row there, but the sheet declares only A1."""
    return with_sheet_xml(
        xlsx(rows), lambda xml: re.sub(r'<dimension ref="[^"]*"', '<dimension ref="A1:A1"', xml)
    )


def billion_laughs(rows: list[list], part: str = SHEET) -> bytes:
    """The part behind a DTD whose entity expands to a billion "lol"s, used in a cell (the
    sheet's, or the first shared string)."""

    def change(data: bytes) -> bytes:
        xml = re.sub(r"^<\?xml[^>]*\?>\s*", "", data.decode())
        if part == SHEET:
            laughs = '<row r="99"><c r="A99" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
            xml = xml.replace("</sheetData>", laughs + "</sheetData>")
        else:
            xml = re.sub(r"<t>[^<]*</t>", "<t>&lol9;</t>", xml, count=1)
        return (LAUGHS + xml).encode()

    return rewrite(shared_strings(xlsx(rows)), part, change)


def external_entity(rows: list[list]) -> bytes:
    """A sheet that would read a file of the server into a cell (XXE)."""
    dtd = '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    return with_sheet_xml(
        xlsx(rows),
        lambda xml: (
            dtd
            + re.sub(r"^<\?xml[^>]*\?>\s*", "", xml).replace(
                "</sheetData>",
                '<row r="99"><c r="A99" t="inlineStr"><is><t>&xxe;</t></is></c></row></sheetData>',
            )
        ),
    )


@cache
def zip_bomb(inflated: int = 150 * 1024 * 1024) -> bytes:
    """A valid workbook whose sheet inflates to ``inflated`` bytes (blank space inside
    <sheetData>), about 150 KB on disk."""
    base = xlsx([["企业名称"], ["无锡甲有限公司"]])
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(base)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info)
            if info.filename != SHEET:
                target.writestr(info.filename, data)
                continue
            head, tail = data.decode().split("</sheetData>")
            entry = zipfile.ZipInfo(SHEET)
            entry.compress_type = zipfile.ZIP_DEFLATED
            with target.open(entry, "w", force_zip64=True) as stream:
                stream.write(head.encode())
                block = b" " * (1024 * 1024)
                for _ in range(inflated // len(block)):
                    stream.write(block)
                stream.write(b"</sheetData>" + tail.encode())
    return out.getvalue()


def lying_sizes(content: bytes) -> bytes:
    """The archive with every entry's uncompressed size declared as 100 bytes, so a reader
    trusting the declaration would inflate far more than it expects."""
    data = bytearray(content)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (found := data.find(signature, start)) != -1:
            data[found + offset : found + offset + 4] = (100).to_bytes(4, "little")
            start = found + 4
    return bytes(data)


def truncated(content: bytes) -> bytes:
    return content[: len(content) // 2]


def foreign_zip() -> bytes:
    """A zip archive, but no workbook in it."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "这不是工作簿")
        archive.writestr("data/list.csv", "企业名称\n无锡甲有限公司\n")
    return out.getvalue()


def hostile_uploads(header: list[str]) -> list[tuple[str, bytes, str, str]]:
    """(name, content, file name, code) of files an upload endpoint must refuse with a 422
    and that code, quickly; ``header`` makes the readable part look like the real thing."""
    rows = [header, ["x"] * len(header)]
    return [
        ("far-corner", far_corner(rows), "a.xlsx", "too_many_rows"),
        ("zip-bomb", zip_bomb(), "a.xlsx", "inflated_too_large"),
        ("lying-sizes", lying_sizes(zip_bomb()), "a.xlsx", "unreadable_xlsx"),
        ("truncated", truncated(xlsx(rows)), "a.xlsx", "unreadable_xlsx"),
        ("zip-without-workbook", foreign_zip(), "a.xlsx", "no_workbook"),
        ("billion-laughs", billion_laughs(rows), "a.xlsx", "unsafe_xml"),
        (
            "billion-laughs-shared-strings",
            billion_laughs(rows, "xl/sharedStrings.xml"),
            "a.xlsx",
            "unsafe_xml",
        ),
        ("external-entity", external_entity(rows), "a.xlsx", "unsafe_xml"),
        (
            "huge-csv-cell",
            (",".join(header) + "\n" + "x" * 200_000).encode(),
            "a.csv",
            "cell_too_long",
        ),
        (
            "wide-csv",
            (",".join(header) + "\n" + "x," * 300 + "\n").encode(),
            "a.csv",
            "too_many_columns",
        ),
        (
            "csv-of-commas",
            (",".join(header) + "\n" + "," * 3_000_000).encode(),
            "a.csv",
            "too_many_cells",
        ),
    ]
