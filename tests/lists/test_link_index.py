"""The blocking index against a straightforward reference (dictionaries and a Counter), and
linking against a full scan; an index brought up to date against one built afresh; the
process's copy of the library follows enterprises added and renamed between imports."""

import random
from collections import Counter

import numpy as np
import pytest

from service.lists import link_cache, link_index, linking
from service.lists.link_index import LinkIndex, pairs
from service.taxonomy.names import normalize_company_name
from tests.factories import create_enterprise

VARIED = [
    "无锡华光电子有限公司",
    "华光电子（无锡）股份有限公司",
    "江阴华光电子股份有限公司",
    "苏州华光电子有限公司",
    "华光电子有限公司无锡分公司",
    "无锡华光电子科技有限公司",
    "无锡华光新材料有限公司",
    "无锡宏达新材料有限公司",
    "江苏长电科技股份有限公司",
    "江阴长电先进封装有限公司",
    "无锡新洁能股份有限公司",
    "无锡新洁新能源有限公司",
    "无锡瑞德集成电路有限公司",
    "无锡恒瑞德集成电路有限公司",
    "华",  # one character
    "华光",  # a substring of many
    "无锡ＨＧ华光电子有限公司",
    "无锡A&B精密机械有限公司",
    "无锡华光\x00电子有限公司",  # NUL inside
    "无锡\U0001f600表情科技有限公司",  # beyond the basic plane
    "有限公司",  # nothing but a legal form
]
QUERIES = [
    *VARIED,
    "华光电子",
    "无锡华光电了有限公司",  # a typo
    "华光电子股份有限公司",
    "长电科技",
    "新洁新能源",
    "华光电子有限公司江阴分公司",
    "无锡华光电子\x00",
    "宏达新材料",
    "无锡全新半导体有限公司",
    "",
    "  ",
    "（无锡）",
    "\U0001f600表情",
]


def _library(extra: int, seed: int = 3) -> list[tuple[int, str, str, str | None]]:
    """The varied names, and a crowd of names alike (so that limits and budgets apply)."""
    rng = random.Random(seed)
    names = list(VARIED)
    words = ["电子", "新材料", "精密机械", "科技", "智能装备", "生物医药"]
    for _ in range(extra):
        trade = "".join(chr(0x534E + rng.randrange(40)) for _ in range(2))
        names.append(f"{rng.choice(['无锡', '江阴', ''])}{trade}{rng.choice(words)}有限公司")
    ids = rng.sample(range(1, 10 * len(names)), len(names))  # not in position order
    districts = [rng.choice([None, "xinwu", "jiangyin"]) for _ in names]
    return [
        (i, n, normalize_company_name(n), d) for i, n, d in zip(ids, names, districts, strict=True)
    ]


def _index(rows) -> LinkIndex:
    return LinkIndex(*zip(*rows, strict=True)) if rows else LinkIndex([], [], [], [])


class Reference:
    """The same blocking rule, written plainly: positions by pair in dictionaries, hits in a
    Counter, the most hits first and ties by the smaller id."""

    def __init__(self, rows) -> None:
        self.ids = [r[0] for r in rows]
        self.names = [r[1] for r in rows]
        self.cores = [r[2] for r in rows]
        self.districts = [r[3] for r in rows]
        self.by_pair: dict[str, list[int]] = {}
        for position, core in enumerate(self.cores):
            for pair in pairs(core):
                self.by_pair.setdefault(pair, []).append(position)

    def candidates(self, core: str, limit: int = 40, budget: int = 20_000) -> list[int]:
        exact = [p for p, c in enumerate(self.cores) if c == core]
        lists = sorted((len(self.by_pair[p]), p) for p in pairs(core) if p in self.by_pair)
        hits: Counter[int] = Counter()
        total = 0
        for size, pair in lists[: link_index.RARE_LISTS]:
            if hits and total + size > budget:
                break
            hits.update(self.by_pair[pair])
            total += size
        best = sorted(hits, key=lambda p: (-hits[p], self.ids[p]))[:limit]
        return exact + [p for p in best if p not in exact]

    def trade(self, position: int) -> str:
        return linking.trade_name(self.cores[position])

    def places(self, position: int) -> frozenset[str]:
        return linking.name_places(self.names[position])

    def branch(self, position: int) -> bool:
        return linking.is_branch(self.names[position])

    def beginning_with(self, prefix: str) -> np.ndarray:
        return np.array([p for p, c in enumerate(self.cores) if c.startswith(prefix)], dtype=int)


class FullScan(Reference):
    """Every library name a candidate."""

    def candidates(self, core: str, limit: int = 40, budget: int = 20_000) -> list[int]:
        return list(range(len(self.cores)))


def _decision(verdict: linking.Verdict) -> tuple:
    return (
        verdict.outcome,
        verdict.normalized,
        [(c.enterprise_id, c.score, c.reasons) for c in verdict.candidates],
    )


def _decided(verdict: linking.Verdict) -> tuple:
    best = verdict.best
    return verdict.outcome, best and (best.enterprise_id, best.score, best.reasons)


def _ids(index, positions) -> set[int]:
    return {index.ids[p] for p in positions}


@pytest.mark.parametrize(("limit", "budget"), [(40, 20_000), (5, 60), (3, 1)])
def test_candidates_are_the_reference_ones(limit, budget) -> None:
    rows = _library(3000)
    fast, reference = _index(rows), Reference(rows)
    queries = [*QUERIES, *(r[1] for r in rows[::37])]
    for query in queries:
        core = normalize_company_name(query)
        found = fast.candidates(core, limit, budget)
        assert len(found) == len(set(found))
        assert _ids(fast, found) == _ids(reference, reference.candidates(core, limit, budget)), (
            query
        )


def test_links_are_the_reference_ones_and_the_full_scan_ones() -> None:
    crowd = _index(_library(3000))
    crowd_reference = Reference(_library(3000))
    small_rows = _library(60, seed=5)
    small, everything = _index(small_rows), FullScan(small_rows)
    for query in QUERIES:
        for district in (None, "xinwu"):
            assert _decision(linking.link(crowd, query, district)) == _decision(
                linking.link(crowd_reference, query, district)  # type: ignore[arg-type]
            ), query
            # the full scan may show more names below the best; the decision is the same
            assert _decided(linking.link(small, query, district)) == _decided(
                linking.link(everything, query, district)  # type: ignore[arg-type]
            ), query


def test_an_empty_library_links_nothing() -> None:
    empty = _index([])
    assert empty.candidates("华光电子") == [] and empty.exact("") == []
    assert linking.link(empty, "无锡华光电子有限公司").outcome == "new"
    assert len(empty.beginning_with("华光")) == 0


def _changes(rows, rng: random.Random, n: int):
    """n changes: new enterprises, renames (some to a core already held, some back to what
    they were), district moves, and rows sent again unchanged."""
    out = []
    for k in range(n):
        kind = k % 5
        old = rng.choice(rows)
        if kind == 0:
            name = f"无锡{chr(0x4E00 + k % 500)}{chr(0x4E10 + k % 7)}新材料有限公司"
            out.append((10**6 + k, name, normalize_company_name(name), None))
        elif kind == 1:
            name = rng.choice(VARIED)
            out.append((old[0], name, normalize_company_name(name), old[3]))
        elif kind == 2:
            name = old[1].replace("有限公司", "科技有限公司")
            out.append((old[0], name, normalize_company_name(name), old[3]))
        elif kind == 3:
            out.append((old[0], old[1], old[2], "liangxi"))
        else:
            out.append(old)
    return out


def _apply(rows, changes):
    held = {r[0]: r for r in rows}
    for change in changes:
        held[change[0]] = change
    return sorted(held.values())


@pytest.mark.parametrize("compact_at", [10**9, 50])
def test_an_index_brought_up_to_date_answers_as_one_built_afresh(monkeypatch, compact_at) -> None:
    monkeypatch.setattr(link_index, "_COMPACT_MIN", compact_at)
    monkeypatch.setattr(link_index, "_COMPACT_AT", 0.0)
    rng = random.Random(11)
    rows = sorted(_library(2000))
    index = _index(rows)
    before = [linking.link(index, q) for q in QUERIES]
    for step in range(4):
        changes = _changes(rows, rng, 30)
        updated = index.updated(changes)
        rows = _apply(rows, changes)
        fresh = _index(rows)
        assert updated.live == fresh.live == len(rows)
        for query in [*QUERIES, *(r[1] for r in rows[:: 50 + step])]:
            core = normalize_company_name(query)
            for limit, budget in ((40, 20_000), (4, 50)):
                assert _ids(updated, updated.candidates(core, limit, budget)) == _ids(
                    fresh, fresh.candidates(core, limit, budget)
                ), query
            assert _decision(linking.link(updated, query)) == _decision(
                linking.link(fresh, query)
            ), query
            prefix = core[:2]
            if len(prefix) == 2:
                assert _ids(updated, updated.beginning_with(prefix)) == _ids(
                    fresh, fresh.beginning_with(prefix)
                )
        if step == 0:  # the snapshot read before is untouched
            assert [_decision(linking.link(index, q)) for q in QUERIES] == [
                _decision(v) for v in before
            ]
        index = updated
    assert index.updated(rows[:10]) is index  # nothing changed: the same index


# --- the process's copy of the library, through the API -----------------------------------


def _upload(client, names: list[str], title: str):
    content = ("企业名称\n" + "\n".join(names) + "\n").encode("utf-8")
    response = client.post(
        "/api/v1/lists/imports",
        files={"file": ("list.csv", content, "application/octet-stream")},
        data={"qualification_type": "little_giant", "title": title},
    )
    assert response.status_code == 201, response.text
    items = client.get(
        "/api/v1/lists/entries", params={"import_id": response.json()["id"], "limit": 50}
    ).json()["items"]
    by_row = {e["row"]: e for e in items}
    return {name: by_row[line] for line, name in enumerate(names, start=2)}


def test_an_import_sees_enterprises_added_and_renamed_since_the_last(client) -> None:
    link_cache.forget()
    old = create_enterprise(client, name="无锡澄芮精密机械有限公司")
    first = _upload(client, ["澄芮精密机械有限公司", "无锡璟琮新材料有限公司"], "first")
    assert first["澄芮精密机械有限公司"]["enterprise_id"] == old["id"]
    assert first["无锡璟琮新材料有限公司"]["match"] == "new"
    added = create_enterprise(client, name="无锡璟琮新材料有限公司")
    renamed = client.patch(
        f"/api/v1/enterprises/{old['id']}", json={"name": "无锡骁铖微电子有限公司"}
    )
    assert renamed.status_code == 200, renamed.text
    second = _upload(
        client,
        ["无锡璟琮新材料有限公司", "骁铖微电子（无锡）有限公司", "澄芮精密机械有限公司"],
        "second",
    )
    assert second["无锡璟琮新材料有限公司"]["match"] == "auto"
    assert second["无锡璟琮新材料有限公司"]["enterprise_id"] == added["id"]
    assert second["骁铖微电子（无锡）有限公司"]["enterprise_id"] == old["id"]
    gone = second["澄芮精密机械有限公司"]  # the old name is no longer the library's
    assert gone["match"] == "new" and old["id"] not in [
        c["enterprise_id"] for c in gone["candidates"] if c["score"] >= 97
    ]


def test_a_copy_holding_rows_that_vanished_is_built_afresh(client, session) -> None:
    """Rows can vanish behind the copy's back (a rolled-back insert): it is not trusted."""
    from service.enterprises.models import Enterprise

    made = create_enterprise(client, name="无锡临时瑭璐电子有限公司")
    create_enterprise(client, name="无锡珂琪精密机械有限公司")  # the highest id stays
    _upload(client, ["无锡全新半导体有限公司"], "before")  # the copy now holds it
    session.delete(session.get(Enterprise, made["id"]))
    session.flush()
    after = _upload(client, ["临时瑭璐电子有限公司"], "after")["临时瑭璐电子有限公司"]
    assert after["match"] == "new" and after["enterprise_id"] is None
    link_cache.forget()
