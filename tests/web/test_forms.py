"""Reading posted forms: each bad field gets its own message."""

from datetime import date

import pytest

from service.core.errors import Unprocessable
from service.web.forms import FormReader


@pytest.mark.parametrize(
    ("typed", "fen"),
    [("300", 300_000_000), ("52.5", 52_500_000), ("1,000", 1_000_000_000), ("0.000001", 1)],
)
def test_amounts_in_wan_become_fen(typed: str, fen: int) -> None:
    form = FormReader({"amount": typed})
    assert form.wan_to_fen("amount") == fen and not form.errors


@pytest.mark.parametrize("typed", ["abc", "0", "-5", "0.0000001", "NaN", "Infinity", "1e12"])
def test_bad_amounts_are_refused_with_a_message(typed: str) -> None:
    form = FormReader({"amount": typed})
    assert form.wan_to_fen("amount") is None
    assert form.errors["amount"]


@pytest.mark.parametrize(("typed", "bp"), [("3.45", 345), ("4%", 400), ("0.01", 1)])
def test_rates_in_percent_become_basis_points(typed: str, bp: int) -> None:
    form = FormReader({"rate": typed})
    assert form.percent_to_bp("rate") == bp and not form.errors


@pytest.mark.parametrize("typed", ["3.456", "0", "100", "x"])
def test_bad_rates_are_refused(typed: str) -> None:
    form = FormReader({"rate": typed})
    assert form.percent_to_bp("rate") is None and "rate" in form.errors


def test_required_fields_and_ranges() -> None:
    form = FormReader({"term": "0", "when": "2026-13-01", "pick": "zz", "many": ["a", "q"]})
    assert form.integer("term", 1, 360) is None
    assert form.integer("missing", 1, 2, required=True) is None
    assert form.day("when") is None
    assert form.choice("pick", ["a", "b"]) is None
    assert form.choices("many", ["a", "b"]) == []
    assert set(form.errors) == {"term", "missing", "when", "pick", "many"}


def test_good_values() -> None:
    form = FormReader({"when": "2026-12-31", "many": ["a", "b"], "one": "a", "box": "on"})
    assert form.day("when") == date(2026, 12, 31)
    assert form.choices("many", ["a", "b"]) == ["a", "b"]
    assert form.choices("one", ["a"]) == ["a"]
    assert form.checked("box") and not form.checked("absent")
    assert not form.errors


def test_a_use_case_refusal_lands_beside_its_field_or_on_top() -> None:
    form = FormReader({})
    form.absorb(Unprocessable("期望到位日期不能早于今天。", field="wanted_by_date"))
    form.absorb(Unprocessable("别的问题"))
    assert form.errors == {"wanted_by_date": "期望到位日期不能早于今天。", "_form": "别的问题"}


def test_text_length() -> None:
    form = FormReader({"note": "字" * 11})
    assert form.text("note", 10) is None and "note" in form.errors


def test_run_calls_the_use_case_only_for_a_sound_form() -> None:
    calls: list[str] = []
    form = FormReader({"n": "x"})
    form.integer("n", 1, 2)
    assert form.run(lambda: calls.append("ran"), lambda: calls.append("undo")) is None
    assert calls == []


def test_run_keeps_a_refusal_beside_its_renamed_field_and_undoes() -> None:
    from service.core.concurrency import PreconditionFailed

    undone: list[bool] = []
    form = FormReader({}, renamed={"amount_fen": "amount"})

    def refuse() -> None:
        raise Unprocessable("金额须大于零", field="amount_fen")

    assert form.run(refuse, lambda: undone.append(True)) is None
    assert form.errors == {"amount": "金额须大于零"} and form.status == 422 and undone

    stale = FormReader({})

    def conflict() -> None:
        raise PreconditionFailed("已被修改")

    stale.run(conflict, lambda: None)
    assert stale.status == 412 and stale.errors == {"_form": "已被修改"}


def test_run_raises_a_missing_object_on() -> None:
    from service.core.errors import NotFound

    def missing() -> None:
        raise NotFound("不存在")

    with pytest.raises(NotFound):
        FormReader({}).run(missing, lambda: None)
    assert FormReader({}).run(lambda: 7, lambda: None) == 7
