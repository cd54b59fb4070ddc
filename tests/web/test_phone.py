"""Every page of every role fits a phone (390×844): nothing wider than the screen, and every
data table is a stack of cards there (``<table class="cards">``, each body cell with its
column's name in ``data-label``). Screenshots of each page land with the others."""

from typing import Any

import pytest

from tests.web.browser import BANK, ENTERPRISE, OFFICE
from tests.web.walk import walk

KEYS = {"office": OFFICE, "bank": BANK, "enterprise": ENTERPRISE}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
WIDTH = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
# Tables of main that are not cards, or have a body cell without its column's name (a cell
# spanning the whole row, "nothing yet", needs none); each as its first header or class.
TABLES_NOT_CARDS = """() => [...document.querySelectorAll('main table')]
    .filter(t => !t.classList.contains('cards') || [...t.querySelectorAll('tbody td')]
        .some(td => !td.hasAttribute('data-label') && !td.hasAttribute('colspan')))
    .map(t => (t.className ? 'table.' + t.className + ' ' : '')
        + (t.querySelector('th') ? t.querySelector('th').textContent.trim() : ''))"""


@pytest.mark.parametrize("role", list(KEYS))
def test_every_page_fits_a_phone(visit: Any, role: str) -> None:
    phone = visit(f"phone-{role}", **PHONE)
    phone.sign_in(KEYS[role])
    pages = walk(phone.page, phone.base, f"/web/{role}")
    assert len(pages) >= 3, pages
    too_wide, broken, not_cards = [], [], []
    for path in pages:
        response = phone.page.goto(path)
        if response is None or response.status >= 500:
            broken.append((path, response and response.status))
            continue
        phone.shot(path.split("?")[0].strip("/").replace("/", "-"))
        overflow = phone.page.evaluate(WIDTH)
        if overflow > 0:
            wide = phone.page.evaluate(
                """() => [...document.querySelectorAll('main *')]
                    .filter(e => e.getBoundingClientRect().right > innerWidth + 1)
                    .slice(0, 3).map(e => e.tagName.toLowerCase()
                        + (e.className ? '.' + String(e.className).replace(/ /g, '.') : ''))"""
            )
            too_wide.append((path, overflow, wide))
        plain = phone.page.evaluate(TABLES_NOT_CARDS)
        if plain:
            not_cards.append((path, plain))
    assert not broken, f"pages that failed: {broken}"
    assert not too_wide, f"pages wider than a phone (page, pixels over, widest): {too_wide}"
    assert not not_cards, (
        'data tables that stay tables on a phone (want <table class="cards"> and a '
        f"data-label on every body cell): {not_cards}"
    )


def test_a_data_table_is_a_stack_of_cards_on_a_phone(visit: Any) -> None:
    phone = visit("phone-cards", **PHONE)
    phone.sign_in(OFFICE)
    phone.goto("/web/office")
    table = phone.page.locator("table.cards").first
    assert table.count() == 1
    assert table.evaluate("t => getComputedStyle(t.querySelector('tbody tr')).display") == "block"
    label = table.evaluate(
        "t => getComputedStyle(t.querySelector('tbody td[data-label]'), '::before').content"
    )
    assert label.strip('"') and label != "none"
