"""The office imports a government list through its page: a multipart form (CSRF-checked as
every form, the file taken as the API takes it), read into the import's values with a message
beside each field, run through the same preview use case, and the preview told in words."""

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from service.access.policy import Principal
from service.core.errors import AppError
from service.core.pagination import PageParams
from service.lists import service as lists
from service.lists.models import ListImport, Match
from service.lists.schemas import EntryPublic
from service.web.forms import FormReader
from service.web.uploads import FILE_FIELD, SUFFIXES, Posted, Upload, wrong_file

FIELDS = ("qualification_type", "title", "source", "batch", "issued_date", "expires_date")
MAX_FILENAME = 200  # as the import keeps it
SHOWN_REJECTED = 200  # rejected rows listed on the preview; the count says how many in all

# How each kind of link reads in the preview, in the order the preview tells them.
MATCH_WORDS: dict[str, tuple[str, str]] = {
    Match.code: ("按信用代码匹配", "统一社会信用代码已在企业库中，提交后即获得该资质"),
    Match.auto: ("按名称自动匹配", "名称与企业库中一家企业高度一致，提交后即获得该资质"),
    Match.review: ("待人工审核", "名称与企业库中的企业相近，需在审核队列中确认后才生效"),
    Match.new: ("拟新增", "企业库中没有相近的企业，提交后不会获得资质"),
    Match.invalid: ("无效（未导入）", "这一行本身无法使用，原因见下表"),
}


ListUpload = Posted


@dataclass
class Outcome:
    """A preview made (``record``), or the form again with a message beside each field."""

    record: ListImport | None = None
    duplicate: bool = False
    errors: dict[str, str] = field(default_factory=dict)
    status: int = 422


def preview(
    session: Session, principal: Principal, upload: Upload, type_codes: list[str]
) -> Outcome:
    """Read the form; when it reads well, the preview use case on the file. A file the use
    case refuses (unreadable, missing columns, over a limit) is told beside the file field."""
    form = FormReader(upload.fields)
    values: dict[str, Any] = {
        "qualification_type": form.choice("qualification_type", type_codes, required=True),
        "title": form.text("title", 200, required=True),
        "source": form.text("source", 200),
        "batch": form.text("batch", 100),
        "issued_date": form.day("issued_date"),
        "expires_date": form.day("expires_date"),
    }
    issued, expires = values["issued_date"], values["expires_date"]
    if issued and expires and expires < issued:
        form.fail("expires_date", "有效期不能早于认定日期。")
    wrong = wrong_file(upload, "名单")
    if wrong:
        form.fail(FILE_FIELD, wrong)
    if form.errors:
        return Outcome(errors=form.errors)
    assert upload.file is not None
    try:
        record, duplicate = lists.preview_import(
            session, principal, upload.content(), _kept_name(upload.file.filename or ""), **values
        )
    except AppError as exc:
        session.rollback()
        if exc.status == 404:
            raise
        form.absorb(exc, default=FILE_FIELD)
        return Outcome(errors=form.errors, status=exc.status)
    return Outcome(record=record, duplicate=duplicate)


def _kept_name(name: str) -> str:
    """The file's name within what the import keeps, its suffix kept (a long name is no
    reason to refuse a list)."""
    if len(name) <= MAX_FILENAME:
        return name
    suffix = len(next(s for s in SUFFIXES if name.lower().endswith(s)))
    return name[: MAX_FILENAME - suffix] + name[-suffix:]


def echo(fields: dict[str, Any]) -> dict[str, str]:
    """What was typed, to show again beside the messages (a file input cannot be refilled)."""
    return {name: str(fields.get(name) or "") for name in FIELDS}


@dataclass(frozen=True)
class CountLine:
    kind: str
    label: str
    count: int
    meaning: str


def count_lines(record: ListImport) -> list[CountLine]:
    return [
        CountLine(kind, label, int(record.counts.get(kind, 0)), meaning)
        for kind, (label, meaning) in MATCH_WORDS.items()
    ]


def rejected_rows(session: Session, principal: Principal, import_id: int) -> list[EntryPublic]:
    """The import's invalid rows in list order, with every reason; the first few hundred."""
    found = lists.list_entries(
        session,
        principal,
        PageParams(limit=SHOWN_REJECTED, cursor=None),
        import_id=import_id,
        match=Match.invalid,
    )
    return sorted(found.items, key=lambda e: e.row)
