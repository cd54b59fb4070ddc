"""Where a request's attachments keep their bytes, behind one interface: a directory on disk
(the default, ``FINMATCH_ATTACHMENT_DIR``), or any object store that can put and get bytes
by key (an S3-compatible bucket is a class with these two methods). The database row says
what a file is; the store holds only bytes, under a random key the service makes, so a
file's name never becomes a path.

What a file is comes from its bytes, not its name or the client's content type: a PDF, a PNG,
a JPEG or a WebP image (``sniff``); anything else is refused. The bytes are written before the
row commits: a failed commit leaves an unreferenced file, never a row without its file."""

import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import Protocol

from service.core.settings import get_settings, project_root

MEDIA_LABEL = {
    "application/pdf": "PDF",
    "image/png": "PNG 图片",
    "image/jpeg": "JPEG 图片",
    "image/webp": "WebP 图片",
}
_KEY = re.compile(r"[0-9a-f]{32}")


def sniff(content: bytes) -> str | None:
    """The media type of a PDF or an image, from its first bytes; None for anything else."""
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return None


def new_key() -> str:
    return secrets.token_hex(16)


class AttachmentStore(Protocol):
    def put(self, key: str, content: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...


class DiskStore:
    """Files in a directory, two levels of fan-out by key; written to a temporary file and
    renamed, so a reader never sees half a file."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise ValueError(f"not an attachment key: {key!r}")
        return self.root / key[:2] / key

    def put(self, key: str, content: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()


class MemoryStore:
    """Bytes in a dictionary: for tests and trials that keep nothing."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def put(self, key: str, content: bytes) -> None:
        self.files[key] = content

    def get(self, key: str) -> bytes:
        return self.files[key]


_store: AttachmentStore | None = None


def get_store() -> AttachmentStore:
    global _store
    if _store is None:
        configured = get_settings().attachment_dir
        _store = DiskStore(
            Path(configured) if configured else project_root() / "var" / "attachments"
        )
    return _store


def use_store(store: AttachmentStore | None) -> None:
    """Replace the store (tests; an object store wired at start); None goes back to the
    configured one."""
    global _store
    _store = store
