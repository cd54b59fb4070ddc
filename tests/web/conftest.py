"""Signing a test client in through the sign-in page, as a browser does."""

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient


def form_token(html: str, name: str = "csrf_token") -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert found, f"no {name} in the page"
    return found.group(1)


def sign_in(client: TestClient, key: str) -> TestClient:
    page = client.get("/web/sign-in")
    response = client.post(
        "/web/sign-in",
        data={"key": key, "sign_in": form_token(page.text, "sign_in")},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


@pytest.fixture
def browser_as(app: Any, session: Any) -> Callable[..., TestClient]:
    """``browser_as("bank", bank_code=…)``: a client signed in with a fresh key of that
    holder; ``.key`` is the key."""
    from service.access.models import Role
    from service.access.service import create_key

    def make(role: str, bank_code: str | None = None, enterprise_id: int | None = None) -> Any:
        key = create_key(session, Role(role), f"web {role}", bank_code, enterprise_id).key
        client = TestClient(app)
        client.key = key  # type: ignore[attr-defined]
        return sign_in(client, key)

    return make


# The real browser and `finmatch serve` (tests/web/browser.py), for every page test module.
from tests.web.browser import browser, server, visit  # noqa: E402, F401
