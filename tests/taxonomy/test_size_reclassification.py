"""A database seeded with an older size table: `finmatch seed` brings the table in line with
seed/reference/size_standards.json and classifies the stored enterprises again with it."""

from sqlmodel import Session, col, delete, select

from service.enterprises.models import Enterprise
from service.enterprises.schemas import EnterpriseCreate
from service.enterprises.service import create_enterprise
from service.jobs.models import Job
from service.seeding import seed_reference
from service.taxonomy.models import SizeIndustry
from tests.factories import enterprise_payload

# The rows as an earlier seed file had them: all of section Q under 其他未列明行业, and 装卸搬运
# (591) left to 仓储业.
OLD_SCOPES = {
    "other": ["M", "N", "O", "Q", "R", "703", "709"],
    "transport": ["54", "55", "56", "57", "58"],
}


def _enterprise(session: Session, industry_code: str, employees: int, revenue_wan: int) -> int:
    data = enterprise_payload(
        industry_code=industry_code,
        cluster_code=None,
        employees=employees,
        revenue_fen=revenue_wan * 1_000_000,
    )
    return create_enterprise(session, EnterpriseCreate.model_validate(data)).id  # type: ignore[return-value]


def test_reseeding_a_changed_size_table_reclassifies_stored_enterprises(session: Session) -> None:
    for key, scope in OLD_SCOPES.items():
        row = session.get(SizeIndustry, key)
        assert row is not None
        row.gbt_scope = scope
    session.commit()
    hospital = _enterprise(session, "Q8411", 500, 8000)  # 综合医院
    care_home = _enterprise(session, "Q8514", 150, 100)  # 老年人、残疾人养护服务 (社会工作)
    stevedores = _enterprise(session, "G5910", 250, 2000)  # 装卸搬运
    factory = _enterprise(session, "C3973", 120, 8000)
    before = {
        e.id: (e.size_class, e.size_industry_key, e.version)
        for e in session.exec(select(Enterprise)).all()
    }
    assert before[hospital][:2] == ("large", "other")  # the old table's mistake
    assert before[stevedores][:2] == ("medium", "warehousing")
    # (creating them may have queued their rematch already, if the app's events are wired)
    session.exec(delete(Job).where(col(Job.kind) == "matching.enterprise_changed"))

    counts = seed_reference(session)

    assert counts["size_industry.updated"] == 2
    assert counts["enterprise.updated"] == 2
    session.expire_all()
    after = {e.id: e for e in session.exec(select(Enterprise)).all()}
    assert (after[hospital].size_class, after[hospital].size_industry_key) == (None, None)
    assert after[hospital].version == before[hospital][2] + 1
    assert (after[stevedores].size_class, after[stevedores].size_industry_key) == (
        "small",
        "transport",
    )
    for unchanged in (care_home, factory):
        e = after[unchanged]
        assert (e.size_class, e.size_industry_key, e.version) == before[unchanged]
    assert before[care_home][:2] == ("medium", "other")
    # both reclassified enterprises are rematched by a queued job
    assert _queued(session) == {str(hospital), str(stevedores)}

    assert seed_reference(session)["enterprise.updated"] == 0  # once in line, nothing more


def _queued(session: Session) -> set[str]:
    jobs = session.exec(
        select(Job).where(Job.kind == "matching.enterprise_changed", Job.status == "queued")
    ).all()
    return {j.key for j in jobs if j.key}
