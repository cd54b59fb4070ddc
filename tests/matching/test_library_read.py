"""The library read into the engine's arrays: the fast read (one binary COPY on PostgreSQL)
equals the chunked generic read and the arrays built from scoring's facts, vocabularies and
bit order included, on a library with every kind of gap and oddity."""

import random
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pytest
from sqlalchemy import delete, select
from sqlmodel import Session

from service.enterprises.models import Enterprise, Qualification
from service.matching import facts, library_copy, scoring
from service.matching.enterprise_arrays import _ARRAY_FIELDS, _VOCAB_OF, EnterpriseArrays
from service.synth import AS_OF
from tests.factories import credit_code

ON = AS_OF
CLUSTERS = [None, "ic", "iot", "textile", "quantum", "auto"]
DISTRICTS = [None, "liangxi", "xinwu", "jiangyin"]
OWNERSHIPS = [None, "private", "state", "foreign"]
SIZES = [None, "micro", "small", "medium", "large"]
GRADES = [None, "AAA", "A", "a", "BBB", "CCC", "D", "Z", "AA+"]
QUALIFICATIONS = ["high_tech", "little_giant", "tech_sme", "eaglet", "green_factory_national"]
# Inside Wuxi, elsewhere in Jiangsu, elsewhere in China.
AREAS = ["320214", "320281", "320205", "320506", "110105", "440305", "320200"]


def _library(session: Session, n: int = 240, seed: int = 5) -> list[int]:
    """n enterprises of every make; returns their ids."""
    rng = random.Random(seed)
    enterprises = []
    for i in range(n):
        area = rng.choice(AREAS) if i % 17 else f"{rng.randrange(100000, 999999)}"
        industry = None if i % 7 == 0 else f"C{rng.randrange(1000, 1200)}"  # >64 codes
        enterprises.append(
            Enterprise(
                credit_code=credit_code(area),
                name=f"无锡读库测试{i}有限公司",
                name_normalized=f"无锡读库测试{i}",
                registered_area_code=area,
                registered_in_wuxi=area.startswith("3202"),
                cluster_code=rng.choice(CLUSTERS),
                district_code=rng.choice(DISTRICTS),
                ownership=rng.choice(OWNERSHIPS),
                size_class=rng.choice(SIZES),
                industry_code=industry,
                credit_grade=rng.choice(GRADES),
                established_date=None
                if i % 5 == 0
                else ON - timedelta(days=rng.randrange(-40, 12_000)),  # some in the future
                revenue_fen=None if i % 6 == 0 else rng.choice([0, 1, 10**9, 10**13]),
            )
        )
    session.add_all(enterprises)
    session.flush()
    for i, e in enumerate(enterprises):
        assert e.id is not None
        for _ in range(0 if i % 3 == 0 else rng.randrange(1, 5)):
            issued = ON - timedelta(days=rng.randrange(-30, 2_000))  # some not yet issued
            expires = rng.choice([None, issued + timedelta(days=rng.randrange(0, 1_500)), ON])
            session.add(
                Qualification(
                    enterprise_id=e.id,
                    type_code=rng.choice(QUALIFICATIONS),
                    issued_date=min(issued, ON) if i % 11 == 0 else issued,
                    expires_date=expires,
                )
            )
    session.flush()
    return [e.id for e in enterprises if e.id is not None]


def _assert_same(a: EnterpriseArrays, b: EnterpriseArrays) -> None:
    assert a.on == b.on
    for name in _ARRAY_FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        assert np.array_equal(x, y), name
    for name in (*_VOCAB_OF.values(), "qualification_codes"):
        assert getattr(a, name) == getattr(b, name), name


def _bridge(ids: list[int]) -> dict[int, str]:
    # Some enterprises of the library, and one that is not in it.
    states = {ids[3]: scoring.BRIDGE_MATURING, ids[1]: scoring.BRIDGE_COMMITTED}
    states |= {i: scoring.BRIDGE_MATURING for i in ids[10::23]}
    return states | {max(ids) + 1_000: scoring.BRIDGE_COMMITTED}


def _reads(session: Session, area: tuple[str, ...], bridge: dict[int, str]):
    conn = session.connection()
    fast = facts.load_enterprise_arrays(conn, ON, service_area=area, bridge=bridge)
    generic = facts.read_enterprise_arrays(
        conn, ON, service_area=area, bridge=bridge, chunk_size=37
    )
    return fast, generic


@pytest.mark.parametrize("area", [("3202",), (), ("3202", "110")])
def test_fast_read_equals_the_generic_read_and_the_facts(session: Session, area) -> None:
    ids = _library(session)
    bridge = _bridge(ids)
    fast, generic = _reads(session, area, bridge)
    _assert_same(fast, generic)
    enterprises = list(session.scalars(select(Enterprise).order_by(Enterprise.id)))
    built = EnterpriseArrays.from_facts(
        [
            replace(
                f,
                bridge=bridge.get(f.id),
                in_service_area=scoring.in_service_area(f.area_code, area),
            )
            for f in facts.enterprise_facts(session, enterprises, on=ON)
        ],
        ON,
        fast.qualification_codes,
    )
    _assert_same(fast, built)
    assert len(fast) >= len(ids)
    assert len(set(fast.industries)) > 64  # the vocabulary joined, not searched
    assert fast.qualifications.any() and (fast.qualifications == 0).any()
    assert not fast.has_established.all() and not fast.has_revenue.all()
    assert set(fast.bridges) == {None, scoring.BRIDGE_MATURING, scoring.BRIDGE_COMMITTED}


def test_an_empty_library(session: Session) -> None:
    session.execute(delete(Qualification))
    session.execute(delete(Enterprise))
    fast, generic = _reads(session, ("3202",), {5: scoring.BRIDGE_MATURING})
    _assert_same(fast, generic)
    assert len(fast) == 0 and fast.clusters == (None,) and fast.bridges == (None,)


def test_a_value_the_vocabulary_missed_falls_back_to_the_generic_read(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    if session.connection().dialect.name != "postgresql":
        pytest.skip("the fast read is PostgreSQL's")
    ids = _library(session, n=60)
    read = library_copy._vocabularies

    def missing_one(cursor):  # an enterprise written between the two statements
        vocabs = read(cursor)
        vocabs["cluster"] = vocabs["cluster"][1:]
        return vocabs

    monkeypatch.setattr(library_copy, "_vocabularies", missing_one)
    driver = session.connection().connection.driver_connection
    assert library_copy.read(driver, ON, codes=[], tier_of={}, service_area=(), bridge={}) is None
    fast, generic = _reads(session, ("3202",), _bridge(ids))
    _assert_same(fast, generic)


def test_a_copy_of_another_layout_is_refused() -> None:
    with pytest.raises(ValueError, match="binary COPY"):
        library_copy._rows(b"id,cluster\n1,ic\n")
    with pytest.raises(ValueError, match="layout"):
        library_copy._rows(library_copy._SIGNATURE + bytes(8) + b"\x00\x01\xff\xff")


def test_vocabulary_in_first_seen_order() -> None:
    raw = np.array([2, 0, 3, 2, 1, 3], dtype=np.int16)
    codes, vocab = library_copy._first_seen(raw, [None, "x", "y", "x"])
    assert vocab == (None, "y", "x")
    assert codes.tolist() == [1, 0, 2, 1, 2, 2]
    assert date(2000, 1, 1) == library_copy._PG_EPOCH


def test_more_qualification_types_than_bits_read_the_generic_way(session: Session) -> None:
    if session.connection().dialect.name != "postgresql":
        pytest.skip("the fast read is PostgreSQL's")
    driver = session.connection().connection.driver_connection
    codes = [f"q{i}" for i in range(65)]
    assert (
        library_copy.read(driver, ON, codes=codes, tier_of={}, service_area=(), bridge={}) is None
    )
