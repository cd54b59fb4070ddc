"""The synthetic library generator (service/synth.py): pure, no database."""

import dataclasses
import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from service import synth
from service.core.settings import project_root
from service.enterprises.models import EnterpriseCreate, ProjectCreate
from service.products.models import ProductCreate
from service.taxonomy.credit_code import parse_credit_code
from service.taxonomy.grades import CREDIT_GRADES
from service.taxonomy.industry import normalize_industry_code
from service.taxonomy.sizing import Figures, classify

REFERENCE = synth.load_reference()
BANKS = ["icbc-wx", "jsbank-wx", "wrcb"]


@pytest.fixture(scope="module")
def library() -> tuple[list[dict], list[dict]]:
    return synth.generate_library(5000, 1000, seed=11)


def test_credit_codes_are_valid_unique_and_carry_a_valid_organisation_code(library):
    enterprises, _ = library
    codes = [e["credit_code"] for e in enterprises]
    assert len(set(codes)) == len(codes)
    for code in codes:
        assert parse_credit_code(code).value == code
        assert code.startswith("91")
        org = code[8:17]
        assert synth.org_check_character(org[:8]) == org[8]


def test_organisation_check_character_matches_a_real_code():
    # 91320200134757148J: organisation code 13475714-8.
    assert synth.org_check_character("13475714") == "8"


@pytest.mark.parametrize("key", [0, 7, 2**31 + 5])
def test_the_index_mix_is_a_bijection(key):
    assert sorted(synth._feistel(x, 10, key) for x in range(100)) == list(range(100))
    assert sorted(synth._feistel(x, 31, key) for x in range(31 * 31)) == list(range(31 * 31))


def test_organisation_codes_do_not_repeat_across_many_indexes():
    for new_style in (False, True):
        codes = {synth.organisation_code(i, 12345, new_style) for i in range(10_000)}
        assert len(codes) == 10_000


def test_same_seed_same_library_other_seed_other_library():
    first = synth.generate_library(120, 60, seed=5)
    assert synth.generate_library(120, 60, seed=5) == first
    other = synth.generate_library(120, 60, seed=6)
    assert {e["credit_code"] for e in other[0]}.isdisjoint({e["credit_code"] for e in first[0]})


def test_every_enterprise_validates_and_is_coherent(library):
    enterprises, _ = library
    terms = REFERENCE.qualification_terms
    for e in enterprises:
        EnterpriseCreate.model_validate(e)
        assert normalize_industry_code(e["industry_code"]) == e["industry_code"]
        assert len(e["industry_code"]) == 5
        assert e["credit_grade"] is None or e["credit_grade"] in CREDIT_GRADES
        assert e["district_code"] is None or e["district_code"] in REFERENCE.district_areas
        assert e["cluster_code"] is None or e["cluster_code"] in REFERENCE.clusters
        assert 1985 <= date.fromisoformat(e["established_date"]).year <= 2024
        assert 1 <= len(e["contacts"]) <= 2 and e["contacts"][0]["is_primary"]
        for q in e["qualifications"]:
            issued = date.fromisoformat(q["issued_date"])
            assert date.fromisoformat(e["established_date"]) < issued <= synth.AS_OF
            assert q["expires_date"] == (
                synth.expiry(issued, terms[q["type_code"]]).isoformat()
                if terms[q["type_code"]]
                else None
            )
        area = e["credit_code"][2:8]
        if e["district_code"] is None:
            assert not area.startswith("3202")
        else:
            expected = REFERENCE.district_areas[e["district_code"]]
            assert area in ({expected, "320200"} if expected else {"320200", "320211", "320213"})


def test_distribution_looks_like_wuxi(library):
    enterprises, _ = library
    n = len(enterprises)
    sizes = Counter(
        classify(
            e["industry_code"],
            Figures(e["employees"], e["revenue_fen"], e["total_assets_fen"]),
            REFERENCE.size_rows,
        ).size_class
        for e in enterprises
    )
    assert None not in sizes
    assert 0.74 <= (sizes["small"] + sizes["micro"]) / n <= 0.86
    assert 0.10 <= sizes["medium"] / n <= 0.20
    assert 0.025 <= sizes["large"] / n <= 0.08
    assert 0.01 <= sum(e["district_code"] is None for e in enterprises) / n <= 0.05
    districts = Counter(e["district_code"] for e in enterprises)
    assert districts["jiangyin"] > districts["liangxi"] and districts["xinwu"] > districts["binhu"]
    clusters = Counter(e["cluster_code"] for e in enterprises)
    assert clusters["hi_equip"] > clusters["biomed"] > clusters["quantum"]
    held = Counter(
        q["type_code"]
        for e in enterprises
        for q in {x["type_code"]: x for x in e["qualifications"]}.values()
    )
    assert 0.2 <= held["high_tech"] / n <= 0.4
    assert 0.25 <= held["tech_sme"] / n <= 0.5
    assert held["single_champion"] / n < 0.01
    expired = sum(
        1
        for e in enterprises
        for q in e["qualifications"]
        if q["expires_date"] and q["expires_date"] < synth.AS_OF.isoformat()
    )
    assert expired > 0
    sections = Counter(e["industry_code"][0] for e in enterprises)
    assert sections["C"] > n / 2 and sections["F"] and sections["I"] and sections["M"]
    assert len({e["name"] for e in enterprises}) > 0.97 * n


def test_ownership_is_mostly_private_and_leans_foreign_for_bracketed_names(library):
    enterprises, _ = library
    n = len(enterprises)
    ownership = Counter(e["ownership"] for e in enterprises)
    assert set(ownership) <= {*REFERENCE.ownership_types, None}
    assert 0.78 <= ownership["private"] / n <= 0.9
    assert 0.01 <= ownership[None] / n <= 0.05
    for code in ("state", "collective", "hmt", "foreign"):
        assert 0.005 <= ownership[code] / n <= 0.1, code
    bracketed = [e for e in enterprises if "（" in e["name"]]
    invested = sum(e["ownership"] in ("foreign", "hmt") for e in bracketed) / len(bracketed)
    assert invested > 2 * (ownership["foreign"] + ownership["hmt"]) / n


def test_ownership_comes_from_its_own_stream_and_changed_nothing_else():
    without = dataclasses.replace(REFERENCE, ownership_types=())
    plain, _ = synth.generate_library(300, 50, seed=5, reference=without)
    owned, _ = synth.generate_library(300, 50, seed=5)
    assert all(e["ownership"] is None for e in plain)
    assert [{**e, "ownership": None} for e in owned] == plain


def test_projects_are_exact_in_number_and_belong_to_generated_enterprises(library):
    enterprises, projects = library
    assert len(projects) == 1000
    codes = {e["credit_code"] for e in enterprises}
    names = Counter((p["enterprise_credit_code"], p["name"]) for p in projects)
    assert max(names.values()) == 1
    for p in projects:
        data = dict(p)
        assert data.pop("enterprise_credit_code") in codes
        ProjectCreate.model_validate({**data, "enterprise_id": 1})
        assert 2024 <= p["year"] <= 2027
        assert p["equipment_investment_fen"] <= p["total_investment_fen"]


def test_products_validate_with_varied_eligibility():
    products = list(synth.generate_products(400, BANKS, seed=3, fund_codes=["wx-bridge-fund"]))
    assert [p["code"] for p in products] == [f"synth-{i:06d}" for i in range(1, 401)]
    for p in products:
        ProductCreate.model_validate(p)
    assert {p["bank_code"] for p in products} <= {*BANKS, "wx-bridge-fund"}
    cluster_counts = Counter(len(p["eligibility"].get("clusters_included", [])) for p in products)
    assert set(cluster_counts) == {0, 1, 2, 3, 4}
    assert any(p["eligibility"].get("districts") for p in products)
    assert any(p["category"] == "bridge_fund" for p in products)
    assert list(synth.generate_products(50, BANKS, seed=3)) == list(
        synth.generate_products(50, BANKS, seed=3)
    )
    assert all(p["category"] != "bridge_fund" for p in synth.generate_products(300, BANKS, 4))


def test_out_directory_writes_files_and_touches_no_database(tmp_path):
    database = tmp_path / "never.db"
    result = synth.run_synth(f"sqlite:///{database}", 30, 5, None, 9, tmp_path / "lib")
    assert result["enterprises"] == 30 and result["projects"] == 15
    assert result["products"] == 5
    assert not database.exists()
    written = json.loads((tmp_path / "lib" / "enterprises.json").read_text("utf-8"))
    assert written == synth.generate_library(30, 15, seed=9)[0]
    assert len(json.loads((tmp_path / "lib" / "products.json").read_text("utf-8"))) == 5


DEMO = project_root() / "seed" / "demo"


@pytest.mark.skipif(not (DEMO / "enterprises.json").exists(), reason="no demo library")
def test_committed_demo_library_is_the_generators_and_validates():
    enterprises = json.loads((DEMO / "enterprises.json").read_text("utf-8"))
    projects = json.loads((DEMO / "projects.json").read_text("utf-8"))
    assert len(enterprises) >= 320 and len(projects) >= 160
    # Regenerate with: finmatch synth --enterprises 320 --projects 160 --seed 2024 --out seed/demo
    assert (enterprises, projects) == synth.generate_library(
        len(enterprises), len(projects), seed=synth.DEMO_SEED
    )
    for e in enterprises:
        EnterpriseCreate.model_validate(e)
        parse_credit_code(e["credit_code"])
    codes = {e["credit_code"] for e in enterprises}
    assert all(p["enterprise_credit_code"] in codes for p in projects)


def test_default_project_count():
    assert synth.default_project_count(320) == 160
    assert synth.default_project_count(500_000) == 166_666


def test_write_json_is_pretty_and_keeps_chinese(tmp_path: Path):
    synth._write_json(tmp_path / "x.json", [{"name": "无锡"}])
    text = (tmp_path / "x.json").read_text("utf-8")
    assert "无锡" in text and "\n" in text
