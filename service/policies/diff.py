"""What a re-evaluation changes, found with arrays: the engine's result (``Found``) against
the stored entitlements of the same policies' periods (``Stored``), matched by (enterprise,
policy) through one sort and a binary search (a library-wide run compares a million of each).
Pure: no database.

- new: found and not stored;
- changed: found and stored with another amount or version, or stored lapsed (found again:
  revived);
- gone: stored current and no longer found (the job lapses it unless the office awarded it)."""

from dataclasses import dataclass

import numpy as np


@dataclass
class Found:
    """Who is entitled to what: one row per entitlement; ``policy`` is the place of the
    policy's code in ``codes`` (and of its period in ``periods``)."""

    codes: list[str]
    periods: list[str]
    enterprise: np.ndarray  # int64 ids
    policy: np.ndarray  # int32
    version: np.ndarray  # int32
    amount: np.ndarray  # int64 fen

    def __len__(self) -> int:
        return len(self.enterprise)


@dataclass
class Stored:
    """The stored entitlements of ``Found``'s policies and periods, in the same coding."""

    id: np.ndarray  # int64
    enterprise: np.ndarray  # int64
    policy: np.ndarray  # int32
    version: np.ndarray  # int32
    amount: np.ndarray  # int64
    current: np.ndarray  # bool: current (else lapsed)

    def __len__(self) -> int:
        return len(self.id)

    @staticmethod
    def empty() -> "Stored":
        i64, i32 = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32)
        return Stored(i64, i64, i32, i32, i64, np.zeros(0, dtype=bool))


@dataclass
class Difference:
    new: np.ndarray  # places in Found
    changed: np.ndarray  # places in Found …
    changed_stored: np.ndarray  # … and of the same entitlement in Stored
    revived: int  # how many of the changed were lapsed
    gone: np.ndarray  # places in Stored


def difference(found: Found, stored: Stored) -> Difference:
    width = np.int64(max(len(found.codes), 1))
    have = stored.enterprise.astype(np.int64) * width + stored.policy.astype(np.int64)
    want = found.enterprise.astype(np.int64) * width + found.policy.astype(np.int64)
    order = np.argsort(have, kind="stable")
    have_sorted = have[order]
    if len(have_sorted):
        at = np.minimum(np.searchsorted(have_sorted, want), len(have_sorted) - 1)
        hit = have_sorted[at] == want
    else:
        at = np.zeros(len(want), dtype=np.intp)
        hit = np.zeros(len(want), dtype=bool)
    matched_found = np.flatnonzero(hit)
    matched_stored = order[at[hit]]
    lapsed = ~stored.current[matched_stored]
    differs = (
        lapsed
        | (stored.amount[matched_stored].astype(np.int64) != found.amount[matched_found])
        | (stored.version[matched_stored].astype(np.int64) != found.version[matched_found])
    )
    kept = np.zeros(len(stored), dtype=bool)
    kept[matched_stored] = True
    return Difference(
        new=np.flatnonzero(~hit),
        changed=matched_found[differs],
        changed_stored=matched_stored[differs],
        revived=int(lapsed.sum()),
        gone=np.flatnonzero(~kept & stored.current.astype(bool)),
    )
