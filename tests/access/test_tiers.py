"""The two tiers of library facts, as a matrix: which field reaches which caller, with which
consent. Public facts (what government lists and registers publish) reach every bank; private
facts (figures, credit grade, contacts, needs) only a bank the enterprise consented to; the
office and the enterprise itself see everything."""

from typing import Any

import pytest

from service.access.policy import (
    ENTERPRISE_TIERS,
    PROJECT_TIERS,
    FactTier,
    bank_view,
    tier_fields,
)
from tests.factories import bank_payload, create_enterprise, office_consent, product_payload

ENTERPRISE = {name: f"value-{name}" for name in ENTERPRISE_TIERS} | {
    "consent_form_ref": "F-1",  # how consent was recorded: never a bank's business
    "name_normalized": "x",
    "version": 3,
}
PROJECT = {name: f"value-{name}" for name in PROJECT_TIERS} | {"version": 2}


@pytest.mark.parametrize("field", sorted(ENTERPRISE))
@pytest.mark.parametrize("consented", [False, True])
def test_enterprise_fields_by_tier_and_consent(field: str, consented: bool) -> None:
    seen = bank_view("enterprise", ENTERPRISE, consented)
    assert seen is not None
    tier = ENTERPRISE_TIERS.get(field)
    expected = tier == FactTier.public or (tier == FactTier.private and consented)
    assert (field in seen) is expected


@pytest.mark.parametrize("field", sorted(PROJECT))
@pytest.mark.parametrize("consented", [False, True])
@pytest.mark.parametrize("listed", [False, True])
def test_project_fields_by_tier_listing_and_consent(field: str, consented: bool, listed) -> None:
    data = {**PROJECT, "listed_in": "2026年重点项目名单" if listed else None}
    seen = bank_view("project", data, consented)
    if not listed and not consented:
        assert seen is None  # a project on no list is the enterprise's own business
        return
    assert seen is not None
    tier = PROJECT_TIERS.get(field)
    assert (field in seen) is (tier == FactTier.public or (tier is not None and consented))


def test_the_tiers_are_what_a_credit_officer_expects() -> None:
    public = set(tier_fields("enterprise", FactTier.public))
    private = set(tier_fields("enterprise", FactTier.private))
    assert {"name", "credit_code", "district_code", "cluster_code", "qualifications"} <= public
    assert {"revenue_fen", "total_assets_fen", "employees", "credit_grade"} <= private
    assert {"contacts", "needs"} <= private and not public & private
    assert {"name", "year", "total_investment_fen"} <= set(tier_fields("project", FactTier.public))
    assert "financing_need_fen" in tier_fields("project", FactTier.private)


# --- through the API: caller × tier × consent ------------------------------------------------

CONSENTS = ("none", "sharing", "lead")
PUBLIC_FIELD, PRIVATE_FIELD = "name", "revenue_fen"


@pytest.fixture
def world(client, as_role) -> dict[str, Any]:
    ours = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    theirs = client.post("/api/v1/banks", json=bank_payload()).json()["code"]
    product = client.post(
        "/api/v1/products",
        json=product_payload(ours, eligibility={}, amount_min_fen=1, amount_max_fen=10**12),
    ).json()
    firms = {c: create_enterprise(client, name=f"无锡{c}层级科技有限公司") for c in CONSENTS}
    client.patch(
        f"/api/v1/enterprises/{firms['sharing']['id']}", json=office_consent()
    ).raise_for_status()
    applied = as_role("enterprise", enterprise_id=firms["lead"]["id"]).post(
        "/api/v1/applications",
        json={"product_code": product["code"], "enterprise_id": firms["lead"]["id"]},
    )
    assert applied.status_code == 201, applied.text
    release = client.post("/api/v1/releases", json={}).json()["number"]
    return {
        "firms": firms,
        "release": release,
        "product": product["code"],
        "callers": {
            "office": client,
            "our_bank": as_role("bank", bank_code=ours),
            "their_bank": as_role("bank", bank_code=theirs),
        },
    }


def _release_items(c, number: int) -> dict[int, dict]:
    found: dict[int, dict] = {}
    cursor = None
    while True:
        params: dict[str, Any] = {"kind": "enterprise", "limit": 200}
        if cursor:
            params["cursor"] = cursor
        page = c.get(f"/api/v1/releases/{number}/items", params=params).json()
        found |= {i["id"]: i["data"] for i in page["items"]}
        cursor = page["next_cursor"]
        if not cursor:
            return found


# (caller, consent) -> does the private field show in a release? Releases are the same for
# every bank: a lead's consent is to that bank, for that lead, not to the library.
RELEASE = {
    ("office", "none"): True,
    ("office", "sharing"): True,
    ("office", "lead"): True,
    ("our_bank", "none"): False,
    ("our_bank", "sharing"): True,
    ("our_bank", "lead"): False,
    ("their_bank", "none"): False,
    ("their_bank", "sharing"): True,
    ("their_bank", "lead"): False,
}


@pytest.mark.parametrize(("caller", "consent"), sorted(RELEASE))
def test_release_items_by_caller_and_consent(world, caller: str, consent: str) -> None:
    firm = world["firms"][consent]
    data = _release_items(world["callers"][caller], world["release"])[firm["id"]]
    assert data[PUBLIC_FIELD] == firm["name"]  # public: every caller
    assert (PRIVATE_FIELD in data) is RELEASE[(caller, consent)]
    if RELEASE[(caller, consent)]:
        assert data[PRIVATE_FIELD] == firm["revenue_fen"]


# Prospects are the product's bank's view: a lead's consent to that bank counts.
PROSPECT = {"none": False, "sharing": True, "lead": True}


@pytest.mark.parametrize("consent", CONSENTS)
def test_prospects_by_consent(world, consent: str) -> None:
    firm = world["firms"][consent]
    page = world["callers"]["our_bank"].get(
        f"/api/v1/products/{world['product']}/prospects", params={"limit": 200}
    )
    assert page.status_code == 200, page.text
    mine = [p for p in page.json()["items"] if p["enterprise_id"] == firm["id"]]
    assert mine, "every library enterprise that fits is a prospect by its profile"
    for prospect in mine:
        assert prospect["enterprise_name"] == firm["name"]
        assert (prospect[PRIVATE_FIELD] is not None) is PROSPECT[consent]
    other = world["callers"]["their_bank"].get(f"/api/v1/products/{world['product']}/prospects")
    assert other.status_code == 403


def test_the_enterprise_itself_sees_its_private_facts_and_no_one_elses(
    world, as_role, client
) -> None:
    firm, stranger = world["firms"]["none"], world["firms"]["sharing"]
    itself = as_role("enterprise", enterprise_id=firm["id"])
    own = itself.get(f"/api/v1/enterprises/{firm['id']}").json()
    assert own[PRIVATE_FIELD] == firm["revenue_fen"]
    assert itself.get(f"/api/v1/enterprises/{stranger['id']}").status_code == 404
    assert itself.get(f"/api/v1/releases/{world['release']}/items").status_code == 403


def test_blank_private_keeps_the_shape_and_blanks_what_the_tiers_call_private() -> None:
    from service.access.policy import blank_private

    shown = {
        "name": "无锡甲",
        "revenue_fen": 5,
        "contacts": [{"name": "王"}],
        "qualification_codes": [],
    }
    assert blank_private("enterprise", dict(shown)) == {
        "name": "无锡甲",
        "revenue_fen": None,
        "contacts": None,
        "qualification_codes": [],
    }
