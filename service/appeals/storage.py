"""Where a request's attachments keep their bytes, behind one interface: a directory on disk
(the default, ``FINMATCH_ATTACHMENT_DIR``) or a bucket of an S3-compatible object store (AWS
S3, MinIO, Aliyun OSS …; ``FINMATCH_ATTACHMENT_STORE=s3``). The database row says what a file
is; the store holds only bytes, under a random key the service makes, so a file's name never
becomes a path.

What a file is comes from its bytes, not its name or the client's content type: a PDF, a PNG,
a JPEG or a WebP image (``sniff``); anything else is refused. The bytes are written before the
row commits: a failed commit leaves an unreferenced file, never a row without its file.

Every store keeps one contract: ``put`` either stores all the bytes or raises; ``get`` returns
them, raises ``FileNotFoundError`` for a key it does not hold, and ``StoreUnavailable`` when
the store cannot be reached or refuses us (nothing was stored or read); a key that is not one
``new_key`` makes is a ``ValueError``."""

import base64
import hashlib
import logging
import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from service.core.settings import Settings, get_settings, project_root

if TYPE_CHECKING:
    from botocore.client import BaseClient

log = logging.getLogger(__name__)

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


def _checked(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise ValueError(f"not an attachment key: {key!r}")
    return key


class StoreUnavailable(Exception):
    """The store could not be reached, or refused us (credentials, permissions, a missing
    bucket, a full disk): nothing was stored or read. The cause is chained."""


class AttachmentStore(Protocol):
    def put(self, key: str, content: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...


class DiskStore:
    """Files in a directory, two levels of fan-out by key; written to a temporary file and
    renamed, so a reader never sees half a file."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / _checked(key)[:2] / key

    def put(self, key: str, content: bytes) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        except OSError as exc:
            raise StoreUnavailable(f"cannot write under {self.root}: {exc}") from exc
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException as exc:
            Path(temporary).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise StoreUnavailable(f"cannot write {path}: {exc}") from exc
            raise

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise StoreUnavailable(f"cannot read {path}: {exc}") from exc


class S3Store:
    """Objects in a bucket of any S3-compatible store, each at ``prefix/key``, with its media
    type and an MD5 the store checks on arrival. No ACL is sent: an object is as private as
    the bucket (public access is the bucket's policy, and buckets with ACLs turned off refuse
    any). Credentials come from boto3's usual chain (environment, shared files, an instance
    or task role), never from FinMatch's settings.

    The client times out and retries a little (a request thread waits at most some seconds on
    a store that is down), and computes checksums only where the API requires them: the
    newer default trailers are refused by some S3-compatible stores."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        addressing_style: str = "auto",
    ) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        config = Config(
            region_name=region or None,
            connect_timeout=5,
            read_timeout=30,
            retries={"max_attempts": 3, "mode": "standard"},
            s3={"addressing_style": addressing_style},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        # A session of its own: boto3's default session is not safe to share between threads,
        # a client is.
        self.client: BaseClient = boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url or None, config=config
        )

    def object_key(self, key: str) -> str:
        _checked(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, content: bytes) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        name = self.object_key(key)
        digest = base64.b64encode(hashlib.md5(content, usedforsecurity=False).digest())
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=name,
                Body=content,
                ContentType=sniff(content) or "application/octet-stream",
                ContentMD5=digest.decode("ascii"),
            )
        except (BotoCoreError, ClientError) as exc:
            raise self._unavailable("put", name, exc) from exc

    def get(self, key: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        name = self.object_key(key)
        try:
            answer: dict[str, Any] = self.client.get_object(Bucket=self.bucket, Key=name)
            content: bytes = answer["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotFoundError(f"no object s3://{self.bucket}/{name}") from exc
            raise self._unavailable("get", name, exc) from exc
        except BotoCoreError as exc:
            raise self._unavailable("get", name, exc) from exc
        return content

    def _unavailable(self, verb: str, name: str, exc: Exception) -> StoreUnavailable:
        log.warning("attachment store: %s s3://%s/%s failed: %s", verb, self.bucket, name, exc)
        return StoreUnavailable(f"{verb} s3://{self.bucket}/{name}: {exc}")


class MemoryStore:
    """Bytes in a dictionary: for tests and trials that keep nothing."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def put(self, key: str, content: bytes) -> None:
        self.files[_checked(key)] = content

    def get(self, key: str) -> bytes:
        try:
            return self.files[_checked(key)]
        except KeyError:
            raise FileNotFoundError(f"no attachment {key}") from None


def configured_store(settings: Settings) -> AttachmentStore:
    """The store the settings choose (``FINMATCH_ATTACHMENT_STORE``)."""
    if settings.attachment_store == "s3":
        return S3Store(
            settings.attachment_s3_bucket,
            settings.attachment_s3_prefix,
            endpoint_url=settings.attachment_s3_endpoint_url,
            region=settings.attachment_s3_region,
            addressing_style=settings.attachment_s3_addressing_style,
        )
    configured = settings.attachment_dir
    return DiskStore(Path(configured) if configured else project_root() / "var" / "attachments")


_store: AttachmentStore | None = None


def get_store() -> AttachmentStore:
    global _store
    if _store is None:
        _store = configured_store(get_settings())
    return _store


def use_store(store: AttachmentStore | None) -> None:
    """Replace the store (tests); None goes back to the configured one."""
    global _store
    _store = store
