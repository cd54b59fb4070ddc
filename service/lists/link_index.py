"""The library's names indexed for blocking. Pure: no database, no I/O.

An inverted index from each character pair of a normalised name (its core) to the positions
of the names containing it, in compressed rows: one sorted array of pair keys, and for each
key a slice of one array of positions. A query reads the postings of its rarest pairs and
counts, per position, how many of them it appears in, in a counts array kept for the thread
(no sorting: each posting's positions are distinct, so ``counts[posting] += 1`` is exact).

An index is a snapshot: ``updated`` returns a new one with enterprises added or changed,
leaving the old one intact for whoever still reads it. A changed enterprise keeps its old
position, marked gone, and gets a new one; new positions are indexed in a small dictionary
beside the compressed rows until there are enough of them to build the index afresh. Which
names a query reads does not depend on positions: ties are broken by enterprise id and pair,
so an index brought up to date answers as one built from the same rows."""

import threading
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np

from service.taxonomy.names import is_branch, name_places, trade_name

CANDIDATES = 40  # read from the index per name
RARE_LISTS = 6  # the rarest character pairs of a name whose postings are read
READ_BUDGET = 20_000  # positions read from the index per name, beyond its rarest pair
_SINGLE = 0x110000  # second half of a one-character core's key: beyond every code point
_COMPACT_AT = 0.05  # rebuild once this share of positions is gone or beside the rows
_COMPACT_MIN = 2_000


class Row(NamedTuple):
    id: int
    name: str
    core: str
    district: str | None


def pairs(core: str) -> set[str]:
    """The character pairs of a core (a one-character core is its own key)."""
    if len(core) < 2:
        return {core} if core else set()
    return {core[i : i + 2] for i in range(len(core) - 1)}


def _key(pair: str) -> int:
    return (ord(pair[0]) << 32) | (ord(pair[1]) if len(pair) > 1 else _SINGLE)


def _codes(cores: Sequence[str]) -> np.ndarray:
    text = "".join(cores).encode("utf-32-le", "surrogatepass")
    return np.frombuffer(text, dtype=np.uint32)


def _by_pair(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The stable order of (first, second) code pairs. Code points are renumbered densely;
    when they fit 16 bits (a library's names use a few thousand characters), two stable sorts
    of 16-bit numbers (radix sorts in numpy) do it in linear time."""
    present = np.zeros(_SINGLE + 1, dtype=bool)
    present[first] = True
    present[second] = True
    dense = np.cumsum(present, dtype=np.int64) - 1
    if dense[-1] < 1 << 16:
        low = dense[second].astype(np.uint16)
        high = dense[first].astype(np.uint16)
        order = np.argsort(low, kind="stable")
        return order[np.argsort(high[order], kind="stable")]
    keys = (first.astype(np.uint64) << np.uint64(32)) | second.astype(np.uint64)
    return np.argsort(keys, kind="stable")


class _Rows:
    """Compressed rows: ``keys`` sorted, the positions of ``keys[i]`` are
    ``positions[starts[i]:starts[i + 1]]``, ascending."""

    def __init__(self, cores: Sequence[str]) -> None:
        lengths = np.fromiter(map(len, cores), dtype=np.int64, count=len(cores))
        codes = _codes(cores)
        ends = np.cumsum(lengths)
        owner = np.repeat(np.arange(len(cores), dtype=np.int32), lengths)
        # a pair starts at every character but a core's last; a one-character core is a key
        starts = np.ones(len(codes), dtype=bool)
        starts[ends[lengths > 0] - 1] = False
        at = np.nonzero(starts)[0]
        single = ends[lengths == 1] - 1
        first = np.concatenate([codes[at], codes[single]])
        second = np.concatenate([codes[at + 1], np.full(len(single), _SINGLE, dtype=np.uint32)])
        positions = np.concatenate([owner[at], owner[single]])
        order = _by_pair(first, second)
        keys = (first[order].astype(np.uint64) << np.uint64(32)) | second[order]
        positions = positions[order]
        if len(keys):  # a pair twice in one core ("华光华光") counts once
            distinct = np.ones(len(keys), dtype=bool)
            distinct[1:] = (keys[1:] != keys[:-1]) | (positions[1:] != positions[:-1])
            keys, positions = keys[distinct], positions[distinct]
        boundary = np.ones(len(keys), dtype=bool)
        boundary[1:] = keys[1:] != keys[:-1]
        head = np.nonzero(boundary)[0]
        self.keys = keys[head]
        self.starts = np.append(head, len(keys))
        self.positions = positions
        # each core's first two characters, for the cores that begin with a prefix
        owners = np.nonzero(lengths >= 2)[0]
        begins = (ends - lengths)[owners]
        leading = (codes[begins].astype(np.uint64) << np.uint64(32)) | codes[begins + 1]
        order = np.argsort(leading, kind="stable")
        self.leading_keys = leading[order]
        self.leading_owners = owners[order].astype(np.int32)
        self.size = len(cores)

    def slices(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(start, end) in ``positions`` of each key (empty when the key is absent)."""
        i = np.searchsorted(self.keys, keys)
        inside = i < len(self.keys)
        found = np.zeros(len(keys), dtype=bool)
        found[inside] = self.keys[i[inside]] == keys[inside]
        i = np.where(found, i, 0)
        start = np.where(found, self.starts[i], 0)
        end = np.where(found, self.starts[np.minimum(i + 1, len(self.starts) - 1)], 0)
        return start, end


_NONE = np.zeros(0, dtype=np.int32)
_scratch = threading.local()


def _counts(size: int) -> np.ndarray:
    """This thread's counts array (all zeros between queries)."""
    counts: np.ndarray | None = getattr(_scratch, "counts", None)
    if counts is None or len(counts) < size:
        counts = np.zeros(max(size, 1024), dtype=np.int32)
        _scratch.counts = counts
    return counts


class LinkIndex:
    """The library's names (``ids``, ``names``, ``cores``, ``districts`` by position), with
    the blocking index over their cores."""

    def __init__(
        self,
        ids: Iterable[int],
        names: Iterable[str],
        cores: Iterable[str],
        districts: Iterable[str | None],
    ) -> None:
        self.ids = list(ids)
        self.names = list(names)
        self.cores = list(cores)
        self.districts = list(districts)
        self._id_of = np.asarray(self.ids, dtype=np.int64)
        # positions in the order of ids: ties at the cut are read off the postings' heads
        self._ordered = bool(np.all(self._id_of[1:] > self._id_of[:-1]))
        self._rows = _Rows(self.cores)
        self._alive = np.ones(len(self.ids), dtype=bool)
        self._gone = 0
        self._gone_from: dict[int, int] = {}  # pair key -> gone positions in its row
        self._beside: dict[int, np.ndarray] = {}  # pair key -> newer positions, ascending
        # the names of exactly a core, by its hash (sorted once; a dictionary of half a million
        # cores costs more to build)
        hashes = np.fromiter(map(hash, self.cores), dtype=np.int64, count=len(self.cores))
        self._by_hash = np.argsort(hashes).astype(np.int32)
        self._hashes = hashes[self._by_hash]
        self._exact_beside: dict[str, list[int]] = {}
        self._leading_beside: dict[str, list[int]] = {}
        self._position_of: dict[int, int] | None = None
        # what a position's name says never changes (a changed name gets a new position)
        self._places: dict[int, frozenset[str]] = {}
        self._trades: dict[int, str] = {}
        self._branches: dict[int, bool] = {}

    def __len__(self) -> int:
        """Positions, including those of names since changed."""
        return len(self.ids)

    @property
    def live(self) -> int:
        """Enterprises in the index."""
        return len(self.ids) - self._gone

    def position(self, enterprise_id: int) -> int | None:
        """The current position of an enterprise."""
        if self._position_of is None:
            self._position_of = {e: p for p, e in enumerate(self.ids) if self._alive[p]}
        return self._position_of.get(enterprise_id)

    def trade(self, position: int) -> str:
        found = self._trades.get(position)
        if found is None:
            found = self._trades[position] = trade_name(self.cores[position])
        return found

    def branch(self, position: int) -> bool:
        found = self._branches.get(position)
        if found is None:
            found = self._branches[position] = is_branch(self.names[position])
        return found

    def places(self, position: int) -> frozenset[str]:
        found = self._places.get(position)
        if found is None:
            found = self._places[position] = name_places(self.names[position])
        return found

    # --- reading ---------------------------------------------------------------------------

    def exact(self, core: str) -> list[int]:
        """Positions of the names of exactly this core."""
        code = np.int64(hash(core))
        low, high = (
            np.searchsorted(self._hashes, code),
            np.searchsorted(self._hashes, code, "right"),
        )
        found = [
            p for p in self._by_hash[low:high].tolist() if self.cores[p] == core and self._alive[p]
        ]
        return found + self._exact_beside.get(core, [])

    def _lists(self, core: str) -> list[tuple[int, int, int, int]]:
        """(size, key, start, end) of the postings of the core's pairs that some name holds,
        rarest first (ties by pair)."""
        keys = np.array([_key(p) for p in sorted(pairs(core))], dtype=np.uint64)
        starts, ends = self._rows.slices(keys)
        lists = []
        for key, start, end in zip(keys.tolist(), starts.tolist(), ends.tolist(), strict=True):
            size = end - start - self._gone_from.get(key, 0) + len(self._beside.get(key, ()))
            if size:
                lists.append((size, key, start, end))
        lists.sort()
        return lists

    def posting(self, pair: str) -> np.ndarray:
        """Positions of the names containing a pair (or a one-character core)."""
        key = _key(pair)
        starts, ends = self._rows.slices(np.array([key], dtype=np.uint64))
        return np.concatenate(self._posting(key, int(starts[0]), int(ends[0])))

    def _posting(self, key: int, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
        """A pair's positions in the compressed rows (ascending), and beside them."""
        found = self._rows.positions[start:end]
        if key in self._gone_from:
            found = found[self._alive[found]]
        return found, self._beside.get(key, _NONE)

    def candidates(
        self, core: str, limit: int = CANDIDATES, budget: int = READ_BUDGET
    ) -> list[int]:
        """Positions of the names of exactly this core, and of the ``limit`` names sharing
        the most of the query's rarest character pairs (ties: the smaller enterprise id)."""
        found = self.exact(core)
        # Rarest first: a name's trade name is usually rare, its industry words common;
        # common postings cost time, not recall.
        lists = self._lists(core)
        chosen: list[np.ndarray] = []
        total = 0
        for size, key, start, end in lists[:RARE_LISTS]:
            if chosen and total + size > budget:
                break
            chosen.extend(self._posting(key, start, end))
            total += size
        if not chosen:
            return found
        seen = set(found)
        return found + [p for p in self._most(chosen, limit).tolist() if p not in seen]

    def _most(self, runs: list[np.ndarray], limit: int) -> np.ndarray:
        """The ``limit`` positions in the most of the postings, ties by the smaller enterprise
        id. ``runs`` are each posting's part in the compressed rows and beside them."""
        if len(runs) == 2:  # one posting: each position once
            hits = None
        else:  # each posting's positions are distinct: ``counts[run] += 1`` counts exactly
            counts = _counts(len(self.ids))
            first = []
            for run in runs:
                first.append(run[counts[run] == 0])
                counts[run] += 1
            runs = first
            touched = np.concatenate(runs)
            hits = counts[touched]
            counts[touched] = 0
            if len(touched) <= limit:
                return touched
        size = sum(len(run) for run in runs)
        if size <= limit:
            return np.concatenate(runs)
        if hits is None:
            cut, above, need = 1, _NONE, limit
        else:
            # the fewest hits among the ``limit`` most: few levels (at most RARE_LISTS)
            levels = np.bincount(hits)
            from_top = np.cumsum(levels[::-1])
            cut = len(levels) - 1 - int(np.searchsorted(from_top, limit))
            above = touched[hits > cut]
            need = limit - len(above)
        # At the cut, the smallest ids: a part in the compressed rows, ordered by id,
        # offers its first ``need``; beside them, every one.
        pool = []
        offset = 0
        for i, run in enumerate(runs):
            level = run if hits is None else run[hits[offset : offset + len(run)] == cut]
            offset += len(run)
            pool.append(level[:need] if i % 2 == 0 and self._ordered else level)
        candidates = np.concatenate(pool)
        if len(candidates) > need:
            candidates = candidates[np.argpartition(self._id_of[candidates], need - 1)[:need]]
        return np.concatenate([above, candidates])

    def beginning_with(self, prefix: str) -> np.ndarray:
        """Positions of the cores that begin with ``prefix`` (two characters or more)."""
        keys, owners = self._rows.leading_keys, self._rows.leading_owners
        key = np.uint64((ord(prefix[0]) << 32) | ord(prefix[1]))
        low, high = np.searchsorted(keys, [key, key + np.uint64(1)])
        found = owners[low:high]
        if self._gone:
            found = found[self._alive[found]]
        newer = self._leading_beside.get(prefix[:2])
        if newer:
            found = np.concatenate([found, np.array(newer, dtype=np.int32)])
        if len(prefix) > 2:
            found = found[[self.cores[p].startswith(prefix) for p in found.tolist()]]
        return found

    # --- changing --------------------------------------------------------------------------

    def updated(self, rows: Iterable[Row | tuple[int, str, str, str | None]]) -> "LinkIndex":
        """A new index with these enterprises added, or changed (name, core or district);
        rows the index already holds as they are change nothing. This index stays as it
        was."""
        changed: dict[int, Row] = {}
        names, cores, districts = self.names, self.cores, self.districts
        for raw in rows:
            at = self.position(raw[0])
            if at is not None and (
                names[at] == raw[1] and cores[at] == raw[2] and districts[at] == raw[3]
            ):
                continue  # unchanged: most rows a margin brings back
            changed[raw[0]] = Row(*raw)
        if not changed:
            return self
        positions = self._position_of
        assert positions is not None
        beside = len(self.ids) - self._rows.size + len(changed)
        if self._gone + beside > max(_COMPACT_MIN, _COMPACT_AT * len(self.ids)):
            kept = [
                Row(self.ids[p], self.names[p], self.cores[p], self.districts[p])
                for p in range(len(self.ids))
                if self._alive[p] and self.ids[p] not in changed
            ]
            kept = sorted([*kept, *changed.values()])  # by id
            return LinkIndex(*zip(*kept, strict=True)) if kept else LinkIndex([], [], [], [])
        new = LinkIndex.__new__(LinkIndex)
        new.__dict__.update(self.__dict__)
        new.ids, new.names = list(self.ids), list(self.names)
        new.cores, new.districts = list(self.cores), list(self.districts)
        new._alive = self._alive.copy()
        new._gone_from = dict(self._gone_from)
        new._leading_beside = {k: list(v) for k, v in self._leading_beside.items()}
        new._exact_beside = {k: list(v) for k, v in self._exact_beside.items()}
        new._position_of = dict(positions)
        beside_lists: dict[int, list[int]] = {k: v.tolist() for k, v in self._beside.items()}
        for row in changed.values():
            old = positions.get(row.id)
            if old is not None:
                new._alive[old] = False
                new._gone += 1
                if old < self._rows.size:
                    for pair in pairs(self.cores[old]):
                        key = _key(pair)
                        new._gone_from[key] = new._gone_from.get(key, 0) + 1
                else:
                    for pair in pairs(self.cores[old]):
                        beside_lists[_key(pair)].remove(old)
                    new._exact_beside[self.cores[old]].remove(old)
                    if len(self.cores[old]) >= 2:
                        new._leading_beside[self.cores[old][:2]].remove(old)
            at = len(new.ids)
            new.ids.append(row.id)
            new.names.append(row.name)
            new.cores.append(row.core)
            new.districts.append(row.district)
            new._position_of[row.id] = at
            for pair in sorted(pairs(row.core)):
                beside_lists.setdefault(_key(pair), []).append(at)
            new._exact_beside.setdefault(row.core, []).append(at)
            if len(row.core) >= 2:
                new._leading_beside.setdefault(row.core[:2], []).append(at)
        new._alive = np.concatenate([new._alive, np.ones(len(changed), dtype=bool)])
        new._id_of = np.asarray(new.ids, dtype=np.int64)
        new._exact_beside = {k: v for k, v in new._exact_beside.items() if v}
        new._beside = {k: np.array(v, dtype=np.int32) for k, v in beside_lists.items() if v}
        new._leading_beside = {k: v for k, v in new._leading_beside.items() if v}
        return new
