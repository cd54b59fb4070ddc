"""The browser the page tests drive: Debian's Chromium, headless, through Playwright, with
JavaScript switched off (the pages must work without it), against `finmatch serve` on a fresh
database with the demo library (one server per test module). ``visit(name)`` opens one
person's browser context; every page it saves lands under test-artifacts/screenshots (or
$FINMATCH_ARTIFACTS).

Where no Chromium is found the tests skip and say so; in CI (CI=true) they fail instead,
since .ci/run installs it."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import create_database

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("FINMATCH_CHROMIUM", "/usr/bin/chromium"))
# Without these Chromium keeps calling out to a network it cannot reach.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(os.environ.get("FINMATCH_ARTIFACTS", ROOT / "test-artifacts")) / "screenshots"
OFFICE = "fmk_demooffice_demo-office-key-for-local-trials-only"
BANK = "fmk_demobank01_demo-bank-key-for-local-trials-only"
ENTERPRISE = "fmk_demoent001_demo-enterprise-key-for-local-trials-only"
BANK_CODE = "jsbank-wx"


def _why_no_browser() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if not CHROMIUM.exists():
        return (
            f"no Chromium at {CHROMIUM} (apt-get install chromium fonts-noto-cjk, or set "
            "FINMATCH_CHROMIUM)"
        )
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    why = _why_no_browser()
    if why:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run in CI: {why}")
        pytest.skip(f"browser tests skipped: {why}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`finmatch serve` on a database of its own, migrated and seeded as the README says."""
    url, drop = create_database(tmp_path_factory.mktemp("browser-db"))
    env = {**os.environ, "DATABASE_URL": url, "FINMATCH_HOME": str(ROOT)}
    finmatch = [sys.executable, "-m", "service.cli"]
    for step in (["migrate"], ["seed", "--demo"], ["match", "--all"]):
        subprocess.run([*finmatch, *step], env=env, cwd=ROOT, check=True, capture_output=True)
    port = _free_port()
    process = subprocess.Popen(
        [*finmatch, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None:
                raise RuntimeError(process.stderr.read().decode() if process.stderr else "")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
        drop()


class Visit:
    """A browser context of one person (cookies of its own), JavaScript off, that records
    every request the pages make."""

    def __init__(self, browser: Any, base: str, name: str, **options: Any) -> None:
        self.base, self.name = base, name
        self.context = browser.new_context(
            base_url=base,
            java_script_enabled=False,
            accept_downloads=True,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            **options,
        )
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.broken: list[str] = []  # a stylesheet or image that did not load
        self.page.on(
            "response",
            lambda r: (
                self.broken.append(f"{r.status} {r.url}")
                if r.request.resource_type != "document" and r.status >= 400
                else None
            ),
        )
        self.shots = 0

    def goto(self, path: str) -> Any:
        response = self.page.goto(path)
        assert response is not None and response.status < 500, (path, response and response.status)
        return response

    def follow(self, selector: str) -> None:
        """Click what leads to a new page and wait until that page has loaded: a click returns
        once the navigation has begun, when the new page's rows may not be there yet."""
        self.page.click(selector)
        self.page.wait_for_load_state("load")

    def shot(self, label: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        self.page.screenshot(
            path=str(ARTIFACTS / f"{self.name}-{self.shots:02d}-{label}.png"), full_page=True
        )

    def sign_in(self, key: str) -> None:
        self.goto("/web/sign-in")
        self.shot("sign-in")
        self.page.fill("#key", key)
        self.page.click("#key-form button[type=submit]")

    def sign_in_as(self, login: str, password: str) -> None:
        """Sign in as a person, with the page's first form."""
        self.goto("/web/sign-in")
        self.page.fill("#login", login)
        self.page.fill("#password", password)
        self.page.click("#password-form button[type=submit]")

    def text(self) -> str:
        return str(self.page.inner_text("main"))

    def close(self) -> None:
        outside = [u for u in self.requests if not u.startswith(self.base)]
        self.context.close()
        assert not outside, f"pages fetched from outside the app: {outside}"
        assert not self.broken, f"resources that failed: {self.broken}"
        assert any(u.endswith("/web/static/app.css") for u in self.requests)


@pytest.fixture
def visit(browser: Any, server: str) -> Iterator[Any]:
    opened: list[Visit] = []

    def make(name: str, **options: Any) -> Visit:
        v = Visit(browser, server, name, **options)
        opened.append(v)
        return v

    yield make
    for v in opened:
        v.close()
