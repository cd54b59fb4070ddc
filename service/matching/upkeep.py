"""Stored profile matches (``enterprise_match``) kept current: the full rematch behind
`finmatch match --all`, and the incremental rematches a change of an enterprise or a product
triggers.

A stored row is a pair kept for the enterprise (its top ``top_per_enterprise`` products:
``enterprise_rank``), for the product (its top ``top_per_product`` prospects:
``product_rank``), or both.

Incremental rematches and what they guarantee:

- ``rematch_product`` is exact. It scores the catalogue against the whole library with the
  batch engine (at 500,000 enterprises about 2–4 s to read the library and 1 s to compute),
  replaces the product's prospects, and recomputes the top products of the enterprises whose
  list may change: those that held the product and whose score for it changed, and those that
  now take it. A change that leaves the scores alone writes nothing but the new product
  version; one that reshuffles the lists of a large part of the library costs about as much as
  a full rematch, so callers should run it as a background job rather than in a request.
- ``rematch_enterprises`` recomputes the enterprises' own top products exactly, and places
  them among each product's *stored* prospects (merged by score, then enterprise id, the
  lowest evicted beyond ``top_per_product``; only lists they were in or can now enter are
  read). The enterprises of a product's list are always ranked correctly among themselves,
  but an enterprise whose score fell keeps its place at the end of the list even if an
  enterprise not stored now outranks it (finding that one needs the whole library); the next
  ``rematch_product`` or full rematch restores the exact list.

The incremental functions take the caller's session and do not commit; the use case does."""

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, bindparam, delete, insert, select, union_all, update
from sqlmodel import Session, col

from service.core.database import serialize
from service.core.models import today_local, utcnow
from service.enterprises.models import Enterprise
from service.matching import facts, store
from service.matching.engine import match_all, score_matrix
from service.matching.enterprise_arrays import EnterpriseArrays
from service.matching.models import EnterpriseMatch
from service.matching.scoring import ProductRules, ScoringConfig

TABLE = EnterpriseMatch.__table__  # type: ignore[attr-defined]
ID_CHUNK = 5_000
# Held by every rewrite of stored matches (full rematch, product and enterprise rematches).
STORED_MATCHES_LOCK = "matching.stored_matches"


def _progress(enabled: bool) -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        disable=not enabled,
    )


# --- the full rematch ------------------------------------------------------------------------


def full_rematch(engine: Engine, on: date | None = None, progress: bool = True) -> dict:
    """Recompute every stored profile match in one transaction of its own (the CLI's
    `finmatch match --all`); see ``rematch_all``."""
    with engine.begin() as conn:
        return rematch_all(conn, on, progress)


def rematch_all(conn: Connection, on: date | None = None, progress: bool = False) -> dict:
    """Recompute every stored profile match: the config in force, the active catalogue and the
    whole library, scored on ``on`` (today in Asia/Shanghai by default); then replace every
    stored row with the new ones (``store.replace_all``: on PostgreSQL a fresh table swapped
    in), in the caller's transaction (no commit). Returns row counts and the seconds spent loading, computing and storing."""
    on = on or today_local()
    started = time.perf_counter()
    serialize(conn, STORED_MATCHES_LOCK)
    session = Session(bind=conn)
    config = facts.current_config(session, on)
    catalogue = facts.catalogue(session)
    arrays = _library(conn, on, config)
    session.close()
    rules = [r for _, _, r in catalogue]
    versions = {r.id: version.version for _, version, r in catalogue}
    loaded = time.perf_counter()
    with _progress(progress) as bar:
        task = bar.add_task("匹配 products", total=len(rules))
        matches = match_all(arrays, rules, config, progress=lambda _: bar.advance(task))
    rows = matches.rows()
    computed = time.perf_counter()
    how = store.replace_all(conn, rows, versions, config.version, utcnow())
    stored = time.perf_counter()
    return {
        "on": on.isoformat(),
        "config_version": config.version,
        "enterprises": len(arrays),
        "products": len(rules),
        "rows": len(rows["enterprise_id"]),
        "enterprise_matches": int(np.count_nonzero(rows["enterprise_rank"])),
        "product_prospects": int(np.count_nonzero(rows["product_rank"])),
        "load_seconds": round(loaded - started, 3),
        "compute_seconds": round(computed - loaded, 3),
        "store_seconds": round(stored - computed, 3),
        "stored_by": how,
    }


# --- incremental rematches -------------------------------------------------------------------

Key = tuple[int, int]  # (enterprise_id, product_id)
_COLUMNS = (
    TABLE.c.id,
    TABLE.c.enterprise_id,
    TABLE.c.product_id,
    TABLE.c.score_centi,
    TABLE.c.enterprise_rank,
    TABLE.c.product_rank,
    TABLE.c.product_version,
    TABLE.c.config_version,
)
_ENTRY_FIELDS = (
    "score_centi",
    "enterprise_rank",
    "product_rank",
    "product_version",
    "config_version",
)
PRODUCTS_PER_QUERY = 100
BULK_ROWS = 5_000  # above this many updates, PostgreSQL gets them through COPY


@dataclass
class _Entry:
    """What a stored row holds, or should hold (no row when it has neither rank)."""

    score_centi: int
    enterprise_rank: int | None
    product_rank: int | None
    product_version: int
    config_version: int
    id: int | None = None


def _entries(session: Session, statement: Any) -> dict[Key, _Entry]:
    return {
        (row.enterprise_id, row.product_id): _Entry(
            row.score_centi,
            row.enterprise_rank,
            row.product_rank,
            row.product_version,
            row.config_version,
            row.id,
        )
        for row in session.execute(statement)
    }


def _rows_of_enterprises(session: Session, ids: Iterable[int]) -> dict[Key, _Entry]:
    out: dict[Key, _Entry] = {}
    ordered = sorted(set(ids))
    for lo in range(0, len(ordered), ID_CHUNK):
        chunk = ordered[lo : lo + ID_CHUNK]
        out.update(_entries(session, select(*_COLUMNS).where(TABLE.c.enterprise_id.in_(chunk))))
    return out


def _per_product(products: Iterable[int], query: Callable[[int], Any]) -> Iterator[Any]:
    """One UNION ALL statement per PRODUCTS_PER_QUERY products of ``query(p)`` (a select
    with its own ORDER BY / LIMIT, so each goes through the (product_id, score_centi) index)."""
    ordered = sorted(set(products))
    for lo in range(0, len(ordered), PRODUCTS_PER_QUERY):
        parts = [query(p).subquery() for p in ordered[lo : lo + PRODUCTS_PER_QUERY]]
        yield union_all(*(select(*part.c) for part in parts))


def _prospects_of(p: int) -> Any:
    return (
        select(*_COLUMNS)
        .where(TABLE.c.product_id == p, TABLE.c.product_rank.is_not(None))
        .order_by(TABLE.c.score_centi.desc())  # never a scan of all the product's rows
    )


def _prospect_lists(session: Session, products: Iterable[int], k: int) -> dict[Key, _Entry]:
    """The stored prospects of the products (a list holds at most k, so LIMIT cuts nothing)."""
    out: dict[Key, _Entry] = {}
    for statement in _per_product(products, lambda p: _prospects_of(p).limit(k)):
        out.update(_entries(session, statement))
    return out


def _kth_scores(session: Session, products: Iterable[int], k: int) -> dict[int, int]:
    """The k-th best stored prospect score of each product whose list is full."""
    out: dict[int, int] = {}
    for statement in _per_product(products, lambda p: _prospects_of(p).offset(k - 1).limit(1)):
        out.update((row.product_id, row.score_centi) for row in session.execute(statement))
    return out


def _context(session: Session, on: date) -> tuple[ScoringConfig, list[ProductRules], dict]:
    config = facts.current_config(session, on)
    catalogue = facts.catalogue(session)
    versions = {r.id: version.version for _, version, r in catalogue}
    return config, sorted((r for _, _, r in catalogue), key=lambda r: r.id), versions


def _library(conn: Connection, on: date, config: ScoringConfig) -> EnterpriseArrays:
    return facts.load_enterprise_arrays(
        conn,
        on,
        service_area=facts.service_area(),
        bridge=facts.bridge_states(conn, None, on, config.bridge_window_days),
    )


def _best(pairs: Iterable[tuple[int, int]], k: int) -> list[tuple[int, int]]:
    """(id, score) pairs, best k first: higher score, then lower id."""
    return sorted(pairs, key=lambda pair: (-pair[1], pair[0]))[:k]


def rematch_enterprises(
    session: Session, enterprise_ids: Sequence[int], on: date | None = None
) -> dict:
    """Recompute the stored rows that the given enterprises affect after a change to them:
    their own top products (exact) and their places among each product's stored prospects
    (see the module's notes). Enterprises that no longer exist lose their rows. No commit."""
    on = on or today_local()
    changed = set(enterprise_ids)
    config, rules, versions = _context(session, on)
    enterprises = list(session.scalars(select(Enterprise).where(col(Enterprise.id).in_(changed))))
    arrays = EnterpriseArrays.from_facts(
        facts.enterprise_facts(session, enterprises, on=on, window_days=config.bridge_window_days),
        on,
    )
    matrix = score_matrix(arrays, rules, config)  # rows in ascending enterprise id
    ours: dict[int, list[tuple[int, int]]] = {}  # product → [(enterprise, score)]
    desired: dict[Key, _Entry] = {}
    for row, e in zip(matrix, arrays.ids.tolist(), strict=True):
        eligible = [(rules[j].id, int(row[j])) for j in np.flatnonzero(row >= 0).tolist()]
        for p, score in eligible:
            desired[(e, p)] = _Entry(score, None, None, versions[p], config.version)
            ours.setdefault(p, []).append((e, score))
        for rank, (p, _) in enumerate(_best(eligible, config.top_per_enterprise), start=1):
            desired[(e, p)].enterprise_rank = rank
    stored = _rows_of_enterprises(session, changed)
    k = config.top_per_product
    was_prospect = {p for (_, p), row in stored.items() if row.product_rank is not None}
    # A list changes only where a changed enterprise was in it or may now enter it.
    full = _kth_scores(session, set(ours) - was_prospect, k) if k else {}
    products = was_prospect | {
        p
        for p, pairs in ours.items()
        if k and (p not in full or max(score for _, score in pairs) >= full[p])
    }
    lists: dict[int, list[tuple[int, _Entry]]] = {p: [] for p in products}
    for (e, p), entry in _prospect_lists(session, products, k).items():
        if e not in changed:
            lists[p].append((e, entry))
    for p in products:
        merged = _best([(e, entry.score_centi) for e, entry in lists[p]] + ours.get(p, []), k)
        rank_of = {e: rank for rank, (e, _) in enumerate(merged, start=1)}
        for e, _ in ours.get(p, []):
            desired[(e, p)].product_rank = rank_of.get(e)
        # Other enterprises' rows are touched only where their place changes.
        for e, entry in lists[p]:
            place = rank_of.get(e)
            if place != entry.product_rank:
                stored[(e, p)] = entry
                desired[(e, p)] = _Entry(
                    entry.score_centi,
                    entry.enterprise_rank,
                    place,
                    entry.product_version,
                    entry.config_version,
                )
    return _apply(session, stored, desired)


def rematch_product(session: Session, product_id: int, on: date | None = None) -> dict:
    """Recompute, exactly, the stored rows that a change of one product affects: its prospects
    (scored against the whole library) and the top products of every enterprise whose score
    for it changed while it held it, or that now takes it. A product no longer active loses
    its rows. No commit."""
    on = on or today_local()
    config, rules, versions = _context(session, on)
    arrays = _library(session.connection(), on, config)
    matches = match_all(arrays, rules, config, scores_for=[product_id])
    ids = matches.enterprise_ids
    new_scores = matches.scores.get(product_id)
    if new_scores is None:  # no longer in the catalogue
        new_scores = np.full(len(ids), -1, dtype=np.int16)
    version = versions.get(product_id)
    if version is not None:
        # A new version that leaves a row's score alone still produced it: one statement.
        session.execute(
            update(TABLE)
            .where(TABLE.c.product_id == product_id, TABLE.c.product_version != version)
            .values(product_version=version)
        )
    stored = _entries(session, select(*_COLUMNS).where(TABLE.c.product_id == product_id))
    at = np.searchsorted(ids, np.array([e for e, _ in stored], dtype=np.int64))
    at = np.minimum(at, max(len(ids) - 1, 0))
    changed: set[int] = set()
    for (e, _), pos in zip(stored, at.tolist(), strict=True):
        entry = stored[(e, product_id)]
        now = int(new_scores[pos]) if len(ids) and ids[pos] == e else -1
        if entry.enterprise_rank is not None and now != entry.score_centi:
            changed.add(e)  # its list may change: recompute it
    index = np.flatnonzero(matches.product_ids == product_id)
    if index.size:
        taking = ids[np.flatnonzero((matches.top_products == index[0]).any(axis=1))]
        changed |= {
            e
            for e in taking.tolist()
            if (e, product_id) not in stored or stored[(e, product_id)].enterprise_rank is None
        }
    stored.update(_rows_of_enterprises(session, changed))
    desired: dict[Key, _Entry] = {}
    # The changed enterprises keep their places in other products' lists …
    for (e, p), entry in stored.items():
        if e in changed and p != product_id and entry.product_rank is not None:
            desired[(e, p)] = _Entry(
                entry.score_centi,
                None,
                entry.product_rank,
                entry.product_version,
                entry.config_version,
            )
    # … and get their new top products.
    wanted = np.array(sorted(changed), dtype=np.int64)
    at = np.searchsorted(ids, wanted)
    at = at[at < len(ids)]
    for pos in np.unique(at[np.isin(ids[at], wanted)]).tolist():
        e = int(ids[pos])
        top = zip(matches.top_products[pos].tolist(), matches.top_scores[pos].tolist(), strict=True)
        for rank, (j, score) in enumerate(top, start=1):
            if j < 0:
                break
            p = int(matches.product_ids[j])
            entry = desired.setdefault((e, p), _Entry(score, None, None, 0, 0))
            entry.score_centi, entry.enterprise_rank = score, rank
            entry.product_version, entry.config_version = versions[p], config.version
    # The product's rows: unchanged holders keep their rank; the prospects are new.
    for (e, p), entry in stored.items():
        if p == product_id and e not in changed and entry.enterprise_rank is not None:
            desired[(e, p)] = _Entry(
                entry.score_centi,
                entry.enterprise_rank,
                None,
                entry.product_version,
                entry.config_version,
            )
    if index.size:
        positions, scores = matches.prospects[int(index[0])]
        for rank, (pos, score) in enumerate(
            zip(positions.tolist(), scores.tolist(), strict=True), 1
        ):
            key = (int(ids[pos]), product_id)
            entry = desired.setdefault(
                key, _Entry(score, None, None, versions[product_id], config.version)
            )
            entry.score_centi, entry.product_rank = score, rank
    return _apply(session, stored, desired)


def _apply(session: Session, stored: dict[Key, _Entry], desired: dict[Key, _Entry]) -> dict:
    """Make the stored rows of the affected pairs what ``desired`` says: delete the stored
    rows it leaves out or leaves without a rank, update those that differ, insert the new."""
    now = utcnow()
    deletes: list[int] = []
    updates: list[dict] = []
    inserts: list[dict] = []
    for key, row in stored.items():
        entry = desired.get(key)
        if entry is None or (entry.enterprise_rank is None and entry.product_rank is None):
            assert row.id is not None  # read from the table
            deletes.append(row.id)
    for key, entry in desired.items():
        if entry.enterprise_rank is None and entry.product_rank is None:
            continue
        values = {name: getattr(entry, name) for name in _ENTRY_FIELDS}
        held = stored.get(key)
        if held is None:
            inserts.append(
                {"enterprise_id": key[0], "product_id": key[1], "computed_at": now, **values}
            )
        elif any(getattr(held, name) != value for name, value in values.items()):
            updates.append({"row_id": held.id, "computed_at": now, **values})
    for lo in range(0, len(deletes), ID_CHUNK):
        session.execute(delete(TABLE).where(TABLE.c.id.in_(deletes[lo : lo + ID_CHUNK])))
    fields = (*_ENTRY_FIELDS, "computed_at")
    connection = session.connection()
    if updates and connection.dialect.name == "postgresql" and len(updates) > BULK_ROWS:
        _bulk_update(connection, updates, fields)
    elif updates:
        session.execute(
            update(TABLE)
            .where(TABLE.c.id == bindparam("row_id"))
            .values({name: bindparam(name) for name in fields}),
            updates,
        )
    if inserts:
        session.execute(insert(TABLE), inserts)
    return {"deleted": len(deletes), "updated": len(updates), "inserted": len(inserts)}


def _bulk_update(connection: Connection, updates: list[dict], fields: Sequence[str]) -> None:
    """Many updates at once on PostgreSQL: COPY them into a temporary table, then one
    UPDATE … FROM (row-by-row statements cost about a millisecond each)."""
    connection.exec_driver_sql("DROP TABLE IF EXISTS match_update")
    connection.exec_driver_sql(
        "CREATE TEMPORARY TABLE match_update (row_id bigint, score_centi integer, "
        "enterprise_rank integer, product_rank integer, product_version integer, "
        "config_version integer, computed_at timestamptz) ON COMMIT DROP"
    )
    driver = connection.connection.driver_connection
    assert driver is not None
    columns = ("row_id", *fields)
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY match_update ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in updates:
            copy.write_row([row[c] for c in columns])
    assignments = ", ".join(f"{name} = u.{name}" for name in fields)
    connection.exec_driver_sql(
        f"UPDATE {TABLE.name} AS m SET {assignments} FROM match_update AS u WHERE m.id = u.row_id"
    )
    connection.exec_driver_sql("DROP TABLE match_update")
