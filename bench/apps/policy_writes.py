"""A reference writer for the first run of ``service.policies.jobs`` on PostgreSQL, for
``bench/policy_eval.py``: the engine's result (``jobs.find``'s columns) by binary COPY into a
scratch table on a connection of its own, then one statement writes the entitlements and one
notice each (an INSERT … ON CONFLICT DO NOTHING RETURNING feeding the notices' INSERT): the
least a first run has to do, to set the job's own first run against."""

import psycopg

from service.core.pgcopy import binary_copy
from service.policies.diff import Found


def write_new(dsn: str, found: Found, trigger: str) -> tuple[int, int]:
    """Inserts the found entitlements not stored yet and one notice each; returns how many
    of each were written."""
    with psycopg.connect(dsn) as c:
        c.execute(
            "CREATE TEMP TABLE found (enterprise_id int8, policy int4, version int4, "
            "amount int8) ON COMMIT DROP"
        )
        stream = binary_copy(
            [(found.enterprise, 8), (found.policy, 4), (found.version, 4), (found.amount, 8)]
        )
        with c.cursor().copy("COPY found FROM STDIN (FORMAT BINARY)") as copy:
            for block in stream:
                copy.write(block)
        written = c.execute(
            """
            WITH p AS (
                SELECT n - 1 AS policy, code, period
                FROM unnest(%(codes)s::text[], %(periods)s::text[]) WITH ORDINALITY
                     AS x (code, period, n)
            ), ins AS (
                INSERT INTO policy_entitlement (enterprise_id, policy_code, period,
                                                policy_version, amount_fen, status, found_at,
                                                evaluated_at)
                SELECT f.enterprise_id, p.code, p.period, f.version, f.amount, 'current',
                       now(), now()
                FROM found f JOIN p ON p.policy = f.policy
                ON CONFLICT (enterprise_id, policy_code, period) DO NOTHING
                RETURNING id, enterprise_id, policy_code, period, amount_fen
            ), notices AS (
                INSERT INTO policy_notice (entitlement_id, enterprise_id, policy_code, period,
                                           amount_fen, trigger, created_at)
                SELECT id, enterprise_id, policy_code, period, amount_fen, %(trigger)s, now()
                FROM ins
                ON CONFLICT (entitlement_id) DO NOTHING
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM notices)
            """,
            {"codes": found.codes, "periods": found.periods, "trigger": trigger},
        ).fetchone()
        c.commit()
    assert written is not None
    return written[0], written[1]
