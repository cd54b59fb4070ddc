"""The difference a re-evaluation writes (``diff.difference``), against a plain reference
over dictionaries on random inputs, and its corners."""

import random

import numpy as np
import pytest

from service.policies.diff import Found, Stored, difference

CODES = ["a", "b", "c"]
PERIODS = ["once", "2026", "once"]


def found_of(rows: list[tuple[int, int, int, int]]) -> Found:
    e, p, v, a = zip(*rows, strict=True) if rows else ((), (), (), ())
    return Found(
        CODES,
        PERIODS,
        np.array(e, dtype=np.int64),
        np.array(p, dtype=np.int32),
        np.array(v, dtype=np.int32),
        np.array(a, dtype=np.int64),
    )


def stored_of(rows: list[tuple[int, int, int, int, int, bool]]) -> Stored:
    if not rows:
        return Stored.empty()
    i, e, p, v, a, c = zip(*rows, strict=True)
    return Stored(
        np.array(i, dtype=np.int64),
        np.array(e, dtype=np.int64),
        np.array(p, dtype=np.int32),
        np.array(v, dtype=np.int32),
        np.array(a, dtype=np.int64),
        np.array(c, dtype=bool),
    )


def reference(found: list, stored: list) -> tuple[set, set, int, set]:
    have = {(e, p): (i, v, a, c) for i, e, p, v, a, c in stored}
    want = {(e, p): (v, a) for e, p, v, a in found}
    new = {k for k in want if k not in have}
    changed = set()
    revived = 0
    for k, (v, a) in want.items():
        if k in have:
            i, sv, sa, current = have[k]
            if not current:
                revived += 1
            if not current or (sv, sa) != (v, a):
                changed.add((k, i, v, a))
    gone = {have[k][0] for k in have if k not in want and have[k][3]}
    return new, changed, revived, gone


def as_sets(found: list, stored: list) -> tuple[set, set, int, set]:
    f, s = found_of(found), stored_of(stored)
    d = difference(f, s)
    new = {(found[i][0], found[i][1]) for i in d.new.tolist()}
    changed = {
        ((found[i][0], found[i][1]), stored[j][0], found[i][2], found[i][3])
        for i, j in zip(d.changed.tolist(), d.changed_stored.tolist(), strict=True)
    }
    gone = {stored[j][0] for j in d.gone.tolist()}
    return new, changed, d.revived, gone


def test_each_kind_of_difference() -> None:
    found = [(1, 0, 1, 500), (2, 0, 2, 300), (3, 1, 1, 100), (4, 2, 1, 50)]
    stored = [
        (10, 1, 0, 1, 500, True),  # the same: nothing
        (11, 2, 0, 1, 300, True),  # a new version: changed
        (12, 3, 1, 1, 90, False),  # lapsed, found again with a new amount: revived
        (13, 5, 0, 1, 80, True),  # no longer found: gone
        (14, 6, 1, 1, 80, False),  # lapsed and not found: left alone
    ]
    new, changed, revived, gone = as_sets(found, stored)
    assert new == {(4, 2)}
    assert changed == {((2, 0), 11, 2, 300), ((3, 1), 12, 1, 100)}
    assert revived == 1
    assert gone == {13}


def test_nothing_found_or_stored() -> None:
    assert as_sets([], []) == (set(), set(), 0, set())
    assert as_sets([(1, 0, 1, 5)], []) == ({(1, 0)}, set(), 0, set())
    assert as_sets([], [(7, 1, 0, 1, 5, True), (8, 2, 0, 1, 5, False)]) == (set(), set(), 0, {7})


@pytest.mark.parametrize("seed", range(30))
def test_equals_the_reference_on_random_inputs(seed: int) -> None:
    rng = random.Random(seed)
    keys = [(e, p) for e in rng.sample(range(1, 10_000), 60) for p in range(3)]
    want = rng.sample(keys, rng.randrange(0, len(keys)))
    have = rng.sample(keys, rng.randrange(0, len(keys)))
    found = [(e, p, rng.choice([1, 2]), rng.choice([100, 200])) for e, p in want]
    stored = [
        (1000 + n, e, p, rng.choice([1, 2]), rng.choice([100, 200]), rng.random() < 0.8)
        for n, (e, p) in enumerate(have)
    ]
    rng.shuffle(found)
    rng.shuffle(stored)
    assert as_sets(found, stored) == reference(found, stored)
