"""scoring configuration version 2: policy priority, industry fit, purpose tree, regions

Data only; no table changes.

- scoring_config: where the configuration in force predates the policy and industry factors,
  a new version is put in force with them (the seeded weights when the office never changed
  the old ones; otherwise the office's weights scaled to the 70 points left), the purpose
  tree, the policy schemes, region names, the qualifications an enterprise can apply for and
  the bridge fund's window. A full rematch job is queued, which the next worker or API
  process runs (`finmatch match --all` runs it at once).
- The catalogue's seeded products get a new version carrying the rules the new scoring reads:
  苏科贷 for Jiangsu-registered enterprises, the 江阴 and 宜兴 banks' products for their
  county, target industries (manufacturing for equipment and 技改 loans), the purpose tree's
  codes (a manufacturing medium/long-term loan funds fixed-asset projects), and the
  government guarantee that 政府性融资担保贷 asks for. A product the office has changed
  keeps the office's purposes and collateral; the new eligibility keys did not exist before,
  so adding them overwrites nothing.

Downgrade removes what the older code cannot read: the new eligibility keys, the new purpose
and collateral codes (mapped to the nearest old ones) and the configuration versions with the
new factors.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 23:00:00
"""
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_FACTORS = ('sector', 'size', 'need', 'qualification', 'cost')
OLD_SEEDED_WEIGHTS = {'sector': 30, 'size': 15, 'need': 25, 'qualification': 15, 'cost': 15}
NEW_WEIGHTS = {
    'sector': 20, 'industry': 10, 'size': 10, 'need': 20,
    'qualification': 10, 'cost': 10, 'policy': 20,
}
NEW_SETTINGS: dict[str, Any] = {
    'near_miss_limit': 5,
    'policy_schemes': ['bridge_fund', 'xikedai', 'xixindai', 'zhuanjingtexin'],
    'purposes': {
        'project': {'name': '固定资产投资/项目建设', 'parent': None},
        'equipment': {'name': '设备购置', 'parent': 'project'},
        'tech_transformation': {'name': '技术改造', 'parent': 'project'},
        'working_capital': {'name': '流动资金', 'parent': None},
        'rnd': {'name': '研发投入', 'parent': None},
        'trade': {'name': '贸易融资', 'parent': None},
        'renewal': {'name': '续贷', 'parent': None},
        'bridge': {'name': '转贷（到期还贷周转）', 'parent': None},
    },
    'regions': {'32': '江苏省', '3202': '无锡市', '320281': '江阴市', '320282': '宜兴市'},
    'obtainable': {
        'innovative_sme': [], 'srdi_sme': ['innovative_sme'], 'little_giant': ['srdi_sme'],
        'high_tech': [], 'tech_sme': [], 'eaglet': [], 'gazelle': [],
        'tech_center': [], 'green_factory_provincial': [], 'green_factory_national': [],
    },
    'bridge_window_days': 30,
}
NOTE = '迁移：新增政策优先与行业契合因子、用途树、地区规则'

# code → (new eligibility keys, (old purposes, new purposes), (old collateral, new collateral))
_SUKEDAI = ({'regions': ['32']}, None, None)
PRODUCTS: dict[str, tuple[dict, tuple | None, tuple | None]] = {
    'jsbank-wx-sukedai-first': _SUKEDAI,
    'jsbank-wx-sukedai-repeat': _SUKEDAI,
    'jsbank-wx-sukedai-large': _SUKEDAI,
    'njbank-wx-sukedai-first': _SUKEDAI,
    'njbank-wx-sukedai-repeat': _SUKEDAI,
    'njbank-wx-sukedai-large': _SUKEDAI,
    'jyrcb-xiaowei-credit': ({'regions': ['320281']}, None, None),
    'jyrcb-mortgage': ({'regions': ['320281']}, None, None),
    'yxrcb-eco-credit': ({'regions': ['320282']}, None, None),
    'abc-wx-zhizao-zcq': (
        {'industries_included': ['C']},
        (['working_capital', 'equipment'], ['project', 'working_capital']),
        None,
    ),
    'icbc-wx-jigaidai': (
        {'industries_targeted': ['C']},
        (['equipment', 'project'], ['tech_transformation', 'equipment']),
        None,
    ),
    'hxb-wx-equipment': (
        {'industries_targeted': ['C']}, (['equipment'], ['equipment', 'tech_transformation']), None
    ),
    'cib-wx-green': ({}, (['equipment', 'project'], ['project']), None),
    'ceb-wx-gov-guarantee': ({}, None, (['guarantee'], ['gov_guarantee'])),
    'boc-wx-ip-pledge': ({'industries_targeted': ['C', 'I', 'M']}, None, None),
    'spdb-wx-ip-pledge': ({'industries_targeted': ['C', 'I', 'M']}, None, None),
    'cmb-wx-receivables': ({'industries_targeted': ['C', 'F']}, None, None),
    'citic-wx-order-finance': ({'industries_targeted': ['C', 'F']}, None, None),
    'czb-wx-receivables-pool': ({'industries_targeted': ['C', 'F']}, None, None),
}
NEW_ELIGIBILITY_KEYS = ('industries_included', 'industries_targeted', 'regions', 'ownership_types')
OLD_PURPOSE = {'tech_transformation': 'equipment', 'bridge': 'renewal'}
OLD_COLLATERAL = {'gov_guarantee': 'guarantee'}


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _now() -> datetime:
    return datetime.now(UTC)


def _tables(bind: sa.Connection) -> dict[str, sa.Table]:
    meta = sa.MetaData()
    return {
        name: sa.Table(name, meta, autoload_with=bind)
        for name in ('scoring_config', 'product', 'product_version', 'job', 'financing_need')
    }


def _scaled(weights: dict[str, int]) -> dict[str, int]:
    """The office's five weights scaled to 70 points (largest remainders), with industry 10
    and policy 20."""
    total = sum(weights.get(f, 0) for f in OLD_FACTORS) or 1
    exact = {f: weights.get(f, 0) * 70 / total for f in OLD_FACTORS}
    out = {f: int(v) for f, v in exact.items()}
    for f in sorted(OLD_FACTORS, key=lambda f: out[f] - exact[f])[: 70 - sum(out.values())]:
        out[f] += 1
    return {**out, 'industry': 10, 'policy': 20}


def upgrade() -> None:
    bind = op.get_bind()
    t = _tables(bind)
    config = t['scoring_config']
    row = bind.execute(
        sa.select(config.c.version, config.c.config).order_by(config.c.version.desc()).limit(1)
    ).first()
    if row is not None:
        current = _json(row.config)
        if 'policy' not in current.get('weights', {}):
            weights = current.get('weights', {})
            new = {
                **current,
                **NEW_SETTINGS,
                'weights': dict(NEW_WEIGHTS) if weights == OLD_SEEDED_WEIGHTS else _scaled(weights),
            }
            version = row.version + 1
            bind.execute(
                config.insert().values(version=version, config=new, note=NOTE, created_at=_now())
            )
            _queue_rematch(bind, t['job'], version)
    _upgrade_products(bind, t['product'], t['product_version'])


def _queue_rematch(bind: sa.Connection, job: sa.Table, version: int) -> None:
    queued = bind.execute(
        sa.select(job.c.id).where(
            job.c.kind == 'matching.config_changed', job.c.key == 'all', job.c.status == 'queued'
        )
    ).first()
    if queued is None:
        now = _now()
        bind.execute(
            job.insert().values(
                kind='matching.config_changed',
                key='all',
                payload={'version': version},
                status='queued',
                attempts=0,
                run_after=now,
                created_at=now,
            )
        )


def _upgrade_products(bind: sa.Connection, product: sa.Table, version: sa.Table) -> None:
    rows = bind.execute(
        sa.select(product.c.id, product.c.code, product.c.current_version).where(
            product.c.code.in_(list(PRODUCTS))
        )
    ).all()
    columns = [c.name for c in version.columns if c.name != 'id']
    for product_id, code, current in rows:
        spec = bind.execute(
            sa.select(*[version.c[c] for c in columns]).where(
                version.c.product_id == product_id, version.c.version == current
            )
        ).mappings().first()
        if spec is None:
            continue
        keys, purposes, collateral = PRODUCTS[code]
        data = dict(spec)
        eligibility = dict(_json(data['eligibility']) or {})
        changed = False
        for key, value in keys.items():
            if not eligibility.get(key):
                eligibility[key] = value
                changed = True
        for key in NEW_ELIGIBILITY_KEYS:
            eligibility.setdefault(key, [])
        data['eligibility'] = eligibility
        for field, change in (('purposes', purposes), ('collateral_types', collateral)):
            if change and sorted(_json(data[field]) or []) == sorted(change[0]):
                data[field] = change[1]
                changed = True
            else:
                data[field] = _json(data[field])
        if not changed:
            continue
        now = _now()
        data.update(version=current + 1, created_at=now, rate=_json(data['rate']),
                    fees=_json(data['fees']))
        bind.execute(version.insert().values(**data))
        bind.execute(
            product.update()
            .where(product.c.id == product_id)
            .values(current_version=current + 1, updated_at=now)
        )


def downgrade() -> None:
    bind = op.get_bind()
    t = _tables(bind)
    config = t['scoring_config']
    for row in bind.execute(sa.select(config.c.version, config.c.config)).all():
        weights = _json(row.config).get('weights', {})
        if set(weights) - set(OLD_FACTORS):
            bind.execute(config.delete().where(config.c.version == row.version))
    version = t['product_version']
    for row in bind.execute(
        sa.select(version.c.id, version.c.eligibility, version.c.purposes,
                  version.c.collateral_types)
    ).all():
        eligibility = {
            k: v for k, v in (_json(row.eligibility) or {}).items()
            if k not in NEW_ELIGIBILITY_KEYS
        }
        purposes = list(dict.fromkeys(OLD_PURPOSE.get(p, p) for p in _json(row.purposes) or []))
        collateral = list(
            dict.fromkeys(OLD_COLLATERAL.get(c, c) for c in _json(row.collateral_types) or [])
        )
        bind.execute(
            version.update()
            .where(version.c.id == row.id)
            .values(eligibility=eligibility, purposes=purposes, collateral_types=collateral)
        )
    need = t['financing_need']
    for old_new, new_old in (('tech_transformation', 'equipment'), ('bridge', 'renewal')):
        bind.execute(need.update().where(need.c.purpose == old_new).values(purpose=new_old))
    for row in bind.execute(sa.select(need.c.id, need.c.collateral)).all():
        offered = _json(row.collateral) or []
        if 'gov_guarantee' in offered:
            mapped = list(dict.fromkeys(OLD_COLLATERAL.get(c, c) for c in offered))
            bind.execute(need.update().where(need.c.id == row.id).values(collateral=mapped))
