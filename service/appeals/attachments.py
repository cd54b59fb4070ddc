"""Use cases of a request's files: attaching one (a PDF or an image, by its bytes; at most
``MAX_FILES`` per request and the configured size each) and reading one back.

Who: the enterprise to its own open request, the office to any, the handling bank to one
dispatched to it (evidence with its answer). A bank reads the enterprise's files only if the
enterprise allowed the bank to see who raised the request; its own files always. Nothing is
ever deleted. A store that cannot be reached is a 503 to try again: an upload then leaves
neither bytes nor a row."""

import hashlib
import logging
import re
import unicodedata

from sqlmodel import Session

from service.access.models import Role
from service.access.policy import Principal
from service.appeals import queries, storage
from service.appeals.exceptions import (
    AttachmentLost,
    AttachmentNotFound,
    AttachmentRefused,
    AttachmentStoreUnavailable,
)
from service.appeals.models import Appeal, AppealAttachment
from service.appeals.service import add_event, get_appeal
from service.appeals.states import FINAL
from service.core.settings import get_settings

MAX_FILES = 10
FILENAME_MAX = 120
_UNSAFE = re.compile(r'[\\/:*?"<>|]')

log = logging.getLogger(__name__)


def clean_filename(name: str | None, media_type: str) -> str:
    """The name shown for a file: its last path part, without control or path characters,
    at most ``FILENAME_MAX`` characters; a placeholder when nothing is left."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = _UNSAFE.sub("_", base).strip().lstrip(".")
    if not base:
        base = "附件." + media_type.rsplit("/", 1)[-1].replace("jpeg", "jpg")
    return base[-FILENAME_MAX:]


def attach(
    session: Session, principal: Principal, appeal_id: int, filename: str | None, content: bytes
) -> AppealAttachment:
    row = get_appeal(session, principal, appeal_id, lock=True)
    if row.status in FINAL:
        raise AttachmentRefused("该诉求已结束，不能再上传附件", status=409, code="request_closed")
    limit = get_settings().attachment_max_bytes
    if len(content) > limit:
        raise AttachmentRefused(
            f"附件不能超过 {limit // (1024 * 1024)} MB", status=413, code="attachment_too_large"
        )
    if not content:
        raise AttachmentRefused("附件是空文件", status=422, code="empty_attachment")
    media_type = storage.sniff(content)
    if media_type is None:
        raise AttachmentRefused(
            "附件须为 PDF 或图片（PNG、JPEG、WebP）；文件内容不是这几种格式",
        )
    if queries.count_attachments(session, appeal_id) >= MAX_FILES:
        raise AttachmentRefused(
            f"每件诉求最多 {MAX_FILES} 个附件", status=409, code="too_many_attachments"
        )
    key = storage.new_key()
    try:
        storage.get_store().put(key, content)  # before the row: never a row without its bytes
    except storage.StoreUnavailable as exc:
        raise AttachmentStoreUnavailable(
            "附件存储暂时无法访问，文件没有保存；请稍后重试。"
        ) from exc
    file = AppealAttachment(
        appeal_id=appeal_id,
        filename=clean_filename(filename, media_type),
        media_type=media_type,
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        storage_key=key,
        uploaded_by_role=str(principal.role),
        uploaded_by=principal.ref,
    )
    session.add(file)
    session.flush()
    add_event(
        session,
        row,
        "attached",
        principal,
        str(row.status),
        attachment_id=file.id,
        filename=file.filename,
    )
    session.commit()
    return file


def read(
    session: Session, principal: Principal, appeal_id: int, attachment_id: int
) -> tuple[AppealAttachment, bytes]:
    row: Appeal = get_appeal(session, principal, appeal_id)
    file = session.get(AppealAttachment, attachment_id)
    hidden = (
        principal.role == Role.bank
        and not row.show_to_bank
        and file is not None
        and file.uploaded_by_role != "bank"
    )
    if file is None or file.appeal_id != appeal_id or hidden:
        raise AttachmentNotFound(f"附件 {attachment_id} 不存在。")
    try:
        return file, storage.get_store().get(file.storage_key)
    except storage.StoreUnavailable as exc:
        raise AttachmentStoreUnavailable("附件存储暂时无法访问，请稍后再下载。") from exc
    except FileNotFoundError as exc:  # the row is there, its bytes are not: a fault of ours
        log.error("attachment %s of request %s: bytes missing (%s)", file.id, appeal_id, exc)
        raise AttachmentLost(
            f"附件「{file.filename}」的文件在存储中找不到，已记录；请联系金融办。"
        ) from exc
