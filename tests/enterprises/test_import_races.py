"""Commits of one import on real, separate connections: only one applies; and what matching
hears of an import."""

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, select
from sqlmodel import Session

from service.access.audit import SYSTEM
from service.access.models import AuditEntry
from service.enterprises import import_service
from service.enterprises.models import Enterprise, ImportKind, LibraryImport
from service.jobs.models import Job, JobStatus
from service.matching import bulk
from service.matching.rematch import ENTERPRISE_CHANGED
from tests.factories import credit_code


@pytest.fixture
def committed(engine: Engine) -> Iterator[dict[str, list]]:
    """What the test commits; removed afterwards."""
    made: dict[str, list] = {"codes": [], "imports": []}
    yield made
    with Session(engine) as session:
        ids = list(
            session.scalars(
                select(Enterprise.id).where(Enterprise.credit_code.in_(made["codes"]))  # type: ignore[attr-defined]
            )
        )
        session.execute(delete(AuditEntry).where(AuditEntry.enterprise_id.in_(ids)))  # type: ignore[union-attr]
        session.execute(delete(Job).where(Job.key.in_([str(i) for i in ids])))  # type: ignore[union-attr]
        session.execute(delete(Enterprise).where(Enterprise.id.in_(ids)))  # type: ignore[union-attr]
        session.execute(delete(LibraryImport).where(LibraryImport.id.in_(made["imports"])))  # type: ignore[union-attr]
        session.commit()


def _file(codes: list[str]) -> bytes:
    lines = ["统一社会信用代码,企业名称,资质"]
    lines += [f"{c},无锡并发{i}有限公司,高新技术企业 2024-12-01" for i, c in enumerate(codes)]
    return "\n".join(lines).encode()


def test_two_commits_of_one_import_apply_once(engine: Engine, committed: dict) -> None:
    codes = [credit_code() for _ in range(30)]
    committed["codes"] += codes
    from service.main import wire

    wire()
    with Session(engine, expire_on_commit=False) as session:
        record = import_service.preview_import(
            session, SYSTEM, ImportKind.enterprise, _file(codes), "a.csv"
        )
    committed["imports"].append(record.id)
    # SQLite may give a new row the id of one deleted earlier (another test's enterprise,
    # whose audit entries stay): count only the entries written from here on.
    with Session(engine) as session:
        last_entry = session.scalar(select(func.max(AuditEntry.id))) or 0
    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]

    def run(i: int) -> None:
        with Session(engine, expire_on_commit=False) as session:
            barrier.wait()
            try:
                done = import_service.commit_import(
                    session, SYSTEM, ImportKind.enterprise, record.id
                )
                results[i] = (done.status, done.applied)
            except Exception as exc:  # noqa: BLE001 - the test reports whatever happened
                results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert results[0] == results[1], results
    assert results[0][0] == "committed" and results[0][1]["create"] == 30
    with Session(engine) as session:
        count = session.scalar(
            select(func.count()).select_from(Enterprise).where(Enterprise.credit_code.in_(codes))  # type: ignore[attr-defined]
        )
        assert count == 30
        ids = list(
            session.scalars(select(Enterprise.id).where(Enterprise.credit_code.in_(codes)))  # type: ignore[attr-defined]
        )
        entries = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(
                AuditEntry.enterprise_id.in_(ids),  # type: ignore[union-attr]
                AuditEntry.subject_type == "enterprise",
                AuditEntry.id > last_entry,  # type: ignore[operator]
            )
        )
        assert entries == 30  # one create each, not two
        queued = session.scalar(
            select(func.count())
            .select_from(Job)
            .where(
                Job.kind == ENTERPRISE_CHANGED,
                Job.key.in_([str(i) for i in ids]),  # type: ignore[union-attr]
                Job.status == JobStatus.queued,
            )
        )
        # Matching hears of each enterprise once, in bulk: one queued job each (a job another
        # test left queued under a reused id is that one, brought forward, not a second).
        assert queued == 30


def test_matching_hears_of_a_large_import_as_one_full_rematch(
    client: Any, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "FULL_REMATCH_ABOVE", 2)
    record = client.post(
        "/api/v1/enterprises/imports",
        files={"file": ("a.csv", _file([credit_code() for _ in range(3)]))},
    ).json()
    assert client.post(f"/api/v1/enterprises/imports/{record['id']}/commit").status_code == 200
    kinds = [j.kind for j in session.scalars(select(Job))]  # queued, or run after the answer
    assert bulk.LIBRARY_CHANGED in kinds
