"""Prototypes of set-based writes for ``service.policies.jobs`` on PostgreSQL, for
``bench/policy_eval.py``: the engine's result as a few numpy columns (enterprise id, policy,
version, amount), moved with binary COPY both ways, never as objects per row.

- ``write_new``: the entitlements of a first run and one notice each, in one statement after
  the COPY (an INSERT … ON CONFLICT DO NOTHING RETURNING feeding the notices' INSERT), as
  ``jobs._add`` writes them;
- ``diff``: the stored entitlements of the evaluated periods read by binary COPY and compared
  with the result by sorted keys in numpy: how many are new, changed (amount or version, or
  lapsed and found again) and gone, as ``jobs._write`` finds them (nothing is written: the
  steady run's difference is empty)."""

from typing import Any

import numpy as np
import psycopg
from copy_columns import _copy

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


def found_arrays(policies: list, columns: Any, results: dict) -> dict[str, Any]:
    """The result as columns: enterprise id, policy (its place in ``codes``), version,
    amount; with the codes and their periods."""
    codes = [p.policy.code for p in policies]
    parts = [
        (
            columns.enterprise_ids[results[code].rows],
            np.full(len(results[code].rows), i, dtype=np.int32),
            np.full(len(results[code].rows), p.in_force.version, dtype=np.int32),
            results[code].amounts,
        )
        for i, (code, p) in enumerate(zip(codes, policies, strict=True))
    ]
    e, p, v, a = (np.concatenate([part[k] for part in parts]) for k in range(4))
    return {
        "codes": codes,
        "periods": [results[c].period for c in codes],
        "e": e.astype(np.int64),
        "p": p,
        "v": v,
        "a": a.astype(np.int64),
    }


def write_new(dsn: str, found: dict[str, Any], trigger: str) -> tuple[int, int]:
    """Inserts the found entitlements not stored yet and one notice each; returns how many
    of each were written."""
    rows = np.zeros(len(found["e"]), dtype=_FOUND)
    rows["count"] = 4
    rows["e_size"], rows["p_size"], rows["v_size"], rows["a_size"] = 8, 4, 4, 8
    rows["e"], rows["p"], rows["v"], rows["a"] = found["e"], found["p"], found["v"], found["a"]
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
            {"codes": found["codes"], "periods": found["periods"], "trigger": trigger},
        ).fetchone()
        c.commit()
    assert written is not None
    return written[0], written[1]


def diff(dsn: str, found: dict[str, Any]) -> dict[str, int]:
    """What ``jobs._write`` would find for the whole library: new, changed, gone."""
    codes, periods = found["codes"], found["periods"]
    pairs = ", ".join(
        f"('{c}', '{p}', {i})" for i, (c, p) in enumerate(zip(codes, periods, strict=True))
    )
    with psycopg.connect(dsn) as c:
        stored = _copy(
            c,
            "SELECT e.enterprise_id::int8, x.i::int4, e.policy_version::int4, "
            "e.amount_fen::int8, e.status = 'current' FROM policy_entitlement e "
            f"JOIN (VALUES {pairs}) AS x (code, period, i) "
            "ON x.code = e.policy_code AND x.period = e.period",
            [("e", ">i8"), ("p", ">i4"), ("v", ">i4"), ("a", ">i8"), ("current", "?")],
        )
    width = len(codes)
    have = stored["e"].astype(np.int64) * width + stored["p"].astype(np.int64)
    want = found["e"] * width + found["p"].astype(np.int64)
    order = np.argsort(have, kind="stable")
    have = have[order]
    at = np.searchsorted(have, want)
    at_ok = np.minimum(at, max(len(have) - 1, 0))
    hit = (at < len(have)) & (have[at_ok] == want) if len(have) else np.zeros(len(want), bool)
    matched = order[at_ok[hit]]
    same = (
        (stored["a"][matched].astype(np.int64) == found["a"][hit])
        & (stored["v"][matched].astype(np.int64) == found["v"][hit])
        & stored["current"][matched]
    )
    kept = np.zeros(len(stored), dtype=bool)
    kept[matched] = True
    return {
        "new": int((~hit).sum()),
        "changed": int((~same).sum()),
        "gone": int((~kept & stored["current"]).sum()),
    }
