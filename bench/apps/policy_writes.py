"""A reference writer for the first run of ``service.policies.jobs`` on PostgreSQL, for
``bench/policy_eval.py``: the engine's result (``jobs.find``'s columns) by binary COPY into a
scratch table on a connection of its own, then one statement writes the entitlements and one
notice each (an INSERT … ON CONFLICT DO NOTHING RETURNING feeding the notices' INSERT): the
least a first run has to do, to set the job's own first run against."""

import numpy as np
import psycopg

from service.policies.diff import Found

_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
_FOUND = np.dtype(
    [
        ("count", ">i2"),
        ("e_size", ">i4"),
        ("e", ">i8"),
        ("p_size", ">i4"),
        ("p", ">i4"),
        ("v_size", ">i4"),
        ("v", ">i4"),
        ("a_size", ">i4"),
        ("a", ">i8"),
    ]
)


def write_new(dsn: str, found: Found, trigger: str) -> tuple[int, int]:
    """Inserts the found entitlements not stored yet and one notice each; returns how many
    of each were written."""
    rows = np.zeros(len(found), dtype=_FOUND)
    rows["count"] = 4
    rows["e_size"], rows["p_size"], rows["v_size"], rows["a_size"] = 8, 4, 4, 8
    rows["e"], rows["p"] = found.enterprise, found.policy
    rows["v"], rows["a"] = found.version, found.amount
    with psycopg.connect(dsn) as c:
        c.execute(
            "CREATE TEMP TABLE found (enterprise_id int8, policy int4, version int4, "
            "amount int8) ON COMMIT DROP"
        )
        with c.cursor().copy("COPY found FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(_HEADER + rows.tobytes() + b"\xff\xff")
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
