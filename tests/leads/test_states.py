"""The lead state machine: the transition table, who may move a lead, what each step must
carry, and properties of every path through it."""

import dataclasses
from datetime import date
from itertools import product
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.leads.exceptions import ActorNotAllowed, OutcomeInvalid, TransitionNotAllowed
from service.leads.states import (
    ALLOWED,
    DECLINE_REASON_LABEL,
    OPEN,
    STATUS_LABEL,
    TERMINAL,
    DeclineReason,
    LeadStatus,
    Outcome,
    allowed_next,
    check,
    may_set,
    stage_reached,
)

S = LeadStatus
ACTORS = ["bank", "enterprise", "office"]
WAN = 1_000_000  # fen in 10,000 yuan
NOT_ALLOWED = [(a, b) for a, b in product(S, S) if b not in ALLOWED[a]]
IS_ALLOWED = [(a, b) for a, b in product(S, S) if b in ALLOWED[a]]


def valid(to: LeadStatus, actor: str | None = None) -> Outcome:
    """A complete, acceptable outcome for moving to ``to``."""
    if actor is None:
        actor = "enterprise" if to == S.withdrawn else "bank"
    if to == S.declined:
        return Outcome(to, actor, reason=DeclineReason.credit_history)
    if to in (S.approved, S.disbursed):
        return Outcome(
            to, actor, amount_fen=500 * WAN, rate_bp=345, term_months=12, on_date=date(2026, 3, 2)
        )
    return Outcome(to, actor)


def invalid_field(current: LeadStatus, outcome: Outcome, **kwargs: int | None) -> str:
    with pytest.raises(OutcomeInvalid) as caught:
        check(current, outcome, **kwargs)
    assert caught.value.code == "invalid_outcome"
    assert caught.value.status == 422
    return caught.value.field


# --- the tables -----------------------------------------------------------------------------


def test_statuses_and_groups() -> None:
    assert [s.value for s in S] == [
        "new",
        "viewed",
        "contacted",
        "approved",
        "disbursed",
        "declined",
        "withdrawn",
    ]
    assert {S.new, S.viewed, S.contacted, S.approved} == OPEN
    assert {S.disbursed, S.declined, S.withdrawn} == TERMINAL
    assert set(S) == OPEN | TERMINAL and not OPEN & TERMINAL


def test_transition_table() -> None:
    assert {
        S.new: {S.viewed, S.contacted, S.declined, S.withdrawn},
        S.viewed: {S.contacted, S.declined, S.withdrawn},
        S.contacted: {S.approved, S.declined, S.withdrawn},
        S.approved: {S.disbursed, S.declined, S.withdrawn},
        S.disbursed: set(),
        S.declined: set(),
        S.withdrawn: set(),
    } == ALLOWED
    assert allowed_next(S.contacted) == (S.approved, S.declined, S.withdrawn)


def test_every_status_and_reason_has_a_chinese_label() -> None:
    assert {
        S.new: "新线索",
        S.viewed: "已查看",
        S.contacted: "已联系",
        S.approved: "已批复",
        S.disbursed: "已放款",
        S.declined: "已拒绝",
        S.withdrawn: "已撤回",
    } == STATUS_LABEL
    assert set(DECLINE_REASON_LABEL) == set(DeclineReason)
    assert len(DeclineReason) == 10
    assert DECLINE_REASON_LABEL[DeclineReason.credit_history] == "征信记录不良"
    assert DECLINE_REASON_LABEL[DeclineReason.other] == "其他，须说明"
    assert all(r.value == r.value.lower() and " " not in r.value for r in DeclineReason)


def test_stage_reached() -> None:
    assert [stage_reached(s) for s in S] == [0, 1, 2, 3, 4, None, None]
    assert stage_reached("approved") == 3  # as stored


# --- transitions ----------------------------------------------------------------------------


@pytest.mark.parametrize(("current", "to"), IS_ALLOWED)
def test_every_allowed_transition_passes_with_complete_data(
    current: LeadStatus, to: LeadStatus
) -> None:
    check(current, valid(to))
    check(current, valid(to, "office"))


@pytest.mark.parametrize(("current", "to"), NOT_ALLOWED)
def test_every_other_pair_is_refused(current: LeadStatus, to: LeadStatus) -> None:
    for actor in ACTORS:
        with pytest.raises(TransitionNotAllowed) as caught:
            check(current, valid(to, actor))
        error = caught.value
        assert (error.current, error.to, error.allowed) == (current, to, ALLOWED[current])
        assert error.code == "transition_not_allowed"
        assert error.status == 409


def test_refusal_names_the_way_forward() -> None:
    with pytest.raises(TransitionNotAllowed) as caught:
        check(S.contacted, valid(S.new))
    assert str(caught.value) == (
        "线索当前为「已联系」，不能改为「新线索」；可改为：已批复、已拒绝、已撤回"
    )
    assert caught.value.extra["allowed"] == ["approved", "declined", "withdrawn"]


def test_refusal_from_a_final_status() -> None:
    with pytest.raises(TransitionNotAllowed) as caught:
        check(S.disbursed, valid(S.declined))
    assert str(caught.value) == "线索当前为「已放款」，不能改为「已拒绝」；该线索已结束，不能再更改"


def test_the_transition_is_checked_before_the_actor() -> None:
    with pytest.raises(TransitionNotAllowed):
        check(S.declined, valid(S.withdrawn, "bank"))


# --- actors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "to", "actor"),
    [
        (S.new, S.withdrawn, "bank"),
        (S.approved, S.withdrawn, "bank"),
        (S.contacted, S.approved, "enterprise"),
        (S.new, S.viewed, "enterprise"),
        (S.new, S.declined, "enterprise"),  # an enterprise that gives up withdraws
        (S.approved, S.disbursed, "enterprise"),
        (S.new, S.viewed, "admin"),
        (S.new, S.withdrawn, ""),
    ],
)
def test_actor_not_allowed(current: LeadStatus, to: LeadStatus, actor: str) -> None:
    with pytest.raises(ActorNotAllowed) as caught:
        check(current, valid(to, actor))
    assert caught.value.code == "actor_not_allowed"
    assert caught.value.status == 403


def test_actor_message() -> None:
    with pytest.raises(ActorNotAllowed) as caught:
        check(S.contacted, valid(S.approved, "enterprise"))
    assert str(caught.value) == "企业不能将线索改为「已批复」；只有银行、金融办可以"
    with pytest.raises(ActorNotAllowed) as caught:
        check(S.new, valid(S.withdrawn, "bank"))
    assert str(caught.value) == "银行不能将线索改为「已撤回」；只有企业、金融办可以"


def test_who_may_set_what() -> None:
    for to in S:
        assert may_set("office", to)
        assert may_set("bank", to) is (to != S.withdrawn)
        assert may_set("enterprise", to) is (to == S.withdrawn)
        assert not may_set("nobody", to)


# --- the data each step carries -------------------------------------------------------------


def test_decline_needs_a_reason() -> None:
    assert invalid_field(S.new, Outcome(S.declined, "bank")) == "reason"


def test_decline_reason_must_be_known() -> None:
    outcome = Outcome(S.declined, "bank", reason="too_small")  # type: ignore[arg-type]
    assert invalid_field(S.new, outcome) == "reason"
    check(S.new, Outcome(S.declined, "bank", reason="duplicate"))  # type: ignore[arg-type]


@pytest.mark.parametrize("note", [None, "", "   \n"])
def test_other_reason_needs_a_note(note: str | None) -> None:
    outcome = Outcome(S.declined, "bank", reason=DeclineReason.other, note=note)
    assert invalid_field(S.contacted, outcome) == "note"


def test_other_reason_with_a_note_passes() -> None:
    check(S.contacted, Outcome(S.declined, "bank", reason=DeclineReason.other, note="企业已搬迁"))
    check(S.contacted, Outcome(S.declined, "bank", reason=DeclineReason.other, note="说" * 500))


def test_note_length_is_capped() -> None:
    outcome = Outcome(S.declined, "bank", reason=DeclineReason.other, note="说" * 501)
    assert invalid_field(S.contacted, outcome) == "note"
    assert invalid_field(S.new, Outcome(S.viewed, "bank", note="x" * 501)) == "note"


@pytest.mark.parametrize(
    ("current", "to"),
    [
        (S.new, S.viewed),
        (S.new, S.contacted),
        (S.contacted, S.approved),
        (S.approved, S.disbursed),
        (S.new, S.withdrawn),
    ],
)
def test_a_reason_belongs_to_declines_only(current: LeadStatus, to: LeadStatus) -> None:
    outcome = dataclasses.replace(valid(to), reason=DeclineReason.duplicate)
    assert invalid_field(current, outcome) == "reason"


@pytest.mark.parametrize("to", [S.viewed, S.contacted, S.declined, S.withdrawn])
@pytest.mark.parametrize("field", ["amount_fen", "rate_bp", "term_months"])
def test_terms_belong_to_approval_and_disbursement_only(to: LeadStatus, field: str) -> None:
    changes: dict[str, Any] = {field: 12}
    outcome = dataclasses.replace(valid(to), **changes)
    assert invalid_field(S.new, outcome) == field


@pytest.mark.parametrize(("current", "to"), [(S.contacted, S.approved), (S.approved, S.disbursed)])
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount_fen": None}, "amount_fen"),
        ({"amount_fen": 0}, "amount_fen"),
        ({"amount_fen": -100}, "amount_fen"),
        ({"amount_fen": True}, "amount_fen"),
        ({"amount_fen": 1.5}, "amount_fen"),
        ({"rate_bp": None}, "rate_bp"),
        ({"rate_bp": -1}, "rate_bp"),
        ({"rate_bp": 3001}, "rate_bp"),
        ({"term_months": 0}, "term_months"),
        ({"term_months": 361}, "term_months"),
    ],
)
def test_terms_must_be_complete_and_sane(
    current: LeadStatus, to: LeadStatus, changes: dict[str, Any], field: str
) -> None:
    outcome = dataclasses.replace(valid(to), **changes)
    assert invalid_field(current, outcome) == field


@pytest.mark.parametrize(("current", "to"), [(S.contacted, S.approved), (S.approved, S.disbursed)])
@pytest.mark.parametrize(
    "changes",
    [
        {"rate_bp": 0},
        {"rate_bp": 3000},
        {"term_months": None},
        {"term_months": 1},
        {"term_months": 360},
        {"amount_fen": 1},
        {"on_date": None},
    ],
)
def test_terms_at_the_bounds_pass(
    current: LeadStatus, to: LeadStatus, changes: dict[str, Any]
) -> None:
    check(current, dataclasses.replace(valid(to), **changes))


def test_disbursement_may_not_exceed_the_approval() -> None:
    outcome = dataclasses.replace(valid(S.disbursed), amount_fen=500 * WAN + 1)
    assert invalid_field(S.approved, outcome, approved_amount_fen=500 * WAN) == "amount_fen"
    with pytest.raises(OutcomeInvalid) as caught:
        check(S.approved, outcome, approved_amount_fen=500 * WAN)
    assert str(caught.value) == "放款金额 5,000,000.01 元超过批复金额 5,000,000.00 元"
    check(S.approved, dataclasses.replace(outcome, amount_fen=500 * WAN), 500 * WAN)
    check(S.approved, dataclasses.replace(outcome, amount_fen=300 * WAN), 500 * WAN)
    check(S.approved, outcome)  # approved amount unknown: no ceiling


def test_outcome_error_carries_its_field() -> None:
    with pytest.raises(OutcomeInvalid) as caught:
        check(S.new, Outcome(S.declined, "bank"))
    assert caught.value.extra == {"field": "reason"}
    assert str(caught.value) == "拒绝线索须选择拒绝原因"


# --- properties -----------------------------------------------------------------------------


@st.composite
def walks(draw) -> list[LeadStatus]:
    """A path from ``new`` that follows allowed transitions until it stops or ends."""
    path = [S.new]
    while ALLOWED[path[-1]] and draw(st.integers(0, 9)) > 0:
        path.append(draw(st.sampled_from(allowed_next(path[-1]))))
    return path


@settings(max_examples=300, deadline=None)
@given(walks())
def test_paths_are_short_and_never_leave_a_final_status(path: list[LeadStatus]) -> None:
    assert len(path) - 1 <= 4
    for before, after in zip(path, path[1:], strict=False):
        assert before not in TERMINAL
        assert after != before
        check(before, valid(after))
        depth_before, depth_after = stage_reached(before), stage_reached(after)
        if depth_after is not None:
            assert depth_before is not None and depth_after > depth_before


def test_longest_path_has_four_steps() -> None:
    def longest(status: LeadStatus) -> int:
        return max((1 + longest(s) for s in ALLOWED[status]), default=0)

    assert longest(S.new) == 4
    assert all(longest(s) == 0 for s in TERMINAL)


outcomes = st.builds(
    Outcome,
    to=st.sampled_from(list(S)),
    actor=st.sampled_from([*ACTORS, "someone"]),
    reason=st.one_of(st.none(), st.sampled_from(list(DeclineReason))),
    note=st.one_of(st.none(), st.text(max_size=600)),
    amount_fen=st.one_of(st.none(), st.integers(-WAN, 10_000 * WAN)),
    rate_bp=st.one_of(st.none(), st.integers(-10, 4000)),
    term_months=st.one_of(st.none(), st.integers(-1, 400)),
    on_date=st.one_of(st.none(), st.dates()),
)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(list(S)), outcomes, st.one_of(st.none(), st.integers(0, 10_000 * WAN)))
def test_check_refuses_pairs_outside_the_table_whatever_the_data(
    current: LeadStatus, outcome: Outcome, approved: int | None
) -> None:
    try:
        check(current, outcome, approved)
    except TransitionNotAllowed:
        assert outcome.to not in ALLOWED[current]
    except ActorNotAllowed:
        assert outcome.to in ALLOWED[current]
        assert not may_set(outcome.actor, outcome.to)
    except OutcomeInvalid as error:
        assert outcome.to in ALLOWED[current] and may_set(outcome.actor, outcome.to)
        assert error.field in {"to", "reason", "note", "amount_fen", "rate_bp", "term_months"}
    else:
        assert outcome.to in ALLOWED[current] and may_set(outcome.actor, outcome.to)
        assert (outcome.reason is not None) is (outcome.to == S.declined)
        if outcome.to in (S.approved, S.disbursed):
            assert outcome.amount_fen is not None and outcome.amount_fen > 0
            assert outcome.rate_bp is not None and 0 <= outcome.rate_bp <= 3000
        if outcome.to == S.disbursed and approved is not None:
            assert outcome.amount_fen is not None and outcome.amount_fen <= approved
