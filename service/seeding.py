"""`finmatch seed`: reference data and the demo library from seed/. Idempotent: a second run
changes nothing.

Reference tables (clusters, districts, qualification types, ownership types, the size table)
follow the files: a row that differs is updated. Banks, products, LPR and the demo library are
only added when missing, and so is whether an ownership type counts as 民营: the office
maintains them through the API afterwards, and a re-seed must not undo it.

An enterprise's size class is stored (products filter on it, renewals depend on it), so when
the size table changes every stored enterprise is classified again in the same transaction;
those whose class changes get a new version and are rematched (their open needs at once,
their stored matches by a queued job)."""

import json
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlmodel import Session, col, select

from service.appeals.models import AppealCategory, Department
from service.core.concurrency import bump_version
from service.core.settings import project_root
from service.demo_activity import seed_demo_activity
from service.demo_people import seed_demo_people
from service.demo_policies import seed_demo_policies
from service.demo_requests import seed_demo_requests
from service.enterprises import service as enterprises
from service.enterprises.models import Enterprise, Project
from service.enterprises.projects import create_project
from service.enterprises.schemas import EnterpriseCreate, ProjectCreate
from service.matching.models import ScoringConfigRow
from service.matching.rematch import on_enterprise_changed
from service.policies.reference import seed_policies
from service.products import queries as product_queries
from service.products import service as products
from service.products.models import Bank
from service.products.schemas import BankCreate, ProductCreate
from service.taxonomy.models import (
    TIER_RANK,
    Cluster,
    District,
    LprRate,
    OwnershipType,
    QualificationType,
    SizeIndustry,
    SizeThreshold,
    Tier,
)
from service.taxonomy.service import load_size_rows
from service.taxonomy.sizing import Figures, SizeRow, classify, find_row


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _upsert(
    session: Session,
    model: Any,
    key: dict[str, Any],
    values: dict[str, Any],
    counts: Counter,
    table: str,
) -> None:
    row = session.get(model, tuple(key.values()) if len(key) > 1 else next(iter(key.values())))
    if row is None:
        session.add(model(**key, **values))
        counts[f"{table}.created"] += 1
        return
    changed = False
    for field, value in values.items():
        if getattr(row, field) != value:
            setattr(row, field, value)
            changed = True
    counts[f"{table}.updated" if changed else f"{table}.unchanged"] += 1


def seed_reference(session: Session, seed_dir: Path | None = None) -> Counter:
    counts: Counter = Counter()
    seed_dir = seed_dir or project_root() / "seed"
    ref = seed_dir / "reference"
    for item in _load(ref / "clusters.json"):
        item = dict(item)
        code = item.pop("code")
        if item["tier"] not in Tier.__members__:
            raise ValueError(f"cluster {code}: unknown tier {item['tier']}")
        item.setdefault("tier_rank", TIER_RANK[Tier(item["tier"])])
        _upsert(session, Cluster, {"code": code}, item, counts, "cluster")
    for item in _load(ref / "districts.json"):
        item = dict(item)
        _upsert(session, District, {"code": item.pop("code")}, item, counts, "district")
    for item in _load(ref / "qualification_types.json"):
        item = dict(item)
        _upsert(
            session,
            QualificationType,
            {"code": item.pop("code")},
            item,
            counts,
            "qualification_type",
        )
    for item in _load(ref / "ownership_types.json"):
        item = dict(item)
        code = item.pop("code")
        if session.get(OwnershipType, code) is not None:
            item.pop("private")  # the office's decision once the type exists
        _upsert(session, OwnershipType, {"code": code}, item, counts, "ownership_type")
    for item in _load(ref / "size_standards.json"):
        item = dict(item)
        key = item.pop("key")
        thresholds = item.pop("thresholds")
        _upsert(session, SizeIndustry, {"key": key}, item, counts, "size_industry")
        session.flush()
        for size_class, bounds in thresholds.items():
            _upsert(
                session,
                SizeThreshold,
                {"industry_key": key, "size_class": size_class},
                bounds,
                counts,
                "size_threshold",
            )
    size_changed = any(counts[f"{t}.{s}"] for t in SIZE_TABLES for s in ("created", "updated"))
    if size_changed and (reclassified := reclassify_enterprises(session)):
        counts["enterprise.updated"] += reclassified
    for item in _load(ref / "lpr.json"):
        pk = (date.fromisoformat(item["effective_date"]), item["tenor"])
        if session.get(LprRate, pk) is None:
            session.add(LprRate(effective_date=pk[0], tenor=pk[1], rate_bp=item["rate_bp"]))
            counts["lpr_rate.created"] += 1
        else:
            counts["lpr_rate.unchanged"] += 1
    scoring = _load(ref / "scoring.json")
    row = session.get(ScoringConfigRow, scoring["version"])
    config = {k: v for k, v in scoring.items() if k not in ("version", "note")}
    if row is None:
        session.add(
            ScoringConfigRow(version=scoring["version"], config=config, note=scoring.get("note"))
        )
        counts["scoring_config.created"] += 1
    else:
        counts["scoring_config.unchanged"] += 1
    _seed_appeal_reference(session, ref, counts)
    session.flush()
    seed_policies(session, _load(ref / "policies.json"), counts)
    session.commit()
    banks_file, products_file = ref / "banks.json", ref / "products.json"
    if banks_file.exists():
        for item in _load(banks_file):
            data = BankCreate.model_validate(item)
            if session.get(Bank, data.code) is None:
                products.create_bank(session, data)
                counts["bank.created"] += 1
            else:
                counts["bank.unchanged"] += 1
    if products_file.exists():
        for item in _load(products_file):
            product = ProductCreate.model_validate(item)
            if product_queries.product_by_code(session, product.code) is None:
                products.create_product(session, product)
                counts["product.created"] += 1
            else:
                counts["product.unchanged"] += 1
    return counts


SIZE_TABLES = ("size_industry", "size_threshold")


def _seed_appeal_reference(session: Session, ref: Path, counts: Counter) -> None:
    """Departments and request categories: added when missing only, as the office keeps
    them (renames, due days, inactive departments) through the API."""
    for model, name, table in (
        (Department, "departments.json", "department"),
        (AppealCategory, "appeal_categories.json", "appeal_category"),
    ):
        for item in _load(ref / name):
            if session.get(model, item["code"]) is None:
                session.add(model(**item))
                counts[f"{table}.created"] += 1
            else:
                counts[f"{table}.unchanged"] += 1


def reclassify_enterprises(session: Session) -> int:
    """Classify every stored enterprise again with the size table as it now is (flushed, not
    yet committed); returns how many changed class. Does not commit."""
    table = load_size_rows(session)
    rows_of: dict[str, list[SizeRow]] = {}  # industry code -> the one row that applies
    changed: list[tuple[int, str | None, str | None]] = []
    stored = session.execute(
        sqlalchemy.select(
            col(Enterprise.id),
            col(Enterprise.industry_code),
            col(Enterprise.employees),
            col(Enterprise.revenue_fen),
            col(Enterprise.total_assets_fen),
            col(Enterprise.size_class),
            col(Enterprise.size_industry_key),
        )
    ).all()
    for id_, code, employees, revenue, assets, size_class, industry_key in stored:
        rows = table
        if code:
            if code not in rows_of:
                row = find_row(code, table)
                rows_of[code] = [row] if row else table  # outside: the reason reads them all
            rows = rows_of[code]
        result = classify(code, Figures(employees, revenue, assets), rows)
        if (result.size_class, result.industry_key) != (size_class, industry_key):
            changed.append((id_, result.size_class, result.industry_key))
    for id_, size_class, industry_key in changed:
        enterprise = session.get(Enterprise, id_)
        assert enterprise is not None
        enterprise.size_class, enterprise.size_industry_key = size_class, industry_key
        bump_version(session, Enterprise, enterprise, "企业信息")
        # What the enterprise.changed event does once the app is wired; the seed runs unwired
        # (creating its products and demo library queues nothing), so it asks matching itself.
        on_enterprise_changed(session, id_)
    return len(changed)


def seed_demo(session: Session, seed_dir: Path | None = None) -> Counter:
    """The demo library (seed/demo, written by `finmatch synth --out`) through the create use
    cases, as the office: an enterprise that signed a 入库申报 form has its choice recorded from
    the form (``access.policy.record_consent``), the others none; a project keeps the
    key-project list it is on. Then half a year of needs and leads (``demo_activity``)."""
    counts: Counter = Counter()
    seed_dir = seed_dir or project_root() / "seed"
    demo = seed_dir / "demo"
    ids: dict[str, int] = {}
    for item in _load(demo / "enterprises.json"):
        data = EnterpriseCreate.model_validate(item)
        existing = session.exec(
            select(Enterprise).where(Enterprise.credit_code == data.credit_code)
        ).first()
        if existing is None:
            existing = enterprises.create_enterprise(session, data)
            counts["enterprise.created"] += 1
        else:
            counts["enterprise.unchanged"] += 1
        ids[existing.credit_code] = existing.id  # type: ignore[assignment]
    for item in _load(demo / "projects.json"):
        item = dict(item)
        enterprise_id = ids.get(item.pop("enterprise_credit_code"))
        if enterprise_id is None:
            counts["project.skipped"] += 1
            continue
        exists = session.exec(
            select(Project).where(
                Project.enterprise_id == enterprise_id, Project.name == item["name"]
            )
        ).first()
        if exists is not None:
            counts["project.unchanged"] += 1
            continue
        create_project(
            session, ProjectCreate.model_validate({**item, "enterprise_id": enterprise_id})
        )
        counts["project.created"] += 1
    counts.update(_seed_demo_keys(session, next(iter(ids.values()), None)))
    counts.update(seed_demo_people(session, next(iter(ids.values()), None)))
    counts.update(_seed_demo_loans(session, list(ids)[:6]))
    counts.update(seed_demo_activity(session))
    counts.update(seed_demo_requests(session))
    counts.update(seed_demo_policies(session))
    return counts


# Days from the seeding day to each demo loan's maturity: some inside the reminder window,
# so that the demo shows reminders and renewal cases at once.
DEMO_MATURITY_DAYS = (6, 13, 25, 40, 75, 200)


def _seed_demo_loans(session: Session, credit_codes: list[str]) -> Counter:
    """A few loans of the demo bank to its demo borrowers, through the import path, once:
    maturities are set from the first seeding day and then left alone."""
    from service.access.audit import SYSTEM
    from service.core.models import today_local
    from service.loans.import_service import import_loans
    from service.loans.models import Loan
    from service.loans.reminders import run_reminders

    counts: Counter = Counter()
    if session.exec(select(Loan).where(Loan.contract_no.startswith("DEMO-"))).first():
        counts["loan.unchanged"] += 1
        return counts
    today = today_local()
    lines = ["合同编号,统一社会信用代码,本金（万元）,年利率(%),放款日,到期日,贷款类型"]
    for i, (code, days) in enumerate(zip(credit_codes, DEMO_MATURITY_DAYS, strict=False)):
        maturity = today + timedelta(days=days)
        kind = "项目贷款" if i == 4 else "流动资金"
        lines.append(
            f"DEMO-{i + 1:03d},{code},{(i + 1) * 300},{3.10 + i * 0.15:.2f},"
            f"{maturity - timedelta(days=365)},{maturity},{kind}"
        )
    report = import_loans(
        session, SYSTEM, "\n".join(lines).encode(), "demo.csv", DEMO_BANK, dry_run=False
    )
    counts["loan.created"] += report.created
    run = run_reminders(session, today, trigger="seed")
    counts["reminder.created"] += run.reminders
    return counts


# Published in README for trying the demo; only `seed --demo` installs them.
DEMO_KEYS = {
    "office": "fmk_demooffice_demo-office-key-for-local-trials-only",
    "bank": "fmk_demobank01_demo-bank-key-for-local-trials-only",
    "enterprise": "fmk_demoent001_demo-enterprise-key-for-local-trials-only",
}
DEMO_BANK = "jsbank-wx"


def _seed_demo_keys(session: Session, enterprise_id: int | None) -> Counter:
    from service.access.models import Role
    from service.access.service import install_key

    counts: Counter = Counter()
    holders = {
        "office": (Role.office, None, None),
        "bank": (Role.bank, DEMO_BANK, None),
        "enterprise": (Role.enterprise, None, enterprise_id),
    }
    for name, key in DEMO_KEYS.items():
        role, bank_code, owner = holders[name]
        if role == Role.enterprise and owner is None:
            continue
        added = install_key(session, key, role, f"演示 {name}", bank_code, owner)
        counts["api_key.created" if added else "api_key.unchanged"] += 1
    session.commit()
    return counts
