"""What ``bench/policy_eval.py`` adds to a synthetic library so that every support policy has
someone to find, and the set-based PostgreSQL evaluation of the award policies it is compared
with. It lives outside bench/*.py because it is no benchmark (scripts/bench-smoke runs every
bench/*.py).

The synthetic loader (``finmatch synth``) gives enterprises with ownership, registered area,
size, qualifications (高新, 科技型中小, 创新型 → 专精特新 → 小巨人, 雏鹰, 瞪羚, green factories …,
issued up to its ``AS_OF``) and projects (technology transformation among them, with equipment
investment, from 2024 on). It gives no loans, no green supply chain, green design, key lab or
key-project recognitions, few large transformation projects and no grants. ``add_facts`` adds
them with set-based SQL, deterministic (hashes of ids, no random state):

- qualifications of the types only the city's policies name, issued after 2024-01-29;
- a technology-transformation project of the previous year for one enterprise in fifty, its
  equipment investment spread log-uniformly over 500万–2亿 (the 1000万/3000万/1亿 tiers), some
  exactly on a tier's start;
- loans under the seeded catalogue's products (one in five with no product), working capital
  or project, 50万–2000万 at 2.5–4.5%, disbursed from 2025-01-01 to ``as_of``, maturing 6 or 12
  months later, a few repaid early;
- grants the office recorded under the city's policies: paid awards, and transformation
  support approved for earlier years (some at the 3-year limit) and part of this year.

``synthetic_policies`` gives the policies beyond the city's 9: interest subsidies over product
schemes, products, purposes, qualifications and sizes; awards for the other qualification
types (some with two versions); transformation variants. Every version's parameters pass
``Parameters``."""

import json
from datetime import date, timedelta
from typing import Any

import psycopg

from service.policies.parameters import Parameters
from service.policies.rules import WAN, Scheme
from service.policies.store import PolicyRules

START = date(2024, 1, 29)  # the city's plans: in force from this day


def _h(expr: str, salt: int) -> str:
    """A deterministic draw in [0, 2^32) from an integer expression."""
    return f"(hashint4(({expr})::int * 7 + {salt})::bigint + 2147483648)"


def add_facts(c: psycopg.Connection, loans: int, as_of: date) -> dict[str, int]:
    """Adds the facts the synthetic loader does not give (see the module); returns counts."""
    counts: dict[str, int] = {}
    c.execute(
        f"""
        INSERT INTO qualification (enterprise_id, type_code, issued_date, source, created_at)
        SELECT e.id, t.code, %(start)s::date + ({_h("e.id", 11)} %% %(days)s)::int,
               '基准测试补充', now()
        FROM enterprise e,
             (VALUES ('green_supply_chain_national', 4, 1), ('green_design_national', 3, 2),
                     ('key_lab_municipal', 2, 3), ('key_project', 25, 4)) AS t(code, per_mille, k)
        WHERE {_h("e.id + t.k * 1000003", 5)} %% 1000 < t.per_mille
        ON CONFLICT DO NOTHING
        """,
        {"start": START + timedelta(days=3), "days": (as_of - START).days - 3},
    )
    counts["qualifications"] = c.execute("SELECT count(*) FROM qualification").fetchone()[0]  # type: ignore[index]
    c.execute(
        f"""
        INSERT INTO project (enterprise_id, name, kind, total_investment_fen,
                             equipment_investment_fen, year, status, version, created_at,
                             updated_at)
        SELECT id, '生产线技术改造项目（基准）', 'tech_transformation', base * 14 / 10, base,
               %(year)s, 'completed', 1, now(), now()
        FROM (
            SELECT e.id,
                   CASE {_h("e.id", 23)} %% 40
                       WHEN 0 THEN 1000 * {WAN}::bigint WHEN 1 THEN 3000 * {WAN}::bigint
                       WHEN 2 THEN 10000 * {WAN}::bigint
                       ELSE (floor(exp(ln(500.0) + ln(40.0) * ({_h("e.id", 29)} %% 100000)
                                       / 100000.0)) * {WAN})::bigint
                   END AS base
            FROM enterprise e WHERE {_h("e.id", 17)} %% 50 = 0
        ) AS p
        """,
        {"year": as_of.year - 1},
    )
    counts["projects"] = c.execute("SELECT count(*) FROM project").fetchone()[0]  # type: ignore[index]
    c.execute(
        f"""
        INSERT INTO loan (bank_code, contract_no, enterprise_id, product_id, kind, principal_fen,
                          rate_bp, disbursed_date, maturity_date, closed_date, status, source,
                          version, created_at, updated_at)
        SELECT pr.banks[k], 'PE-' || g, en.ids[1 + {_h("g", 1)} %% cardinality(en.ids)],
               CASE WHEN {_h("g", 3)} %% 5 = 0 THEN NULL ELSE pr.ids[k] END,
               CASE WHEN {_h("g", 4)} %% 10 < 7 THEN 'working_capital' ELSE 'project' END,
               (50 + {_h("g", 5)} %% 1950) * {WAN}::bigint, 250 + {_h("g", 6)} %% 200,
               d, d + CASE WHEN {_h("g", 7)} %% 10 < 3 THEN 182 ELSE 365 END,
               CASE WHEN {_h("g", 8)} %% 20 = 0 AND d + 90 <= %(as_of)s THEN d + 90 END,
               CASE WHEN {_h("g", 8)} %% 20 = 0 AND d + 90 <= %(as_of)s
                    THEN 'repaid' ELSE 'active' END,
               'import', 1, now(), now()
        FROM (SELECT g, 1 + ({_h("g", 2)} %% n)::int AS k,
                     %(first)s::date + ({_h("g", 9)} %% %(days)s)::int AS d
              FROM generate_series(1, %(loans)s) AS g,
                   (SELECT count(*) AS n FROM product) AS c) AS l,
             (SELECT array_agg(id ORDER BY id) AS ids, array_agg(bank_code ORDER BY id) AS banks
              FROM product) AS pr,
             (SELECT array_agg(id ORDER BY id) AS ids FROM enterprise) AS en
        """,
        {
            "loans": loans,
            "as_of": as_of,
            "first": date(as_of.year - 1, 1, 1),
            "days": (as_of - date(as_of.year - 1, 1, 1)).days + 1,
        },
    )
    counts["loans"] = c.execute("SELECT count(*) FROM loan").fetchone()[0]  # type: ignore[index]
    return counts


def add_grants(c: psycopg.Connection, as_of: date) -> int:
    """Awards the office recorded under the city's policies (see the module)."""
    grant = (
        "INSERT INTO policy_grant (enterprise_id, policy_code, period, status, applied_date, "
        "approved_fen, approved_date, paid_fen, paid_date, recorded_by, version, created_at, "
        "updated_at) "
    )
    c.execute(
        grant
        + f"""
        SELECT DISTINCT ON (q.enterprise_id, p.code) q.enterprise_id, p.code, 'once', 'paid',
               q.issued_date, (v.parameters->>'amount_fen')::bigint, q.issued_date + 30,
               (v.parameters->>'amount_fen')::bigint, q.issued_date + 60, 'bench', 1, now(), now()
        FROM policy p JOIN policy_version v ON v.policy_code = p.code AND v.version = 1
        JOIN qualification q ON q.type_code IN (
            SELECT jsonb_array_elements_text(v.parameters->'qualification_types'))
        WHERE v.parameters->>'scheme' = 'qualification_award' AND p.code NOT LIKE 'bench-%%'
          AND q.issued_date >= greatest(v.effective_from, %(start)s) AND {_h("q.enterprise_id", 31)} %% 9 = 0
        ORDER BY q.enterprise_id, p.code, q.issued_date
        """,
        {"start": START},
    )
    for period, salt, limit in (
        (as_of.year - 3, 37, 13),
        (as_of.year - 2, 37, 4),
        (as_of.year - 1, 37, 4),
        (as_of.year, 41, 6),
    ):
        # id 0 mod 13: three years already (at the limit); 0 mod 4: two; this year: a part.
        amount = 100 * WAN if period == as_of.year else 300 * WAN
        c.execute(
            grant
            + f"""
            SELECT DISTINCT p.enterprise_id, 'tech-transformation', %(period)s, 'approved',
                   %(applied)s, {amount}, %(applied)s, NULL::bigint, NULL::date, 'bench', 1, now(), now()
            FROM project p
            WHERE p.kind = 'tech_transformation' AND p.year = %(year)s
              AND {_h("p.enterprise_id", salt)} %% {limit} = 0
            ON CONFLICT DO NOTHING
            """,
            {
                "period": str(period),
                "applied": date(period, 6, 1),
                "year": as_of.year - 1,
            },
        )
    return c.execute("SELECT count(*) FROM policy_grant").fetchone()[0]  # type: ignore[index]


SUBSIDIES: list[dict[str, Any]] = [
    {"loan_schemes": ["xikedai"], "share_bp": 5000, "cap_per_loan_fen": 20 * WAN},
    {"loan_schemes": ["xixindai"], "share_bp": 3000, "cap_per_year_fen": 30 * WAN},
    {
        "loan_schemes": ["zhuanjingtexin"],
        "loan_qualifications": ["srdi_sme", "little_giant"],
        "share_bp": 4000,
        "cap_per_loan_fen": 30 * WAN,
        "cap_per_year_fen": 50 * WAN,
    },
    {"loan_purposes": ["project"], "loan_qualifications": ["high_tech"], "share_bp": 2000},
    {
        "loan_purposes": ["working_capital"],
        "loan_qualifications": ["innovative_sme"],
        "size_classes": ["small", "micro"],
        "share_bp": 1500,
        "cap_per_year_fen": 10 * WAN,
    },
    {"loan_schemes": ["sukedai"], "share_bp": 2500, "cap_per_loan_fen": 15 * WAN},
    {
        "loan_products": ["jsbank-wx-xikedai", "wrcb-xixindai", "icbc-wx-zjtx"],
        "share_bp": 3000,
    },
    {
        "loan_purposes": ["project"],
        "loan_qualifications": ["green_factory_national", "green_factory_provincial"],
        "share_bp": 5000,
        "cap_per_year_fen": 100 * WAN,
    },
]
AWARDS: list[tuple[list[str], str, int]] = [  # types, award, amount in 万元
    (["high_tech"], "first", 20),
    (["high_tech"], "renewal", 10),
    (["innovative_sme"], "first", 5),
    (["eaglet"], "any", 10),
    (["gazelle"], "any", 30),
    (["quasi_unicorn"], "any", 100),
    (["single_champion"], "any", 200),
    (["tech_center"], "any", 50),
    (["key_project"], "any", 20),
    (["little_giant"], "any", 60),
    (["srdi_sme"], "first", 15),
    (["tech_sme"], "first", 2),
]
TECHS: list[dict[str, Any]] = [
    {
        "project_kinds": ["tech_transformation"],
        "min_base_fen": 500 * WAN,
        "tiers": [
            {"from_fen": 500 * WAN, "rate_bp": 300},
            {"from_fen": 2000 * WAN, "rate_bp": 400},
        ],
        "cap_per_year_fen": 300 * WAN,
        "max_years": 2,
    },
    {
        "project_kinds": ["intelligent_digital"],
        "min_base_fen": 1000 * WAN,
        "tiers": [
            {"from_fen": 1000 * WAN, "rate_bp": 800},
            {"from_fen": 5000 * WAN, "rate_bp": 1000},
        ],
        "cap_per_year_fen": 500 * WAN,
    },
    {
        "project_kinds": ["green_upgrade", "tech_transformation"],
        "size_classes": ["small", "medium"],
        "tiers": [{"from_fen": 800 * WAN, "rate_bp": 500}],
        "cap_per_year_fen": 200 * WAN,
        "max_years": 3,
    },
]
# Of ten synthetic policies: four subsidies, four awards, two transformation variants.
PATTERN = ("subsidy", "award", "tech", "subsidy", "award", "subsidy", "award", "subsidy", "tech")
PATTERN += ("award",)


def synthetic_policies(n: int) -> list[dict[str, Any]]:
    """``n`` policies: code, name and versions (number, from, to, validated parameters)."""
    out: list[dict[str, Any]] = []
    seen = {"subsidy": 0, "award": 0, "tech": 0}
    for i in range(n):
        kind = PATTERN[i % len(PATTERN)]
        j = seen[kind]
        seen[kind] += 1
        start = START if j % 3 else date(2025, 1, 1)
        later: dict[str, Any] | None = None
        if kind == "subsidy":
            parameters = dict(SUBSIDIES[j % len(SUBSIDIES)])
            parameters["share_bp"] = min(10_000, parameters["share_bp"] + 500 * (j // 8))
            parameters.update(scheme=Scheme.interest_subsidy, once=False)
            name = f"贷款贴息（基准{j + 1}）"
        elif kind == "award":
            types, award, wan = AWARDS[j % len(AWARDS)]
            parameters = {
                "scheme": Scheme.qualification_award,
                "qualification_types": types,
                "award": award,
                "amount_fen": (wan + 5 * (j // len(AWARDS))) * WAN,
                "private_only": j % 5 != 4,
            }
            if j % 4 == 1:  # raised from mid-2025 by a second version
                later = {**parameters, "amount_fen": parameters["amount_fen"] * 3 // 2}
            name = f"资质奖励（基准{j + 1}）"
        else:
            parameters = dict(TECHS[j % len(TECHS)])
            parameters.update(scheme=Scheme.tech_transformation, once=False)
            name = f"技术改造支持（基准{j + 1}）"
        versions = [(1, start, None, Parameters.model_validate(parameters))]
        if later is not None:
            versions.append((2, date(2025, 7, 1), None, Parameters.model_validate(later)))
        out.append({"code": f"bench-{kind}-{j + 1:02d}", "name": name, "versions": versions})
    return out


def insert_policies(c: psycopg.Connection, policies: list[dict[str, Any]]) -> None:
    for p in policies:
        c.execute(
            "INSERT INTO policy (code, name, source, active, version, created_at, updated_at) "
            "VALUES (%s, %s, '基准测试', true, 1, now(), now())",
            (p["code"], p["name"]),
        )
        for number, start, end, parameters in p["versions"]:
            c.execute(
                "INSERT INTO policy_version (policy_code, version, effective_from, "
                "effective_to, parameters, created_by, created_at) "
                "VALUES (%s, %s, %s, %s, %s::jsonb, 'bench', now())",
                (p["code"], number, start, end, json.dumps(parameters.model_dump(mode="json"))),
            )


def award_sql(policy: PolicyRules, as_of: date, prefixes: tuple[str, ...]) -> str | None:
    """Who the award policy entitles and to how much, as one statement: each award's rank
    among the enterprise's awards of its type by issue date (a window function), the latest
    that fits a version's days and the award it pays for; 民营 by the ownership type's flag,
    the area by prefix, size, less the enterprises with an award recorded. The deciding
    version is the one whose days hold that latest award (the newest that finds one). None
    when the versions differ in more than days and amount (not expressed here)."""
    begun = [r for r in policy.rules if r.effective_from <= as_of]
    if not begun or begun[0].scheme != Scheme.qualification_award:
        return None
    same = {
        (r.qualification_types, r.award, r.private_only, r.in_area_only, r.size_classes)
        for r in begun
    }
    if len(same) != 1:
        return None
    rule = begun[0]
    types = ", ".join(f"'{t}'" for t in sorted(rule.qualification_types))
    windows = [(r.effective_from, min(as_of, r.effective_to or as_of), r) for r in begun]
    within = " OR ".join(f"issued_date BETWEEN '{a}' AND '{b}'" for a, b, _ in windows)
    rank = {"first": "AND rank = 0", "renewal": "AND rank >= 1", "any": ""}[rule.award]
    amount = " ".join(
        f"WHEN h.last BETWEEN '{a}' AND '{b}' THEN {r.amount_fen}" for a, b, r in windows
    )
    where = ["TRUE"]
    if rule.in_area_only and prefixes:
        where.append(
            "e.registered_area_code LIKE ANY (ARRAY["
            + ", ".join(f"'{p}%'" for p in prefixes)
            + "])"
        )
    if rule.size_classes is not None:
        where.append("e.size_class IN (" + ", ".join(f"'{s}'" for s in rule.size_classes) + ")")
    private = (
        "JOIN ownership_type o ON o.code = e.ownership AND o.private" if rule.private_only else ""
    )
    return f"""
        WITH ranked AS (
            SELECT enterprise_id, issued_date,
                   row_number() OVER (PARTITION BY enterprise_id, type_code
                                      ORDER BY issued_date) - 1 AS rank
            FROM qualification WHERE type_code IN ({types})
        ), hits AS (
            SELECT enterprise_id, max(issued_date) AS last FROM ranked
            WHERE ({within}) {rank} GROUP BY enterprise_id
        )
        SELECT h.enterprise_id, CASE {amount} END AS amount
        FROM hits h JOIN enterprise e ON e.id = h.enterprise_id {private}
        WHERE {" AND ".join(where)} AND NOT EXISTS (
            SELECT 1 FROM policy_grant g
            WHERE g.enterprise_id = h.enterprise_id AND g.policy_code = '{rule.policy_code}'
              AND ((g.status = 'paid' AND coalesce(g.paid_fen, g.approved_fen) IS NOT NULL)
                   OR (g.status = 'approved' AND g.approved_fen IS NOT NULL)))
    """
