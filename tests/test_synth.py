"""The synthetic library generator (service/synth/): pure, no database."""

import dataclasses
import json
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from service import synth
from service.core.settings import project_root
from service.enterprises.schemas import EnterpriseCreate, ProjectCreate
from service.products.schemas import ProductCreate
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


CONSENT_FIELDS = ("share_with_banks", "consent_form_ref", "consent_form_signed_on")
FORM_REF = re.compile(r"^锡金融入库〔(\d{4})〕(\d{4,})号$")
SOUGHT = {"high_tech", "srdi_sme", "little_giant", "innovative_sme"}


def test_about_two_in_five_consented_on_a_signed_form_and_most_others_recorded_nothing(library):
    enterprises, _ = library
    n = len(enterprises)
    forms = [e for e in enterprises if "consent_form_ref" in e]
    shared = [e for e in forms if e["share_with_banks"]]
    declined = [e for e in forms if not e["share_with_banks"]]
    assert 0.33 <= len(shared) / n <= 0.5
    assert 0.01 <= len(declined) / n <= 0.08
    # The rest never recorded a choice: no field at all (an absent choice is not a refusal).
    for e in enterprises:
        assert all(k in e for k in CONSENT_FIELDS) or not any(k in e for k in CONSENT_FIELDS)
    assert n - len(forms) > len(declined) * 5
    refs = [e["consent_form_ref"] for e in forms]
    assert len(set(refs)) == len(refs)
    for e in forms:
        found = FORM_REF.match(e["consent_form_ref"])
        assert found, e["consent_form_ref"]
        signed = date.fromisoformat(e["consent_form_signed_on"])
        assert int(found.group(1)) == signed.year
        assert synth.FORM_FIRST_DAY <= signed < synth.AS_OF
        assert signed > date.fromisoformat(e["established_date"])
        created = EnterpriseCreate.model_validate(e)
        assert created.share_with_banks is e["share_with_banks"]
        assert created.consent_form_signed_on == signed


def test_cluster_and_tech_enterprises_sign_the_form_more_often(library):
    enterprises, _ = library

    def rate(group: list[dict]) -> float:
        return sum("consent_form_ref" in e for e in group) / len(group)

    sought = [
        e
        for e in enterprises
        if e["cluster_code"] and {q["type_code"] for q in e["qualifications"]} & SOUGHT
    ]
    plain = [
        e
        for e in enterprises
        if e["cluster_code"]
        and e["district_code"]
        and not {q["type_code"] for q in e["qualifications"]} & SOUGHT
    ]
    outside_clusters = [e for e in enterprises if not e["cluster_code"]]
    outside_wuxi = [e for e in enterprises if e["district_code"] is None]
    assert rate(sought) > 1.4 * rate(plain)
    assert rate(plain) > 1.5 * rate(outside_clusters)
    assert rate(outside_wuxi) < 0.6 * rate(plain)


def test_bigger_projects_of_the_leading_clusters_are_on_key_project_lists(library):
    _, projects = library
    tiers = REFERENCE.cluster_tiers
    listed = [p for p in projects if p["listed_in"]]
    assert 0.04 <= len(listed) / len(projects) <= 0.15
    titles = Counter(p["listed_in"] for p in listed)
    assert any("重大产业项目" in t for t in titles) and any("重点产业项目" in t for t in titles)
    for p in listed:
        assert tiers[p["cluster_code"]] in ("landmark", "advantage")
        assert p["status"] in ("approved", "under_construction")
        year = int(p["listed_in"][:4])
        assert year <= p["year"] <= synth.AS_OF.year
        assert p["listed_in"] in (
            f"{year}年无锡市重大产业项目名单",
            f"{year}年无锡市重点产业项目名单",
        )
        if "重大" in p["listed_in"]:
            assert p["total_investment_fen"] >= 100_000 * 10**6  # 10亿元
        else:
            assert p["total_investment_fen"] >= 3_000 * 10**6
    could = [
        p
        for p in projects
        if tiers.get(p["cluster_code"]) in ("landmark", "advantage")
        and p["status"] in ("approved", "under_construction")
        and p["year"] <= synth.AS_OF.year
    ]
    big = [p for p in could if p["total_investment_fen"] >= 10_000 * 10**6]  # 1亿元
    assert sum(bool(p["listed_in"]) for p in big) / len(big) > 0.6
    small = [p for p in could if p["total_investment_fen"] < 3_000 * 10**6]
    assert small and not any(p["listed_in"] for p in small)


def test_consent_and_listing_come_from_their_own_streams_and_changed_nothing_else(monkeypatch):
    drawn = synth.generate_library(2500, 1200, seed=5)
    monkeypatch.setattr(synth.Generator, "_consent", lambda self, *args: {})
    monkeypatch.setattr(synth.Generator, "_listing", lambda self, *args: None)
    without = synth.generate_library(2500, 1200, seed=5)
    assert [{k: v for k, v in e.items() if k not in CONSENT_FIELDS} for e in drawn[0]] == (
        without[0]
    )
    assert [{**p, "listed_in": None} for p in drawn[1]] == without[1]
    assert any("consent_form_ref" in e for e in drawn[0])
    assert any(p["listed_in"] for p in drawn[1])


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
    # The demo shows every case: shared on a form, declined on one, never recorded; projects on
    # a key-project list and not.
    choices = Counter(e.get("share_with_banks") for e in enterprises)
    assert choices[True] >= 100 and choices[False] >= 5 and choices[None] >= 150
    assert 8 <= sum(bool(p["listed_in"]) for p in projects) <= 40


def test_default_project_count():
    assert synth.default_project_count(320) == 160
    assert synth.default_project_count(500_000) == 166_666


def test_write_json_is_pretty_and_keeps_chinese(tmp_path: Path):
    synth._write_json(tmp_path / "x.json", [{"name": "无锡"}])
    text = (tmp_path / "x.json").read_text("utf-8")
    assert "无锡" in text and "\n" in text
