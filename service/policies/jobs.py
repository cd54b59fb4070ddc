"""Re-evaluating entitlements, and what triggers it.

A change to an enterprise's qualifications (a list import giving its first 小巨人 …), its
projects (a key-project list with investment), its loans (one disbursed under a 贴息 scheme)
queues the enterprise for re-evaluation in the change's transaction; a new policy version
queues the whole library; a daily run keeps yearly amounts (interest paid so far) current and
opens a new year's periods. The job evaluates the rules in force over the enterprises' facts
with the batch engine and writes the difference:

- a new entitlement is inserted with a notice to the enterprise, both under unique
  constraints, so that it is told exactly once whatever runs twice or at once;
- one whose amount or version changed is updated (no new notice);
- one the rules no longer find is marked lapsed (kept), unless the office recorded an award
  for it (approved or paid: it is fulfilled, not lapsed); found again, it is current again,
  without a second notice.

Only periods the run evaluates are touched: last year's entitlements stay as they were."""

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import and_, or_, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from service.core.bulk import update_rows
from service.core.models import today_local, utcnow
from service.enterprises.models import Enterprise
from service.jobs.service import enqueue, enqueue_many
from service.leads.bank_events import publish_to_district
from service.leads.queries import districts_subscribed
from service.policies import store
from service.policies.batch import evaluate_policy_all
from service.policies.models import (
    Entitlement,
    EntitlementStatus,
    GrantStatus,
    PolicyGrant,
    PolicyNotice,
)

# Job kinds: which change queued the enterprise (kept on the notice as its trigger).
TRIGGERS = {
    "policies.qualification": "qualification",
    "policies.project": "project",
    "policies.loan": "loan",
    "policies.grant": "grant",
}
EVALUATE_ALL = "policies.all"  # a new policy version, the daily run
DAILY = "policies.daily"
BATCH = 500  # enterprises per job run
ALL_ABOVE = 20_000  # a change touching more enterprises re-evaluates the library at once
_CHUNK = 2_000


def queue(session: Session, kind: str, enterprise_ids: Sequence[int]) -> None:
    ids = sorted({int(i) for i in enterprise_ids})
    if len(ids) > ALL_ABOVE:
        enqueue(session, EVALUATE_ALL, {"trigger": TRIGGERS[kind]}, key="all")
    else:
        enqueue_many(session, kind, [str(i) for i in ids], "enterprise_id")


def on_enterprise_changed(session: Session, enterprise_id: int, **_: Any) -> None:
    queue(session, "policies.qualification", [enterprise_id])


def on_enterprises_changed(session: Session, enterprise_ids: list[int], **_: Any) -> None:
    queue(session, "policies.qualification", enterprise_ids)


def on_projects_changed(session: Session, enterprise_ids: list[int], **_: Any) -> None:
    queue(session, "policies.project", enterprise_ids)


def on_loans_changed(session: Session, enterprise_ids: list[int], **_: Any) -> None:
    queue(session, "policies.loan", enterprise_ids)


def on_version_added(session: Session, policy_code: str) -> None:
    enqueue(session, EVALUATE_ALL, {"trigger": "policy"}, key="all")


def handler_for(kind: str) -> Any:
    trigger = TRIGGERS[kind]

    def run(session: Session, payloads: list[dict[str, Any]]) -> dict[str, Any]:
        ids = sorted({int(p["enterprise_id"]) for p in payloads})
        return reevaluate(session, ids, trigger=trigger)

    return run


def run_all(session: Session, trigger: str = "policy") -> dict[str, Any]:
    return reevaluate(session, None, trigger=trigger)


def run_daily(session: Session) -> dict[str, Any]:
    return reevaluate(session, None, trigger="daily")


def reevaluate(
    session: Session,
    enterprise_ids: Sequence[int] | None,
    trigger: str,
    as_of: date | None = None,
) -> dict[str, Any]:
    """Evaluate every rule in force over these enterprises (None: the library) and write the
    difference; returns counts. Does not commit."""
    on = as_of or today_local()
    rules = store.rules_in_force(session, on)
    columns = store.read_columns(session, enterprise_ids)
    found: dict[tuple[int, str, str], tuple[int, int]] = {}
    periods: dict[str, str] = {}
    for policy in rules:
        result = evaluate_policy_all(policy.rules, columns, on)
        code = policy.policy.code
        periods[code] = result.period
        ids = columns.enterprise_ids[result.rows]
        for eid, amount in zip(ids.tolist(), result.amounts.tolist(), strict=True):
            found[(eid, code, result.period)] = (policy.in_force.version, amount)
    return _write(session, enterprise_ids, periods, found, trigger)


# One stored entitlement as the diff reads it: id, status, amount, version (no ORM objects:
# a library-wide run reads a million of them).
Stored = tuple[int, str, int, int]


def _existing(
    session: Session, enterprise_ids: Sequence[int] | None, periods: dict[str, str]
) -> dict[tuple[int, str, str], Stored]:
    if not periods:
        return {}
    in_periods = or_(
        *(
            and_(col(Entitlement.policy_code) == code, col(Entitlement.period) == period)
            for code, period in periods.items()
        )
    )
    query = select(
        col(Entitlement.enterprise_id),
        col(Entitlement.policy_code),
        col(Entitlement.period),
        col(Entitlement.id),
        col(Entitlement.status),
        col(Entitlement.amount_fen),
        col(Entitlement.policy_version),
    ).where(in_periods)
    if enterprise_ids is None:
        chunks = [query]
    else:
        ids = sorted(set(enterprise_ids))
        chunks = [
            query.where(col(Entitlement.enterprise_id).in_(ids[i : i + _CHUNK]))
            for i in range(0, len(ids), _CHUNK)
        ]
    out: dict[tuple[int, str, str], Stored] = {}
    for chunk in chunks:
        for e, c, p, i, status, amount, version in session.execute(chunk):
            out[(e, c, p)] = (i, status, amount, version)
    return out


def _awarded(session: Session, keys: list[tuple[int, str, str]]) -> set[tuple[int, str, str]]:
    """Of these (enterprise, policy, period), those with an award approved or paid."""
    out: set[tuple[int, str, str]] = set()
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        rows = session.execute(
            select(
                col(PolicyGrant.enterprise_id),
                col(PolicyGrant.policy_code),
                col(PolicyGrant.period),
            ).where(
                tuple_(
                    col(PolicyGrant.enterprise_id),
                    col(PolicyGrant.policy_code),
                    col(PolicyGrant.period),
                ).in_(chunk),
                col(PolicyGrant.status).in_([GrantStatus.approved, GrantStatus.paid]),
            )
        )
        out |= {(e, c, p) for e, c, p in rows}
    return out


def _insert(session: Session) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def _write(
    session: Session,
    enterprise_ids: Sequence[int] | None,
    periods: dict[str, str],
    found: dict[tuple[int, str, str], tuple[int, int]],
    trigger: str,
) -> dict[str, Any]:
    now = utcnow()
    existing = _existing(session, enterprise_ids, periods)
    new = [key for key in found if key not in existing]
    updates = []
    revived = 0
    for key, (row_id, status, amount_fen, policy_version) in existing.items():
        if key not in found:
            continue
        version, amount = found[key]
        if status == EntitlementStatus.lapsed:
            revived += 1
        elif amount_fen == amount and policy_version == version:
            continue
        updates.append(
            {
                "id": row_id,
                "amount_fen": amount,
                "policy_version": version,
                "status": EntitlementStatus.current.value,
                "lapsed_at": None,
                "evaluated_at": now,
            }
        )
    update_rows(session, Entitlement.__table__, updates)  # type: ignore[attr-defined]
    gone = [
        key
        for key, row in existing.items()
        if key not in found and row[1] == EntitlementStatus.current
    ]
    fulfilled = _awarded(session, gone) if gone else set()
    lapse_ids = [existing[key][0] for key in gone if key not in fulfilled]
    for start in range(0, len(lapse_ids), _CHUNK):
        session.execute(
            update(Entitlement)
            .where(
                col(Entitlement.id).in_(lapse_ids[start : start + _CHUNK]),
                col(Entitlement.status) == EntitlementStatus.current,
            )
            .values(status=EntitlementStatus.lapsed, lapsed_at=now, evaluated_at=now)
        )
    notices = _add(session, new, found, trigger, now) if new else 0
    return {
        "trigger": trigger,
        "enterprises": "all" if enterprise_ids is None else len(set(enterprise_ids)),
        "policies": len(periods),
        "entitled": len(found),
        "new": len(new),
        "notified": notices,
        "changed": len(updates) - revived,
        "revived": revived,
        "lapsed": len(lapse_ids),
    }


def _tell_districts(session: Session, notices: Sequence[Any]) -> None:
    """A ``policy.entitled`` event for each notice whose enterprise's district office has an
    endpoint (thin: ids, the policy and the amount); the webhook outbox sends it."""
    districts = districts_subscribed(session)
    if not notices or not districts:
        return
    ids = sorted({n[1] for n in notices})
    rows = session.execute(
        select(col(Enterprise.id), col(Enterprise.district_code)).where(col(Enterprise.id).in_(ids))
    )
    where = {enterprise_id: district for enterprise_id, district in rows}
    for notice_id, enterprise_id, code, period, amount in notices:
        district = where.get(enterprise_id)
        if district in districts:
            publish_to_district(
                session,
                district,
                "policy.entitled",
                {
                    "notice_id": notice_id,
                    "enterprise_id": enterprise_id,
                    "policy_code": code,
                    "period": period,
                    "amount_fen": amount,
                },
            )


def _add(
    session: Session,
    new: list[tuple[int, str, str]],
    found: dict[tuple[int, str, str], tuple[int, int]],
    trigger: str,
    now: Any,
) -> int:
    """Insert the new entitlements and one notice each; a row another runner wrote first is
    left alone (and so is its notice). Returns how many notices were written."""
    if session.get_bind().dialect.name == "postgresql":
        return _add_copied(session, new, found, trigger, now)
    insert = _insert(session)
    notified = 0
    for start in range(0, len(new), _CHUNK):
        chunk = new[start : start + _CHUNK]
        session.execute(
            insert(Entitlement)
            .values(
                [
                    {
                        "enterprise_id": e,
                        "policy_code": c,
                        "period": p,
                        "policy_version": found[(e, c, p)][0],
                        "amount_fen": found[(e, c, p)][1],
                        "status": EntitlementStatus.current,
                        "found_at": now,
                        "evaluated_at": now,
                    }
                    for e, c, p in chunk
                ]
            )
            .on_conflict_do_nothing(index_elements=["enterprise_id", "policy_code", "period"])
        )
        rows = session.execute(
            select(
                col(Entitlement.id),
                col(Entitlement.enterprise_id),
                col(Entitlement.policy_code),
                col(Entitlement.period),
                col(Entitlement.amount_fen),
            ).where(
                tuple_(
                    col(Entitlement.enterprise_id),
                    col(Entitlement.policy_code),
                    col(Entitlement.period),
                ).in_(chunk)
            )
        ).all()
        if not rows:
            continue
        result = session.execute(
            insert(PolicyNotice)
            .values(
                [
                    {
                        "entitlement_id": i,
                        "enterprise_id": e,
                        "policy_code": c,
                        "period": p,
                        "amount_fen": a,
                        "trigger": trigger,
                        "created_at": now,
                    }
                    for i, e, c, p, a in rows
                ]
            )
            .on_conflict_do_nothing(index_elements=["entitlement_id"])
            .returning(  # only the rows written here
                col(PolicyNotice.id),
                col(PolicyNotice.enterprise_id),
                col(PolicyNotice.policy_code),
                col(PolicyNotice.period),
                col(PolicyNotice.amount_fen),
            )
        )
        written = result.all()
        notified += len(written)
        _tell_districts(session, written)
    return notified


_NEW_SQL = """
WITH new AS (
    INSERT INTO policy_entitlement
        (enterprise_id, policy_code, period, policy_version, amount_fen, status, found_at,
         evaluated_at)
    SELECT enterprise_id, policy_code, period, policy_version, amount_fen, 'current', :now, :now
    FROM _policy_new
    ON CONFLICT (enterprise_id, policy_code, period) DO NOTHING
    RETURNING id, enterprise_id, policy_code, period, amount_fen
)
INSERT INTO policy_notice
    (entitlement_id, enterprise_id, policy_code, period, amount_fen, trigger, created_at)
SELECT id, enterprise_id, policy_code, period, amount_fen, :trigger, :now FROM new
ON CONFLICT (entitlement_id) DO NOTHING
RETURNING id, enterprise_id, policy_code, period, amount_fen
"""


def _add_copied(
    session: Session,
    new: list[tuple[int, str, str]],
    found: dict[tuple[int, str, str], tuple[int, int]],
    trigger: str,
    now: Any,
) -> int:
    """PostgreSQL: the new rows by COPY into a scratch table, then one statement writes the
    entitlements (those another runner wrote first are skipped) and a notice for each one
    written here. A library's first run writes a million of them."""
    connection = session.connection()
    connection.exec_driver_sql(
        "CREATE TEMPORARY TABLE IF NOT EXISTS _policy_new (enterprise_id integer, "
        "policy_code varchar(40), period varchar(8), policy_version integer, amount_fen bigint) "
        "ON COMMIT DROP"
    )
    connection.exec_driver_sql("TRUNCATE _policy_new")
    driver = connection.connection.driver_connection
    assert driver is not None
    with (
        driver.cursor() as cursor,
        cursor.copy(
            "COPY _policy_new (enterprise_id, policy_code, period, policy_version, amount_fen) "
            "FROM STDIN"
        ) as copy,
    ):
        for key in new:
            version, amount = found[key]
            copy.write_row((*key, version, amount))
    written = session.execute(text(_NEW_SQL), {"now": now, "trigger": trigger}).all()
    _tell_districts(session, written)
    return len(written)
