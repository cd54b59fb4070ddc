"""``run_synth``, what `finmatch synth` does: write the library (and products) as JSON files
shaped like the API's create bodies, or bulk-load them into a database."""

import json
import time
from pathlib import Path
from typing import Any

from service.core.database import make_engine
from service.core.settings import project_root
from service.synth.generator import default_project_count, generate_library
from service.synth.loading import bulk_load
from service.synth.products import generate_products


def _write_json(path: Path, items: list[dict[str, Any]]) -> None:
    path.write_text(json.dumps(items, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def run_synth(
    database_url: str,
    enterprises: int,
    products: int,
    projects: int | None,
    seed: int,
    out: Path | None,
) -> dict:
    """`finmatch synth`. With ``out``: write out/enterprises.json, out/projects.json (and
    out/products.json when products > 0, for the banks of seed/reference/banks.json) and touch
    no database. Otherwise bulk-load the database at ``database_url``. ``projects=None`` means
    enterprises // 2 up to 10,000 enterprises and enterprises // 3 above."""
    started = time.perf_counter()
    if projects is None:
        projects = default_project_count(enterprises)
    if out is not None:
        out = Path(out)
        if out.exists() and not out.is_dir():
            raise NotADirectoryError(f"{out} is not a directory")
        out.mkdir(parents=True, exist_ok=True)
        library, project_items = generate_library(enterprises, projects, seed)
        _write_json(out / "enterprises.json", library)
        _write_json(out / "projects.json", project_items)
        product_items: list[dict[str, Any]] = []
        if products:
            banks = json.loads(
                (project_root() / "seed" / "reference" / "banks.json").read_text("utf-8")
            )
            own = [b["code"] for b in banks if b["kind"] != "fund"]
            funds = [b["code"] for b in banks if b["kind"] == "fund"]
            product_items = list(generate_products(products, own or funds, seed, fund_codes=funds))
            _write_json(out / "products.json", product_items)
        return {
            "enterprises": len(library),
            "projects": len(project_items),
            "products": len(product_items),
            "seconds": round(time.perf_counter() - started, 2),
            "out": str(out),
        }
    engine = make_engine(database_url)
    try:
        counts = bulk_load(engine, enterprises, projects, products, seed)
    finally:
        engine.dispose()
    return {**counts, "seconds": round(time.perf_counter() - started, 2)}
