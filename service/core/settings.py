"""Settings from the environment (and an optional .env file)."""

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE_PATH = Path("var") / "finmatch.db"
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_REGION = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_SQLITE_PATH}",
        validation_alias="DATABASE_URL",
        description="SQLAlchemy URL; SQLite file under var/ by default, "
        "postgresql+psycopg://user@host/db in production.",
    )
    db_pool_size: int = Field(default=32, ge=1, le=200, validation_alias="FINMATCH_DB_POOL_SIZE")
    db_max_overflow: int = Field(
        default=8, ge=0, le=200, validation_alias="FINMATCH_DB_MAX_OVERFLOW"
    )
    db_pre_ping: bool = Field(default=True, validation_alias="FINMATCH_DB_PRE_PING")
    request_threads: int = Field(
        default=40,
        ge=1,
        le=200,
        validation_alias="FINMATCH_REQUEST_THREADS",
        description="Worker threads per process for the synchronous part of requests.",
    )
    sql_echo: bool = Field(default=False, validation_alias="FINMATCH_SQL_ECHO")
    page_limit_default: int = Field(default=50, validation_alias="FINMATCH_PAGE_LIMIT_DEFAULT")
    page_limit_max: int = Field(default=200, validation_alias="FINMATCH_PAGE_LIMIT_MAX")
    name_search_min_score: int = Field(
        default=60, validation_alias="FINMATCH_NAME_SEARCH_MIN_SCORE"
    )
    timezone: str = Field(default="Asia/Shanghai", validation_alias="FINMATCH_TIMEZONE")
    jobs_inline: bool = Field(
        default=True,
        validation_alias="FINMATCH_JOBS_INLINE",
        description="The API process also runs the jobs a request queued, after answering it; "
        "turn off when `finmatch worker` processes run them.",
    )
    sla_contact_working_days: int = Field(
        default=3,
        ge=1,
        le=30,
        validation_alias="FINMATCH_SLA_CONTACT_WORKING_DAYS",
        description="A bank should first contact a lead within this many working days.",
    )
    sla_reassign: bool = Field(
        default=False,
        validation_alias="FINMATCH_SLA_REASSIGN",
        description="Offer a lead nobody touched by its deadline to the next-best bank.",
    )
    reminder_stages: str = Field(
        default="30,15,7",
        validation_alias="FINMATCH_REMINDER_STAGES",
        description="Days before maturity at which a loan's renewal reminders go out, the "
        "first at least 30 (a month); checked when the app or worker starts.",
    )
    service_area: str = Field(
        default="3202",
        validation_alias="FINMATCH_SERVICE_AREA",
        description="Area-code prefixes (GB/T 2260, comma-separated) of the enterprises the "
        "service serves, by the place of registration in their credit code; 3202 is Wuxi "
        "(江阴 and 宜兴 included). Outside it nothing is recommended and no lead is made.",
    )

    @field_validator("service_area")
    @classmethod
    def _area_prefixes(cls, value: str) -> str:
        # Checked when the settings are read (at start), not on the first recommendation.
        for part in (p.strip() for p in value.split(",")):
            if part and not (part.isascii() and part.isdigit() and 1 <= len(part) <= 6):
                raise ValueError(
                    f"FINMATCH_SERVICE_AREA: '{part}' is not an area-code prefix (1–6 digits, "
                    "e.g. 3202 for Wuxi; comma-separated; empty serves every enterprise)"
                )
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxy_addresses(cls, value: str) -> str:
        import ipaddress

        for part in (p.strip() for p in value.split(",")):
            if not part or part == "*":
                continue
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(
                    f"FINMATCH_FORWARDED_ALLOW_IPS: '{part}' is not an address or network "
                    "(e.g. 10.0.0.5 or 10.0.0.0/24; comma-separated; * trusts any)"
                ) from None
        return value

    @field_validator("attachment_s3_bucket")
    @classmethod
    def _bucket_name(cls, value: str) -> str:
        if value and not _BUCKET.fullmatch(value):
            raise ValueError(
                f"FINMATCH_ATTACHMENT_S3_BUCKET: '{value}' is not a bucket name (3–63 "
                "lowercase letters, digits, dots and hyphens, starting and ending with a "
                "letter or digit)"
            )
        return value

    @field_validator("attachment_s3_endpoint_url")
    @classmethod
    def _endpoint_url(cls, value: str) -> str:
        from urllib.parse import urlsplit

        if not value:
            return value
        try:
            parts = urlsplit(value)
            address = parts.hostname if parts.scheme in ("http", "https") else None
            parts.port  # noqa: B018  (raises on a port that is not a number)
        except ValueError:
            address = None
        if not address:
            raise ValueError(
                f"FINMATCH_ATTACHMENT_S3_ENDPOINT_URL: '{value}' is not an http(s) address "
                "(e.g. http://minio:9000 or https://oss-cn-shanghai.aliyuncs.com)"
            )
        return value

    @field_validator("attachment_s3_region")
    @classmethod
    def _region(cls, value: str) -> str:
        if value and not _REGION.fullmatch(value):
            raise ValueError(
                f"FINMATCH_ATTACHMENT_S3_REGION: '{value}' is not a region name (lowercase "
                "letters, digits and hyphens, e.g. cn-north-1 or oss-cn-shanghai)"
            )
        return value

    @field_validator("attachment_s3_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        prefix = value.strip().strip("/")
        parts = prefix.split("/") if prefix else []
        if any(p in ("", ".", "..") or not p.isprintable() for p in parts):
            raise ValueError(
                f"FINMATCH_ATTACHMENT_S3_PREFIX: '{value}' is not a folder in a bucket "
                "(names separated by single slashes, no '.' or '..', e.g. finmatch/attachments)"
            )
        return prefix

    @model_validator(mode="after")
    def _store_complete(self) -> "Settings":
        # Checked when the settings are read (at start), not on the first upload.
        if self.attachment_store == "s3" and not self.attachment_s3_bucket:
            raise ValueError(
                "FINMATCH_ATTACHMENT_STORE=s3 needs FINMATCH_ATTACHMENT_S3_BUCKET, the bucket "
                "that keeps the attachments (with FINMATCH_ATTACHMENT_S3_ENDPOINT_URL for a "
                "store other than AWS; credentials come from the AWS environment or "
                "credential files)"
            )
        return self

    @property
    def service_area_prefixes(self) -> tuple[str, ...]:
        return tuple(p.strip() for p in self.service_area.split(",") if p.strip())

    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        validation_alias="FINMATCH_MAX_BODY_BYTES",
        description="Largest JSON or form body a request may send; a larger one is a 413 "
        "before it is read.",
    )
    max_upload_bytes: int = Field(
        default=32 * 1024 * 1024,
        ge=1024,
        validation_alias="FINMATCH_MAX_UPLOAD_BYTES",
        description="Largest request that uploads a file (loan, list and library imports).",
    )
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        validation_alias="FINMATCH_FORWARDED_ALLOW_IPS",
        description="Addresses or networks (comma-separated; * for any) of the reverse proxies "
        "whose X-Forwarded-For / X-Forwarded-Proto headers are believed: behind a TLS proxy "
        "on another host, name it here so that the pages know they are served over https "
        "(and mark their session cookie Secure).",
    )

    webhook_allow_http: bool = Field(
        default=False,
        validation_alias="FINMATCH_WEBHOOK_ALLOW_HTTP",
        description="Accept plain http:// webhook URLs (trials on one machine only; in "
        "production webhooks go over https).",
    )
    webhook_allow_private: bool = Field(
        default=False,
        validation_alias="FINMATCH_WEBHOOK_ALLOW_PRIVATE",
        description="Accept webhook URLs on this machine or a private network (loopback, "
        "10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7), for trials only; link-local, "
        "multicast and reserved addresses stay refused.",
    )

    attachment_store: Literal["disk", "s3"] = Field(
        default="disk",
        validation_alias="FINMATCH_ATTACHMENT_STORE",
        description="Where the files attached to requests (诉求) are kept: `disk` (a "
        "directory, FINMATCH_ATTACHMENT_DIR) or `s3` (a bucket of an S3-compatible object "
        "store, FINMATCH_ATTACHMENT_S3_*; credentials from the AWS environment variables, "
        "shared credential files or an instance role, never from these settings).",
    )
    attachment_dir: str = Field(
        default="",
        validation_alias="FINMATCH_ATTACHMENT_DIR",
        description="Directory that keeps the files attached to requests (诉求); empty: "
        "var/attachments under the FinMatch directory.",
    )
    attachment_s3_bucket: str = Field(
        default="",
        validation_alias="FINMATCH_ATTACHMENT_S3_BUCKET",
        description="The bucket that keeps the attachments; needed when the store is s3.",
    )
    attachment_s3_endpoint_url: str = Field(
        default="",
        validation_alias="FINMATCH_ATTACHMENT_S3_ENDPOINT_URL",
        description="The S3 API's address for a store other than AWS (MinIO: "
        "http://minio:9000; Aliyun OSS: https://oss-cn-shanghai.aliyuncs.com); empty: AWS.",
    )
    attachment_s3_region: str = Field(
        default="",
        validation_alias="FINMATCH_ATTACHMENT_S3_REGION",
        description="The bucket's region (cn-north-1, oss-cn-shanghai …); empty: AWS_REGION "
        "or the AWS config file.",
    )
    attachment_s3_prefix: str = Field(
        default="attachments",
        validation_alias="FINMATCH_ATTACHMENT_S3_PREFIX",
        description="The folder in the bucket that holds the attachments (objects are "
        "PREFIX/KEY); empty: the bucket's top.",
    )
    attachment_s3_addressing_style: Literal["auto", "path", "virtual"] = Field(
        default="auto",
        validation_alias="FINMATCH_ATTACHMENT_S3_ADDRESSING_STYLE",
        description="How the bucket is named in requests: `path` (ENDPOINT/BUCKET, what "
        "MinIO usually needs), `virtual` (BUCKET.ENDPOINT, what Aliyun OSS needs) or `auto` "
        "(boto3 decides).",
    )
    attachment_max_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        le=32 * 1024 * 1024,
        validation_alias="FINMATCH_ATTACHMENT_MAX_BYTES",
        description="Largest file attached to a request (a PDF or an image).",
    )

    job_lease_seconds: int = Field(default=900, validation_alias="FINMATCH_JOB_LEASE_SECONDS")
    job_max_attempts: int = Field(default=5, validation_alias="FINMATCH_JOB_MAX_ATTEMPTS")


@lru_cache
def get_settings() -> Settings:
    return Settings()


def project_root() -> Path:
    """Where alembic.ini, migrations/ and seed/ live: FINMATCH_HOME, the source checkout, or
    the working directory (the container's /app)."""
    import os

    candidates = [os.environ.get("FINMATCH_HOME"), Path(__file__).resolve().parents[2], Path.cwd()]
    for candidate in candidates:
        if candidate and (Path(candidate) / "alembic.ini").is_file():
            return Path(candidate)
    raise RuntimeError("alembic.ini not found: set FINMATCH_HOME to the FinMatch directory")
