"""Every page of every role passes axe-core's checks (WCAG 2 A and AA and best practices)
without a serious or critical violation: the sign-in and error pages, and for the office, a
bank and an enterprise the navigation's pages and one link further (``walk``).

The pages run no script and their CSP forbids one; only this check's own browser context runs
JavaScript, with the CSP bypassed, to inject axe (shipped by axe-playwright-python). A failure
lists every violation: page, rule, impact, the element and what axe says to do."""

from typing import Any

import pytest

from tests.web.browser import BANK, ENTERPRISE, OFFICE
from tests.web.walk import walk

KEYS = {"office": OFFICE, "bank": BANK, "enterprise": ENTERPRISE}
BLOCKING = ("serious", "critical")


def _axe() -> Any:
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:  # pragma: no cover - a dev dependency
        pytest.skip("axe-playwright-python is not installed (pip install -e '.[dev]')")
    return Axe()


def _checker(browser: Any, base: str, state: Any = None) -> Any:
    """A page of a context that runs scripts despite the pages' CSP, for axe only."""
    context = browser.new_context(
        base_url=base,
        java_script_enabled=True,
        bypass_csp=True,
        locale="zh-CN",
        storage_state=state,
    )
    return context.new_page()


def _violations(axe: Any, page: Any, path: str) -> list[str]:
    response = page.goto(path)
    if response is None or response.status >= 500:
        return [f"{path}: the page failed ({response and response.status})"]
    results = axe.run(page)
    found = []
    for v in results.response["violations"]:
        if v["impact"] not in BLOCKING:
            continue
        for node in v["nodes"][:5]:
            found.append(
                f"{path} · {v['id']} ({v['impact']}) · {' '.join(map(str, node['target']))} · "
                f"{node['html'][:200]} · {node.get('failureSummary', '').strip()[:300]}"
            )
    return found


def _report(found: list[str]) -> str:
    return f"{len(found)} serious or critical accessibility violations:\n" + "\n".join(found)


def test_the_pages_before_signing_in_are_accessible(browser: Any, server: str) -> None:
    axe = _axe()
    page = _checker(browser, server)
    try:
        found = []
        for path in ("/web/sign-in", "/web/no-such-page"):
            found += _violations(axe, page, path)
    finally:
        page.context.close()
    assert not found, _report(found)


@pytest.mark.parametrize("role", list(KEYS))
def test_every_page_of_a_role_is_accessible(visit: Any, browser: Any, role: str) -> None:
    axe = _axe()
    person = visit(f"a11y-{role}")
    person.sign_in(KEYS[role])
    pages = walk(person.page, person.base, f"/web/{role}")
    page = _checker(browser, person.base, person.context.storage_state())
    try:
        found = []
        for path in [*pages, f"/web/{role}/no-such-page"]:
            found += _violations(axe, page, path)
    finally:
        page.context.close()
    assert len(pages) >= 3, pages
    assert not found, _report(found)
