"""A real browser: the office signs in with the demo office account, invites a bank's
administrator, who accepts the link in a browser of their own and invites an account
manager, who accepts, lands on the bank's pages, and works a lead from the list to its
loan."""

import uuid
from typing import Any

from service.demo_people import DEMO_PASSWORD
from tests.web.test_journey_bank import claim_and_work_a_lead

NEW_PASSWORD = "长江后浪推前浪-2026"


def _link(visit: Any) -> str:
    """The one-time link shown after an invitation, as a path of this server."""
    url = str(visit.page.input_value("#invitation-link"))
    assert url.startswith(visit.base + "/web/invitations/"), url
    return url.removeprefix(visit.base)


def _accept(visit: Any, path: str) -> None:
    visit.goto(path)
    visit.shot("invitation")
    visit.page.fill("#password", NEW_PASSWORD)
    visit.page.fill("#again", NEW_PASSWORD)
    visit.page.click("#accept-form button[type=submit]")


def test_people_invite_each_other(visit: Any) -> None:
    suffix = uuid.uuid4().hex[:6]
    office = visit("people-office")
    office.sign_in_as("office@demo.finmatch.cn", DEMO_PASSWORD)
    assert office.page.url.endswith("/web/office")
    header = office.page.inner_text("header")
    assert "金融办演示用户" in header and "用户" in header
    office.goto("/web/office/users")
    office.page.fill("#login", f"admin-{suffix}@bank.example")
    office.page.fill("#display_name", "孙行长")
    office.page.select_option("#role", "bank")
    office.page.select_option("#bank_code", "jsbank-wx")
    office.page.select_option("#bank_role", "admin")
    office.page.click("#invite-form button[type=submit]")
    assert "复制此链接发给对方" in office.text()
    office.shot("invited-admin")
    admin_link = _link(office)

    admin = visit("people-bank-admin")
    _accept(admin, admin_link)
    assert admin.page.url.endswith("/web/bank")
    header = admin.page.inner_text("header")
    assert "孙行长" in header and "银行管理员" in header and "江苏银行" in header
    assert "jsbank-wx" not in header
    admin.goto("/web/bank/team")
    admin.page.fill("#login", f"manager-{suffix}@bank.example")
    admin.page.fill("#display_name", "吴经理")
    admin.page.select_option("#bank_role", "manager")
    admin.page.click("#invite-form button[type=submit]")
    admin.shot("invited-manager")
    manager_link = _link(admin)

    manager = visit("people-manager")
    _accept(manager, manager_link)
    assert manager.page.url.endswith("/web/bank")
    header = manager.page.inner_text("header")
    assert "吴经理" in header and "客户经理" in header and "团队" not in header
    manager.shot("landed")
    claim_and_work_a_lead(manager, "吴经理")
    manager.goto(manager_link)  # the link worked once
    assert "已经使用过" in manager.text()
