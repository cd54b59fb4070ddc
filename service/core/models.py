"""What every table shares: the metadata naming convention, UTC timestamps, JSON columns."""

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, MetaData, TypeDecorator
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import SQLModel

# Before any model is imported: deterministic constraint names, so Alembic revisions can
# name what they drop on both SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata

JSONType = JSON().with_variant(JSONB(), "postgresql")
# A list of ids: an integer array on PostgreSQL (GIN-indexable, `@>`), a JSON array on SQLite.
IdList = JSON().with_variant(ARRAY(Integer()), "postgresql")
# 64-bit keys for the big tables; SQLite only auto-assigns an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on both backends (SQLite stores no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC timestamp column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def today_local() -> date:
    """Today's business date in Asia/Shanghai."""
    from zoneinfo import ZoneInfo

    from service.core.settings import get_settings

    return datetime.now(ZoneInfo(get_settings().timezone)).date()


def refuse_future(day: date, consequence: str, field: str = "as_of") -> None:
    """A run "as of" a business date after today would do for real, now, what is only due
    later (``consequence``): refused (422 ``future_as_of`` naming the field), so that only a
    simulation, which writes nothing, looks ahead."""
    from service.core.errors import Unprocessable

    today = today_local()
    if day > today:
        raise Unprocessable(
            f"{field} {day.isoformat()} 晚于今天（{today.isoformat()}，北京时间）：按未来的日期"
            f"运行会现在就{consequence}。如只想看看会发生什么，请模拟运行（API 加 simulate=true，"
            "命令行加 --simulate），什么都不会写入。",
            code="future_as_of",
            field=field,
            today=today.isoformat(),
        )


def row_dict(row: Any) -> dict[str, Any]:
    """A table row's column values (without serialising through the table model)."""
    return {column.key: getattr(row, column.key) for column in row.__table__.columns}


def refuse_nulls(table: type[SQLModel], changes: dict[str, Any]) -> None:
    """A change that sends null for a column that cannot be empty is refused (422
    ``missing_field`` naming it) before it reaches the database, whichever field it is."""
    from service.core.errors import Unprocessable

    columns = table.__table__.columns  # type: ignore[attr-defined]
    for field, value in changes.items():
        column = columns.get(field)
        if value is None and column is not None and not column.nullable:
            raise Unprocessable(f"{field} 不能为空。", code="missing_field", field=field)
