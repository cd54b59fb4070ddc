"""Idempotency-Key on every POST of the API: a retry with the same key and body creates nothing
more and gets the first answer again (Idempotent-Replayed: true); the same key with another
body (or on another route) is a 422; a secret shown once is never stored with the answer."""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from service.access.models import ApiKey
from service.core.idempotency import IdempotencyRecord
from service.enterprises.models import Enterprise, Project, Qualification
from service.leads.models import ContactRequest, Lead, WebhookEndpoint
from service.lists.models import LibraryRelease, ListEntry, ListImport
from service.loans.models import BridgeApplication, Loan
from service.matching.models import FinancingNeed, ScoringConfigRow
from service.products.models import Bank, Product
from tests.factories import (
    LARGE_IC,
    bank_payload,
    create_enterprise,
    credit_code,
    enterprise_payload,
    need_payload,
    product_payload,
)

API = "/api/v1"
TODAY = "2026-12-15 10:00 +0800"  # a loan maturing on 2026-12-20 may use the bridge fund
WEBHOOK_URL = "https://hooks.bank.example/finmatch"


@dataclass
class World:
    client: TestClient  # the office
    as_role: Callable[..., TestClient]
    session: Session

    def post(self, path: str, **kwargs: Any) -> dict:
        response = self.client.post(f"{API}{path}", **kwargs)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def bank(self) -> str:
        return self.post("/banks", json=bank_payload())["code"]

    def firm(self) -> dict:
        return create_enterprise(self.client, **LARGE_IC)

    def product(self, bank: str) -> dict:
        eligibility = {"clusters_included": ["ic"]}
        body = product_payload(bank, eligibility=eligibility, amount_max_fen=5_000_000_000)
        return self.post("/products", json=body)

    def quiet_need(self, enterprise_id: int) -> dict:
        """A need that reaches no bank by itself (no consent): leads come only on request."""
        return self.post("/needs", json=need_payload(enterprise_id, consent_share_details=False))

    def loan(self, bank: str, enterprise_id: int, contract_no: str) -> dict:
        return self.post("/loans", json=loan_body(bank, enterprise_id, contract_no))

    def list_entry(self) -> dict:
        """An entry proposed as new (its company is not in the library)."""
        text = f"企业名称,统一社会信用代码\n无锡全新半导体有限公司,{credit_code()}\n"
        record = self.post(
            "/lists/imports",
            files={"file": ("list.csv", text.encode(), "text/csv")},
            data={"qualification_type": "little_giant"},
        )
        entries = self.client.get(f"{API}/lists/entries", params={"import_id": record["id"]})
        (entry,) = entries.json()["items"]
        return entry


def loan_body(bank: str, enterprise_id: int, contract_no: str) -> dict:
    return {
        "contract_no": contract_no,
        "bank_code": bank,
        "enterprise_id": enterprise_id,
        "principal_fen": 500_000_000,
        "rate_bp": 345,
        "disbursed_date": "2025-12-20",
        "maturity_date": "2026-12-20",
    }


def loan_file(credit_code: str, contract_no: str) -> dict:
    text = (
        "合同编号,统一社会信用代码,本金（万元）,年利率(%),放款日,到期日\n"
        f"{contract_no},{credit_code},500,3.45,2025-12-01,2026-12-01\n"
    )
    return {"files": {"file": ("loans.csv", text.encode(), "text/csv")}}


def list_file(name: str) -> dict:
    text = f"企业名称,统一社会信用代码\n{name},{credit_code()}\n"
    return {
        "files": {"file": ("list.csv", text.encode(), "text/csv")},
        "data": {"qualification_type": "gazelle"},
    }


@dataclass
class Case:
    path: str
    request: dict[str, Any]  # keyword arguments of the POST: json, or files and data
    changed: dict[str, Any]  # another request under the same key (another path if "path")
    made: type  # the table the request adds to
    by: TestClient | None = None  # default: the office
    secret: str | None = None  # a field shown once, never stored
    extra: dict[str, Any] = field(default_factory=dict)


def _keys(w: World) -> Case:
    bank = w.bank()
    body = {"role": "bank", "name": "对接系统", "bank_code": bank}
    return Case("/keys", {"json": body}, {"json": {**body, "name": "另一个"}}, ApiKey, secret="key")


def _enterprises(w: World) -> Case:
    return Case(
        "/enterprises",
        {"json": enterprise_payload()},
        {"json": enterprise_payload()},
        Enterprise,
    )


def _qualifications(w: World) -> Case:
    body = {"type_code": "high_tech", "issued_date": "2025-01-10"}
    return Case(
        f"/enterprises/{w.firm()['id']}/qualifications",
        {"json": body},
        {"json": {**body, "issued_date": "2025-02-10"}},
        Qualification,
    )


def _projects(w: World) -> Case:
    body = {
        "enterprise_id": w.firm()["id"],
        "name": "功率器件产线智能化改造项目",
        "kind": "intelligent_digital",
        "total_investment_fen": 120_000_000_000,
        "year": 2026,
    }
    return Case("/projects", {"json": body}, {"json": {**body, "year": 2027}}, Project)


def _banks(w: World) -> Case:
    return Case("/banks", {"json": bank_payload()}, {"json": bank_payload()}, Bank)


def _products(w: World) -> Case:
    bank = w.bank()
    return Case(
        "/products",
        {"json": product_payload(bank)},
        {"json": product_payload(bank)},
        Product,
    )


def _needs(w: World) -> Case:
    body = need_payload(w.firm()["id"])
    return Case(
        "/needs", {"json": body}, {"json": {**body, "amount_fen": 300_000_000}}, FinancingNeed
    )


def _scoring_config(w: World) -> Case:
    config = w.client.get(f"{API}/scoring-config").json()["config"]
    return Case(
        "/scoring-config",
        {"json": {"config": config, "note": "第一版"}},
        {"json": {"config": config, "note": "第二版"}},
        ScoringConfigRow,
    )


def _applications(w: World) -> Case:
    firm = w.firm()
    code = w.product(w.bank())["code"]
    body = {"product_code": code, "need_id": w.quiet_need(firm["id"])["id"]}
    changed = {"product_code": code, "enterprise_id": firm["id"]}
    return Case("/applications", {"json": body}, {"json": changed}, Lead)


def _contact_requests(w: World) -> Case:
    bank = w.bank()
    code = w.product(bank)["code"]
    w.quiet_need(w.firm()["id"])
    banker = w.as_role("bank", bank_code=bank)
    prospects = banker.get(f"{API}/products/{code}/prospects").json()["items"]
    prospect = next(p for p in prospects if p["basis"] == "need")["prospect_id"]
    body = {"prospect_id": prospect, "message": "可提供信用贷款，欢迎洽谈"}
    return Case(
        f"/products/{code}/contact-requests",
        {"json": body},
        {"json": {**body, "message": "欢迎来电"}},
        ContactRequest,
        by=banker,
    )


def _accepting(w: World) -> Case:
    case = _contact_requests(w)
    asked = case.by.post(f"{API}{case.path}", **case.request).json()  # type: ignore[union-attr]
    path = f"/contact-requests/{asked['id']}"
    return Case(f"{path}/accept", {}, {"path": f"{path}/decline"}, Lead)


def _webhooks(w: World) -> Case:
    body = {"url": WEBHOOK_URL, "bank_code": w.bank()}
    changed = {**body, "description": "另一个"}
    return Case("/webhooks", {"json": body}, {"json": changed}, WebhookEndpoint, secret="secret")


def _loans(w: World) -> Case:
    body = loan_body(w.bank(), w.firm()["id"], "HT-1")
    return Case("/loans", {"json": body}, {"json": {**body, "contract_no": "HT-2"}}, Loan)


def _loan_import(w: World) -> Case:
    bank, firm = w.bank(), w.firm()
    banker = w.as_role("bank", bank_code=bank)
    return Case(
        "/loans/import",
        loan_file(firm["credit_code"], "HT-1"),
        loan_file(firm["credit_code"], "HT-2"),
        Loan,
        by=banker,
    )


def _bridge(w: World) -> Case:
    bank = w.bank()
    small = create_enterprise(w.client)  # the bridge fund serves SMEs only
    loan = w.loan(bank, small["id"], "HT-1")
    committed = {"status": "committed", "committed_amount_fen": 500_000_000}
    w.post(f"/loans/{loan['id']}/renewal/status", json=committed)
    body = {"amount_fen": 450_000_000, "days": 5}
    return Case(
        f"/loans/{loan['id']}/bridge-applications",
        {"json": body},
        {"json": {**body, "days": 6}},
        BridgeApplication,
        by=w.as_role("bank", bank_code=bank),
    )


def _list_import(w: World) -> Case:
    return Case(
        "/lists/imports",
        list_file("无锡瞪羚一号有限公司"),
        list_file("无锡瞪羚二号有限公司"),
        ListImport,
    )


def _entry_to_library(w: World) -> Case:
    entry = w.list_entry()
    return Case(
        f"/lists/entries/{entry['id']}/create-enterprise",
        {"json": {}},
        {"json": {"district_code": "xinwu"}},
        Enterprise,
    )


def _releases(w: World) -> Case:
    return Case(
        "/releases", {"json": {"note": "12月"}}, {"json": {"note": "12月（二）"}}, LibraryRelease
    )


CREATING = [
    _keys,
    _enterprises,
    _qualifications,
    _projects,
    _banks,
    _products,
    _needs,
    _scoring_config,
    _applications,
    _contact_requests,
    _accepting,
    _webhooks,
    _loans,
    _loan_import,
    _bridge,
    _list_import,
    _entry_to_library,
    _releases,
]


@pytest.fixture
def world(client, as_role, session) -> Any:
    # The clock runs on (tick): the matching catalogue's per-process copy is kept by the newest
    # change times, which a frozen clock would make equal across tests that roll back.
    with time_machine.travel(TODAY):
        yield World(client, as_role, session)


def _count(session: Session, table: type) -> int:
    return session.scalar(select(func.count()).select_from(table))  # type: ignore[arg-type]


@pytest.mark.parametrize("build", CREATING, ids=lambda b: b.__name__.strip("_"))
def test_a_retried_post_creates_one_thing_and_answers_the_first_answer(
    world: World, build: Callable[[World], Case]
) -> None:
    case = build(world)
    by = case.by or world.client
    key = {"Idempotency-Key": f"retry-{build.__name__}"}
    before = _count(world.session, case.made)

    first = by.post(f"{API}{case.path}", headers=key, **case.request)
    assert first.status_code in (200, 201), first.text
    assert "idempotent-replayed" not in first.headers
    made = _count(world.session, case.made)
    assert made > before

    again = by.post(f"{API}{case.path}", headers=key, **case.request)
    assert again.status_code == first.status_code
    assert again.headers["idempotent-replayed"] == "true"
    expected = first.json()
    if case.secret:
        # shown once: the first answer has it, the replay names what was made without it
        assert isinstance(expected[case.secret], str) and expected[case.secret]
        _assert_not_stored(world.session, expected[case.secret])
        expected = {**expected, case.secret: None}
    assert again.json() == expected
    assert _count(world.session, case.made) == made

    path = case.changed.pop("path", case.path)
    other = by.post(f"{API}{path}", headers=key, **case.changed)
    assert other.status_code == 422, other.text
    assert other.headers["content-type"].startswith("application/problem+json")
    assert other.json()["code"] == "idempotency_key_reused"
    assert _count(world.session, case.made) == made


def _assert_not_stored(session: Session, secret: str) -> None:
    stored = session.scalars(select(IdempotencyRecord.response)).all()
    assert stored and all(secret not in json.dumps(answer) for answer in stored)


def test_a_retried_rotation_rotates_once_and_stores_no_secret(world: World) -> None:
    banker = world.as_role("bank", bank_code=world.bank())
    endpoint = banker.post(f"{API}/webhooks", json={"url": WEBHOOK_URL}).json()
    path = f"{API}/webhooks/{endpoint['id']}/rotate-secret"
    key = {"Idempotency-Key": "rotate-1"}
    first = banker.post(path, headers=key)
    again = banker.post(path, headers=key)
    assert first.status_code == again.status_code == 200
    secret = first.json()["secret"]
    assert secret.startswith("whsec_") and secret != endpoint["secret"]
    assert again.json() == {**first.json(), "secret": None}
    assert again.headers["idempotent-replayed"] == "true"
    row = world.session.get(WebhookEndpoint, endpoint["id"])
    assert row is not None and row.secret == secret  # not rotated a second time
    assert row.previous_secret == endpoint["secret"]
    _assert_not_stored(world.session, secret)


@pytest.mark.parametrize(
    "action",
    ["revoke_key", "withdraw_need", "reject_entry", "commit_import", "run_reminders"],
)
def test_a_retried_action_answers_the_first_answer(world: World, action: str) -> None:
    """Actions that create nothing take the key too: the retry is answered, not done again,
    and the key cannot be spent on another route."""
    if action == "revoke_key":
        bank = world.bank()
        key_id = world.post("/keys", json={"role": "bank", "name": "旧", "bank_code": bank})["id"]
        path, other = f"/keys/{key_id}/revoke", "/reminders/run"
    elif action == "withdraw_need":
        need = world.post("/needs", json=need_payload(world.firm()["id"]))
        path, other = f"/needs/{need['id']}/withdraw", "/reminders/run"
    elif action == "reject_entry":
        entry = world.list_entry()
        path, other = f"/lists/entries/{entry['id']}/reject", "/reminders/run"
    elif action == "commit_import":
        path, other = f"/lists/imports/{world.list_entry()['import_id']}/commit", "/releases"
    else:
        path, other = "/reminders/run", "/releases"
    key = {"Idempotency-Key": f"action-{action}"}
    first = world.client.post(f"{API}{path}", headers=key)
    assert first.status_code == 200, first.text
    again = world.client.post(f"{API}{path}", headers=key)
    assert again.status_code == 200 and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    elsewhere = world.client.post(f"{API}{other}", headers=key)
    assert elsewhere.status_code == 422 and elsewhere.json()["code"] == "idempotency_key_reused"


def test_an_entry_is_not_created_twice_from_a_list(world: World) -> None:
    """The fingerprint of an upload is its bytes and form: the same file under one key is one
    import, and the entries are not linked twice."""
    key = {"Idempotency-Key": "list-once"}
    upload = list_file("无锡瞪羚三号有限公司")
    first = world.client.post(f"{API}/lists/imports", headers=key, **upload)
    entries = _count(world.session, ListEntry)
    again = world.client.post(f"{API}/lists/imports", headers=key, **upload)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and _count(world.session, ListEntry) == entries
    other_form = {**upload, "data": {"qualification_type": "little_giant"}}
    refused = world.client.post(f"{API}/lists/imports", headers=key, **other_form)
    assert refused.status_code == 422 and refused.json()["code"] == "idempotency_key_reused"


@pytest.mark.parametrize(("status", "kept"), [(409, True), (422, True), (503, False)])
def test_a_refusal_is_the_answer_but_a_failure_of_ours_is_tried_again(
    session: Session, status: int, kept: bool
) -> None:
    """A 4xx is what the request gets, now and on every retry; a 5xx (a store or service
    unavailable for now) is not kept: the retry runs again and may succeed."""
    from service.core.errors import AppError
    from service.core.idempotency import run_once

    runs: list[int] = []

    def failing() -> tuple[int, Any, dict[str, str]]:
        runs.append(status)
        raise AppError("暂时不行", code="not_now", status=status)

    def succeeding() -> tuple[int, Any, dict[str, str]]:
        runs.append(201)
        return 201, {"id": 1}, {}

    args = ("owner-1", f"key-{status}", "POST", "/things", {"a": 1})
    with pytest.raises(AppError):
        run_once(session, *args, failing)
    if kept:
        with pytest.raises(AppError) as replayed:
            run_once(session, *args, succeeding)
        assert replayed.value.status == status and replayed.value.extra["replayed"] is True
        assert runs == [status]
    else:
        assert run_once(session, *args, succeeding).status_code == 201
        assert runs == [status, 201]


def test_every_post_declares_the_idempotency_key() -> None:
    from service.main import create_app

    # Exceptions, each with its reason. Every other POST under /api/v1 creates something or
    # does something a retry must not do twice. Accepting an invitation has no key to own an
    # Idempotency-Key, and its token works once already (a retry answers 410
    # invitation_used); its body holds a password, which no stored fingerprint may keep.
    allowed_without: set[str] = {API + "/invitations/accept"}
    openapi = create_app().openapi()
    posts = [
        (path, item["post"])
        for path, item in openapi["paths"].items()
        if path.startswith(API) and "post" in item
    ]
    assert len(posts) >= 30
    for path, op in posts:
        if path in allowed_without:
            continue
        declared = [
            p
            for p in op.get("parameters", [])
            if (p["in"], p["name"]) == ("header", "Idempotency-Key")
        ]
        assert declared, f"POST {path} does not declare the Idempotency-Key header"
        assert not declared[0]["required"], path
