"""The reference data the generator may use (clusters, districts, qualification types, the size
table, ownership types), read from seed/reference or from a database that holds it: the
generator draws only codes the service knows."""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from service.core.settings import project_root
from service.taxonomy.sizing import SizeRow, Threshold


@dataclass(frozen=True)
class Reference:
    """The vocabulary the generator may use: from seed/reference or from a database."""

    clusters: tuple[str, ...]
    district_areas: dict[str, str | None]
    qualification_terms: dict[str, int | None]
    size_rows: tuple[SizeRow, ...]
    ownership_types: tuple[str, ...] = ()
    cluster_tiers: dict[str, str] = field(default_factory=dict)  # code -> landmark, advantage …


def size_rows_from_json(items: Iterable[dict[str, Any]]) -> tuple[SizeRow, ...]:
    rows = []
    for item in sorted(items, key=lambda i: i.get("sort_order", 0)):
        thresholds = tuple(
            Threshold(
                size_class,
                b.get("employees_min"),
                b.get("revenue_min_wan"),
                b.get("assets_min_wan"),
            )
            for size_class, b in item["thresholds"].items()
        )
        rows.append(
            SizeRow(
                item["key"],
                item["name"],
                tuple(item["gbt_scope"]),
                tuple(item["indicators"]),
                thresholds,
            )
        )
    return tuple(rows)


def load_reference(seed_dir: Path | None = None) -> Reference:
    ref = (seed_dir or project_root() / "seed") / "reference"

    def read(name: str) -> Any:
        return json.loads((ref / name).read_text(encoding="utf-8"))

    clusters = read("clusters.json")
    return Reference(
        clusters=tuple(c["code"] for c in clusters),
        district_areas={d["code"]: d["area_code"] for d in read("districts.json")},
        qualification_terms={q["code"]: q["term_months"] for q in read("qualification_types.json")},
        size_rows=size_rows_from_json(read("size_standards.json")),
        ownership_types=tuple(o["code"] for o in read("ownership_types.json")),
        cluster_tiers={c["code"]: c["tier"] for c in clusters},
    )


def reference_from_db(conn: Connection) -> Reference:
    def rows(sql: str) -> list[Any]:
        return list(conn.execute(text(sql)))

    thresholds: dict[str, list[Threshold]] = {}
    for r in rows(
        "SELECT industry_key, size_class, employees_min, revenue_min_wan, "
        "assets_min_wan FROM size_threshold"
    ):
        thresholds.setdefault(r[0], []).append(Threshold(r[1], r[2], r[3], r[4]))
    size_rows = []
    for r in rows("SELECT key, name, gbt_scope, indicators FROM size_industry ORDER BY sort_order"):
        scope = json.loads(r[2]) if isinstance(r[2], str) else r[2]
        indicators = json.loads(r[3]) if isinstance(r[3], str) else r[3]
        size_rows.append(
            SizeRow(r[0], r[1], tuple(scope), tuple(indicators), tuple(thresholds.get(r[0], ())))
        )
    clusters = rows("SELECT code, tier FROM cluster ORDER BY tier_rank, priority_rank")
    return Reference(
        clusters=tuple(r[0] for r in clusters),
        district_areas={
            r[0]: r[1] for r in rows("SELECT code, area_code FROM district ORDER BY sort_order")
        },
        qualification_terms={
            r[0]: r[1]
            for r in rows("SELECT code, term_months FROM qualification_type ORDER BY sort_order")
        },
        size_rows=tuple(size_rows),
        ownership_types=tuple(
            r[0] for r in rows("SELECT code FROM ownership_type ORDER BY sort_order")
        ),
        cluster_tiers={r[0]: str(r[1]) for r in clusters},
    )
