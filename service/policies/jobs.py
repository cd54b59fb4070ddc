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

import numpy as np
from sqlalchemy import select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from service.core import pgcopy
from service.core.bulk import update_rows
from service.core.models import today_local, utcnow
from service.enterprises.models import Enterprise
from service.jobs.service import enqueue, enqueue_many
from service.leads.bank_events import publish_to_district
from service.leads.queries import districts_subscribed
from service.policies import store
from service.policies.batch import Columns, evaluate_policy_all
from service.policies.diff import Found, difference
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
    return write(session, enterprise_ids, find(rules, columns, on), trigger)


def find(rules: Sequence[store.PolicyRules], columns: Columns, on: date) -> Found:
    """Who is entitled to what under each policy, as columns."""
    codes, periods = [], []
    enterprise, policy, version, amount = [], [], [], []
    for i, rule in enumerate(rules):
        result = evaluate_policy_all(rule.rules, columns, on)
        n = len(result.rows)
        codes.append(rule.policy.code)
        periods.append(result.period)
        enterprise.append(columns.enterprise_ids[result.rows])
        policy.append(np.full(n, i, dtype=np.int32))
        version.append(np.full(n, rule.in_force.version, dtype=np.int32))
        amount.append(result.amounts)

    def joined(parts: list[np.ndarray], dtype: type) -> np.ndarray:
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

    return Found(
        codes=codes,
        periods=periods,
        enterprise=joined(enterprise, np.int64),
        policy=joined(policy, np.int32),
        version=joined(version, np.int32),
        amount=joined(amount, np.int64),
    )


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


def write(
    session: Session,
    enterprise_ids: Sequence[int] | None,
    found: Found,
    trigger: str,
) -> dict[str, Any]:
    """Write the difference between ``found`` and the stored entitlements of its policies'
    periods (of these enterprises; None: all); returns counts."""
    now = utcnow()
    stored = store.read_entitlements(session, enterprise_ids, found.codes, found.periods)
    d = difference(found, stored)
    updates = [
        {
            "id": row_id,
            "amount_fen": amount,
            "policy_version": version,
            "status": EntitlementStatus.current.value,
            "lapsed_at": None,
            "evaluated_at": now,
        }
        for row_id, amount, version in zip(
            stored.id[d.changed_stored].tolist(),
            found.amount[d.changed].tolist(),
            found.version[d.changed].tolist(),
            strict=True,
        )
    ]
    update_rows(session, Entitlement.__table__, updates)  # type: ignore[attr-defined]
    gone = [
        (e, found.codes[p], found.periods[p])
        for e, p in zip(
            stored.enterprise[d.gone].tolist(), stored.policy[d.gone].tolist(), strict=True
        )
    ]
    fulfilled = _awarded(session, gone) if gone else set()
    lapse_ids = [
        row_id
        for key, row_id in zip(gone, stored.id[d.gone].tolist(), strict=True)
        if key not in fulfilled
    ]
    for start in range(0, len(lapse_ids), _CHUNK):
        session.execute(
            update(Entitlement)
            .where(
                col(Entitlement.id).in_(lapse_ids[start : start + _CHUNK]),
                col(Entitlement.status) == EntitlementStatus.current,
            )
            .values(status=EntitlementStatus.lapsed, lapsed_at=now, evaluated_at=now)
        )
    notices = _add(session, found, d.new, trigger, now) if len(d.new) else 0
    return {
        "trigger": trigger,
        "enterprises": "all" if enterprise_ids is None else len(set(enterprise_ids)),
        "policies": len(found.codes),
        "entitled": len(found),
        "new": len(d.new),
        "notified": notices,
        "changed": len(updates) - d.revived,
        "revived": d.revived,
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


def _add(session: Session, found: Found, new: np.ndarray, trigger: str, now: Any) -> int:
    """Insert the new entitlements (``new``: their places in ``found``) and one notice each; a
    row another runner wrote first is left alone (and so is its notice). Returns how many
    notices were written."""
    if session.get_bind().dialect.name == "postgresql":
        return _add_copied(session, found, new, trigger, now)
    insert = _insert(session)
    notified = 0
    for start in range(0, len(new), _CHUNK):
        at = new[start : start + _CHUNK]
        chunk = [
            (e, found.codes[p], found.periods[p], v, a)
            for e, p, v, a in zip(
                found.enterprise[at].tolist(),
                found.policy[at].tolist(),
                found.version[at].tolist(),
                found.amount[at].tolist(),
                strict=True,
            )
        ]
        session.execute(
            insert(Entitlement)
            .values(
                [
                    {
                        "enterprise_id": e,
                        "policy_code": c,
                        "period": p,
                        "policy_version": v,
                        "amount_fen": a,
                        "status": EntitlementStatus.current,
                        "found_at": now,
                        "evaluated_at": now,
                    }
                    for e, c, p, v, a in chunk
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
                ).in_([(e, c, p) for e, c, p, *_ in chunk])
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
WITH policies AS (
    SELECT n - 1 AS policy, code, period
    FROM unnest(CAST(:codes AS text[]), CAST(:periods AS text[])) WITH ORDINALITY
         AS p (code, period, n)
), new AS (
    INSERT INTO policy_entitlement
        (enterprise_id, policy_code, period, policy_version, amount_fen, status, found_at,
         evaluated_at)
    SELECT f.enterprise_id, p.code, p.period, f.policy_version, f.amount_fen, 'current',
           :now, :now
    FROM _policy_found f JOIN policies p ON p.policy = f.policy
    ON CONFLICT (enterprise_id, policy_code, period) DO NOTHING
    RETURNING id, enterprise_id, policy_code, period, amount_fen
)
INSERT INTO policy_notice
    (entitlement_id, enterprise_id, policy_code, period, amount_fen, trigger, created_at)
SELECT id, enterprise_id, policy_code, period, amount_fen, :trigger, :now FROM new
ON CONFLICT (entitlement_id) DO NOTHING
RETURNING id, enterprise_id, policy_code, period, amount_fen
"""


def _add_copied(session: Session, found: Found, new: np.ndarray, trigger: str, now: Any) -> int:
    """PostgreSQL: the new rows by binary COPY into a scratch table, then one statement writes
    the entitlements (those another runner wrote first are skipped) and a notice for each one
    written here. A library's first run writes a million of them."""
    connection = session.connection()
    connection.exec_driver_sql(
        "CREATE TEMPORARY TABLE IF NOT EXISTS _policy_found (enterprise_id int8, policy int4, "
        "policy_version int4, amount_fen int8) ON COMMIT DROP"
    )
    connection.exec_driver_sql("TRUNCATE _policy_found")
    driver = connection.connection.driver_connection
    assert driver is not None
    stream = pgcopy.binary_copy(
        [
            (found.enterprise[new], 8),
            (found.policy[new], 4),
            (found.version[new], 4),
            (found.amount[new], 8),
        ]
    )
    with (
        driver.cursor() as cursor,
        cursor.copy("COPY _policy_found FROM STDIN (FORMAT BINARY)") as copy,
    ):
        for block in stream:
            copy.write(block)
    written = session.execute(
        text(_NEW_SQL),
        {"now": now, "trigger": trigger, "codes": found.codes, "periods": found.periods},
    ).all()
    _tell_districts(session, written)
    return len(written)
