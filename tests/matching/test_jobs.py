"""Stored profile matches: the full rematch and the incremental ones, against a brute-force
computation with the pure scoring, on the test database (SQLite, or PostgreSQL with
TEST_DATABASE_URL). A small synthetic library is committed for the module and removed after;
a scoring configuration with short lists makes the top-K cuts bite."""

from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import Engine, delete, func, select, text, update
from sqlmodel import Session

from service.core.models import row_dict
from service.enterprises.models import Enterprise, Qualification
from service.matching import facts, scoring, upkeep
from service.matching.enterprise_arrays import EnterpriseArrays
from service.matching.facts import load_enterprise_arrays
from service.matching.models import EnterpriseMatch, ScoringConfigRow
from service.matching.upkeep import full_rematch, rematch_enterprises, rematch_product
from service.products.models import Product, ProductVersion
from service.synth import AS_OF, bulk_load

ON = AS_OF
TOP_E, TOP_P = 3, 5


@pytest.fixture(scope="module")
def library(engine: Engine):
    with Session(engine) as session:
        before = session.scalar(select(func.max(Enterprise.id))) or 0
        version = (session.scalar(select(func.max(ScoringConfigRow.version))) or 0) + 1
        current = session.get(ScoringConfigRow, version - 1)
        assert current is not None
        config = {**current.config, "top_per_enterprise": TOP_E, "top_per_product": TOP_P}
        session.add(ScoringConfigRow(version=version, config=config, note="test: short lists"))
        session.commit()
    bulk_load(engine, 60, projects=0, products=0, seed=77, progress=False, workers=0)
    with Session(engine) as session:
        ids = list(session.scalars(select(Enterprise.id).where(Enterprise.id > before)))
    stats = full_rematch(engine, on=ON, progress=False)
    yield {"ids": ids, "stats": stats, "config_version": version}
    with Session(engine) as session:
        session.execute(delete(EnterpriseMatch))
        session.execute(delete(Qualification).where(Qualification.enterprise_id.in_(ids)))
        session.execute(text("DELETE FROM contact WHERE enterprise_id > :b"), {"b": before})
        session.execute(delete(Enterprise).where(Enterprise.id.in_(ids)))
        session.execute(delete(ScoringConfigRow).where(ScoringConfigRow.version == version))
        session.commit()


def _expected(session: Session) -> dict[tuple[int, int], tuple[int, int | None, int | None]]:
    """Brute force: every pair scored with scoring.score; the cuts made by sorting."""
    config = facts.current_config(session, ON)
    rules = [r for _, _, r in facts.catalogue(session)]
    enterprises = facts.enterprise_facts(
        session, list(session.scalars(select(Enterprise).order_by(Enterprise.id)))
    )
    scores: dict[tuple[int, int], int] = {}
    out: dict[tuple[int, int], list] = {}
    for e in enterprises:
        results = [scoring.score(e, None, p, ON, config) for p in rules]
        for r in results:
            if r.eligible:
                scores[(e.id, r.product_id)] = r.score_centi
        for rank, r in enumerate(scoring.rank(results)[: config.top_per_enterprise], 1):
            out.setdefault((e.id, r.product_id), [r.score_centi, None, None])[1] = rank
    for p in rules:
        pairs = sorted(
            ((e, s) for (e, q), s in scores.items() if q == p.id), key=lambda t: (-t[1], t[0])
        )
        for rank, (e, s) in enumerate(pairs[: config.top_per_product], 1):
            out.setdefault((e, p.id), [s, None, None])[2] = rank
    return {k: tuple(v) for k, v in out.items()}


def _stored(session: Session) -> dict[tuple[int, int], tuple[int, int | None, int | None]]:
    return {
        (m.enterprise_id, m.product_id): (m.score_centi, m.enterprise_rank, m.product_rank)
        for m in session.scalars(select(EnterpriseMatch))
    }


def test_full_rematch_stores_the_top_lists(library, session) -> None:
    stats = library["stats"]
    expected = _expected(session)
    assert _stored(session) == expected
    assert stats["enterprises"] == len(library["ids"])
    assert stats["rows"] == len(expected)
    assert stats["enterprise_matches"] == sum(1 for v in expected.values() if v[1])
    assert stats["product_prospects"] == sum(1 for v in expected.values() if v[2])
    assert stats["config_version"] == library["config_version"]
    assert {"load_seconds", "compute_seconds", "store_seconds"} <= stats.keys()
    versions = {p.id: v.version for p, v, _ in facts.catalogue(session)}
    for m in session.scalars(select(EnterpriseMatch)):
        assert m.config_version == library["config_version"]
        assert m.product_version == versions[m.product_id]
        assert m.computed_at.tzinfo is not None
    # Some pairs are kept for both reasons, some for one only.
    kinds = {(v[1] is not None, v[2] is not None) for v in expected.values()}
    assert kinds == {(True, True), (True, False), (False, True)}


def test_full_rematch_twice_gives_the_same_rows(library, engine) -> None:
    with Session(engine) as session:
        before = _stored(session)
    full_rematch(engine, on=ON, progress=False)
    with Session(engine) as session:
        assert _stored(session) == before


def test_loader_reads_what_the_facts_say(library, session) -> None:
    loaded = load_enterprise_arrays(
        session.connection(), ON, service_area=facts.service_area(), chunk_size=7
    )
    enterprises = list(session.scalars(select(Enterprise).order_by(Enterprise.id)))
    built = EnterpriseArrays.from_facts(
        facts.enterprise_facts(session, enterprises), ON, loaded.qualification_codes
    )
    assert loaded.qualification_codes == built.qualification_codes
    for name in ("clusters", "tiers", "size_classes", "districts", "industries"):
        assert getattr(loaded, name) == getattr(built, name)
    for name in (
        "ids",
        "cluster",
        "tier",
        "size_class",
        "district",
        "industry",
        "registered_in_wuxi",
        "qualifications",
        "years_in_business",
        "has_established",
        "revenue_fen",
        "has_revenue",
        "grade_rank",
    ):
        assert np.array_equal(getattr(loaded, name), getattr(built, name)), name


def _least_qualified(session: Session, ids: list[int]) -> int:
    counts = dict(
        session.execute(
            select(Qualification.enterprise_id, func.count())
            .where(Qualification.enterprise_id.in_(ids))
            .group_by(Qualification.enterprise_id)
        ).all()
    )
    small = [
        e
        for e in session.scalars(
            select(Enterprise.id).where(
                Enterprise.id.in_(ids),
                Enterprise.size_class.in_(["small", "micro"]),
                Enterprise.registered_in_wuxi.is_(True),
            )
        )
    ]
    return min(small, key=lambda e: (counts.get(e, 0), e))


def test_an_improved_enterprise_is_rematched_exactly(library, session) -> None:
    target = _least_qualified(session, library["ids"])
    session.execute(update(Enterprise).where(Enterprise.id == target).values(credit_grade="AAA"))
    for code in ("high_tech", "tech_sme", "srdi_sme"):
        session.add(
            Qualification(enterprise_id=target, type_code=code, issued_date=ON - timedelta(days=30))
        )
    session.flush()
    counts = rematch_enterprises(session, [target], on=ON)
    # Its scores only rose: it enters lists (evicting the last) but never leaves one, so the
    # merge with the stored prospects is exact.
    assert counts["inserted"] + counts["updated"] > 0
    assert _stored(session) == _expected(session)


def test_a_worse_enterprise_keeps_lists_correct_prefixes(library, session) -> None:
    stored = _stored(session)
    prospects: dict[int, int] = {}
    for (e, _), (_, _, product_rank) in stored.items():
        if product_rank is not None:
            prospects[e] = prospects.get(e, 0) + 1
    target = max(prospects, key=lambda e: (prospects[e], -e))
    session.execute(delete(Qualification).where(Qualification.enterprise_id == target))
    session.execute(
        update(Enterprise)
        .where(Enterprise.id == target)
        .values(credit_grade=None, revenue_fen=None, established_date=ON)
    )
    session.flush()
    rematch_enterprises(session, [target], on=ON)
    after, truth = _stored(session), _expected(session)
    # The enterprise's own list is exact.
    assert {k: v[:2] for k, v in after.items() if k[0] == target and v[1]} == {
        k: v[:2] for k, v in truth.items() if k[0] == target and v[1]
    }
    # Every product's list is ranked 1..n by (score desc, id), with true scores, and without
    # the changed enterprise it is a prefix of the true ranking.
    config = facts.current_config(session, ON)
    for product_id in {p for _, p in after}:
        rows = sorted((v[2], e, v[0]) for (e, p), v in after.items() if p == product_id and v[2])
        assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
        assert [(-s, e) for _, e, s in rows] == sorted((-s, e) for _, e, s in rows)
        assert len(rows) <= config.top_per_product
        ours = [e for _, e, _ in rows if e != target]
        full = sorted(
            (e for (e, p), v in truth.items() if p == product_id and v[2] and e != target),
            key=lambda e: (-truth[(e, product_id)][0], e),
        )
        assert ours == full[: len(ours)]


def test_a_missing_enterprise_loses_its_rows(library, session) -> None:
    counts = rematch_enterprises(session, [10**9], on=ON)
    assert counts == {"deleted": 0, "updated": 0, "inserted": 0}


def test_a_relaxed_product_is_rematched_exactly(library, session) -> None:
    product = session.scalars(select(Product).where(Product.code == "yxrcb-eco-credit")).one()
    current = session.scalars(
        select(ProductVersion).where(
            ProductVersion.product_id == product.id,
            ProductVersion.version == product.current_version,
        )
    ).one()
    data = {k: v for k, v in row_dict(current).items() if k not in ("id", "created_at")}
    data.update(version=current.version + 1, eligibility={})
    session.add(ProductVersion(**data))
    session.execute(
        update(Product).where(Product.id == product.id).values(current_version=data["version"])
    )
    session.flush()
    before = sum(1 for (_, p) in _stored(session) if p == product.id)
    counts = rematch_product(session, product.id, on=ON)
    assert counts["inserted"] > 0
    after = _stored(session)
    assert sum(1 for (_, p) in after if p == product.id) > before
    assert after == _expected(session)
    versions = set(
        session.scalars(
            select(EnterpriseMatch.product_version).where(EnterpriseMatch.product_id == product.id)
        )
    )
    assert versions == {data["version"]}


def test_an_unchanged_product_rewrites_nothing(library, session) -> None:
    before = _stored(session)
    product_id = max(p for _, p in before)
    assert rematch_product(session, product_id, on=ON) == {
        "deleted": 0,
        "updated": 0,
        "inserted": 0,
    }
    assert _stored(session) == before


@pytest.mark.parametrize("bulk", [False, True], ids=["row-by-row", "bulk"])
def test_a_withdrawn_product_is_rematched_exactly(library, session, monkeypatch, bulk) -> None:
    if bulk:  # the COPY + UPDATE … FROM path of PostgreSQL, for many updates
        monkeypatch.setattr(upkeep, "BULK_ROWS", 0)
    stored = _stored(session)
    held: dict[int, int] = {}
    for (_, p), (_, enterprise_rank, _) in stored.items():
        if enterprise_rank is not None:
            held[p] = held.get(p, 0) + 1
    popular = max(held, key=lambda p: (held[p], -p))
    session.execute(update(Product).where(Product.id == popular).values(status="withdrawn"))
    session.flush()
    rematch_product(session, popular, on=ON)
    after = _stored(session)
    assert not any(p == popular for _, p in after)
    assert after == _expected(session)
