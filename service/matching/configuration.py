"""Use cases of the scoring configuration: the version in force and any other, the list of
versions, the purpose tree in force, and a new version put in force (the office; its settings
checked: weights naming the factors and adding up to 100, values between 0 and 1, a purpose tree
without unknown parents or cycles, area-code prefixes as regions). Every stored match is
recomputed with a new version by a job."""

from sqlmodel import Session

from service.access.models import Role
from service.access.policy import (
    Principal,
    require,
)
from service.core.database import serialize
from service.core.models import today_local
from service.core.pagination import Page, PageParams, cursor_key, make_page
from service.jobs.service import enqueue
from service.matching import facts, queries, scoring
from service.matching.exceptions import (
    InvalidScoringConfig,
    ScoringConfigNotFound,
)
from service.matching.models import ScoringConfigRow
from service.matching.queries import config_version_in_force
from service.matching.rematch import CONFIG_CHANGED
from service.matching.schemas import (
    PurposeOut,
    ScoringConfigCreate,
    ScoringConfigPublic,
    ScoringSettings,
)

TIERS = ("landmark", "advantage", "future", "none")
SIZES = ("micro", "small", "medium", "large", "unknown")


def _config_public(row: ScoringConfigRow, in_force: int | None) -> ScoringConfigPublic:
    return ScoringConfigPublic(
        version=row.version,
        config=row.config,
        note=row.note,
        created_at=row.created_at,
        in_force=row.version == in_force,
    )


def purposes(session: Session) -> list[PurposeOut]:
    """The purpose tree of the configuration in force, parents before their children."""
    config = facts.current_config(session, today_local())
    out = [
        PurposeOut(
            code=code,
            name=name,
            parent=parent,
            accepted_by=[code, *sorted(config.purpose_ancestors(code))],
        )
        for code, (name, parent) in config.purposes.items()
    ]
    depth = {p.code: len(p.accepted_by) for p in out}
    return sorted(out, key=lambda p: (depth[p.code], list(config.purposes).index(p.code)))


def scoring_config(session: Session, version: int | None = None) -> ScoringConfigPublic:
    """A version of the scoring configuration; the one in force (the newest) by default."""
    in_force = config_version_in_force(session)
    wanted = in_force if version is None else version
    row = session.get(ScoringConfigRow, wanted) if wanted is not None else None
    if row is None:
        raise ScoringConfigNotFound(f"评分配置版本 {version} 不存在。")
    return _config_public(row, in_force)


def list_scoring_configs(session: Session, page: PageParams) -> Page[ScoringConfigPublic]:
    """Newest first."""
    key = cursor_key(page, 1, (int,))
    rows = queries.config_page(session, key[0] if key else None, page.limit)
    in_force = config_version_in_force(session)
    result = make_page(rows, page.limit, lambda r: [r.version])
    result.items = [_config_public(r, in_force) for r in result.items]
    return result


def _check_settings(settings: ScoringSettings) -> dict:
    data = settings.model_dump()
    problems = []
    if sorted(data["weights"]) != sorted(scoring.FACTORS):
        problems.append(("weights", f"权重须且只须包含 {', '.join(scoring.FACTORS)}。"))
    elif min(data["weights"].values()) < 0 or sum(data["weights"].values()) != 100:
        problems.append(("weights", "各项权重不能为负，且合计须为 100。"))
    for field, names in (("tier_value", TIERS), ("size_value", SIZES)):
        values = data[field]
        if sorted(values) != sorted(names):
            problems.append((field, f"{field} 须且只须包含 {', '.join(names)}。"))
        elif not all(0 <= v <= 1 for v in values.values()):
            problems.append((field, f"{field} 的取值须在 0 到 1 之间。"))
    if data["spread_best_bp"] >= data["spread_worst_bp"]:
        problems.append(("spread_best_bp", "spread_best_bp 须小于 spread_worst_bp。"))
    for code in data["policy_schemes"]:
        if not code or len(code) > 32:
            problems.append(("policy_schemes", f"政策优先方案代码 '{code}' 无效。"))
    purposes = data["purposes"]
    for code, node in purposes.items():
        parent = node["parent"]
        if parent is not None and parent not in purposes:
            problems.append(("purposes", f"用途 {code} 的上级 {parent} 不在用途表中。"))
    if not problems:
        try:
            facts.config_from_dict(0, data, {})
        except ValueError as exc:
            problems.append(("purposes", f"用途表有误：{exc}。"))
    for prefix in data["regions"]:
        if not (prefix.isascii() and prefix.isdigit() and 2 <= len(prefix) <= 6):
            problems.append(("regions", f"地区 '{prefix}' 应为行政区划代码的前 2–6 位数字。"))
    if problems:
        field, message = problems[0]
        raise InvalidScoringConfig(
            message,
            field=field,
            errors=[{"field": f, "message": m} for f, m in problems],
        )
    return data


def create_scoring_config(
    session: Session, data: ScoringConfigCreate, principal: Principal
) -> ScoringConfigPublic:
    """Put a new version in force (the office); every stored match is recomputed with it by a
    job."""
    require(principal, Role.office)
    config = _check_settings(data.config)
    serialize(session, "matching.scoring_config")  # two creates get consecutive versions
    version = (config_version_in_force(session) or 0) + 1
    row = ScoringConfigRow(version=version, config=config, note=data.note)
    session.add(row)
    session.flush()
    enqueue(session, CONFIG_CHANGED, {"version": version}, key="all")
    session.commit()
    return _config_public(row, version)
