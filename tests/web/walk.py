"""The pages a signed-in person reaches: the navigation's pages and one level of links from
each (same origin, under /web, plain GET links; no exports, downloads or signing out). Links
that differ only in their ids and query (/web/bank/leads/3, /web/bank/leads/4) are one
kind of page: the first of each is visited."""

import re
from typing import Any
from urllib.parse import urlsplit

SKIPPED = ("/export", "/download", "sign-out", "/static/")
SKIPPED_ENDINGS = (".csv", ".xlsx", ".xls", ".pdf", ".zip", ".json")


def _links(page: Any, base: str, selector: str) -> list[str]:
    hrefs = page.eval_on_selector_all(
        selector, "els => els.filter(e => !e.hasAttribute('download')).map(e => e.href)"
    )
    found = []
    for href in hrefs:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != base or not parts.path.startswith("/web"):
            continue
        if any(s in parts.path for s in SKIPPED) or parts.path.endswith(SKIPPED_ENDINGS):
            continue
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def kind_of(path: str) -> str:
    """Pages of one kind: the same path but for ids (and a bank's code)."""
    path = re.sub(r"/banks/[^/]+", "/banks/{code}", path.split("?")[0])
    return re.sub(r"\d+", "{n}", path)


def walk(page: Any, base: str, home: str) -> list[str]:
    """Every page reachable from ``home`` by the navigation and one link more, one per kind,
    in the order found. ``page`` is signed in (JavaScript need not be on)."""
    page.goto(home)
    first = [urlsplit(page.url).path, *_links(page, base, "header nav a[href]")]
    kinds: dict[str, str] = {}
    for path in first:
        kinds.setdefault(kind_of(path), path)
    for path in first:
        page.goto(path)
        for link in _links(page, base, "main a[href]"):
            kinds.setdefault(kind_of(link), link)
    return list(kinds.values())
