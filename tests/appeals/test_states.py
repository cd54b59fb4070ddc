"""The request state machine: the move table, who may take each step, what each step must
carry, and properties of every path through it."""

from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.appeals.exceptions import ActionNotAllowed, StepInvalid, WrongActor
from service.appeals.states import (
    ACTION_LABEL,
    FINAL,
    MAY,
    MOVES,
    OPEN,
    REOPEN_LIMIT,
    STATUS_LABEL,
    Action,
    Actor,
    AppealStatus,
    Step,
    allowed_actions,
    check,
)

S, A = AppealStatus, Action


def valid(action: Action, actor: Actor | None = None) -> Step:
    """A complete step of ``action`` by someone allowed to take it."""
    who = actor or next(a for a in Actor if a in MAY[action])
    text = "说明" if action in (A.reject, A.answer, A.close, A.reopen) else None
    return Step(
        action=action,
        actor=who,
        text=text,
        category="charges" if action == A.accept else None,
        target="jsbank-wx" if action == A.dispatch else "7" if action == A.merge else None,
        rating=4 if action == A.confirm else None,
    )


def test_every_status_and_action_has_a_label_and_a_row() -> None:
    assert set(STATUS_LABEL) == set(S) and set(ACTION_LABEL) == set(A)
    assert set(MOVES) == set(S) and set(MAY) == set(A)
    assert FINAL.isdisjoint(OPEN)
    assert FINAL | OPEN | {S.closed} == set(S)
    for status in FINAL:
        assert MOVES[status] == {}, status
    for status in S:
        if status not in FINAL:
            assert MOVES[status], f"{status} is a dead end"


@pytest.mark.parametrize(("status", "action"), list(product(S, A)))
def test_each_pair_is_allowed_exactly_as_the_table_says(status: S, action: A) -> None:
    step = valid(action)
    if action in MOVES[status]:
        assert check(status, step) == MOVES[status][action]
    else:
        with pytest.raises(ActionNotAllowed) as caught:
            check(status, step)
        assert caught.value.status == 409
        assert caught.value.extra["allowed"] == [str(a) for a in allowed_actions(status)]


@pytest.mark.parametrize(("action", "actor"), list(product(A, Actor)))
def test_only_the_right_actor_may_take_a_step(action: A, actor: Actor) -> None:
    status = next(s for s in S if action in MOVES[s])
    step = valid(action, actor)
    if actor in MAY[action]:
        check(status, step)
    else:
        with pytest.raises(WrongActor) as caught:
            check(status, step)
        assert caught.value.status == 403


def test_the_office_triages_dispatches_and_closes_the_bank_only_answers() -> None:
    for action in (A.accept, A.reject, A.merge, A.dispatch, A.close):
        assert MAY[action] == {Actor.office}
    assert MAY[A.answer] == {Actor.handler, Actor.office}
    assert MAY[A.confirm] == MAY[A.reopen] == {Actor.enterprise}


@pytest.mark.parametrize(
    ("step", "field"),
    [
        (Step(A.accept, Actor.office), "category"),
        (Step(A.reject, Actor.office, text="   "), "text"),
        (Step(A.answer, Actor.handler), "text"),
        (Step(A.close, Actor.office, text=""), "text"),
        (Step(A.reopen, Actor.enterprise), "text"),
        (Step(A.dispatch, Actor.office), "handler"),
        (Step(A.merge, Actor.office), "merge_into_id"),
        (Step(A.confirm, Actor.enterprise), "rating"),
        (Step(A.confirm, Actor.enterprise, rating=0), "rating"),
        (Step(A.confirm, Actor.enterprise, rating=6), "rating"),
        (Step(A.withdraw, Actor.enterprise, rating=3), "rating"),
        (Step(A.dispatch, Actor.office, target="x", category="charges"), "category"),
        (Step(A.answer, Actor.handler, text="长" * 2001), "text"),
    ],
)
def test_a_step_without_its_data_is_refused(step: Step, field: str) -> None:
    status = next(s for s in S if step.action in MOVES[s])
    with pytest.raises(StepInvalid) as caught:
        check(status, step)
    assert caught.value.field == field and caught.value.status == 422


def test_reopen_only_once() -> None:
    assert check(S.closed, valid(A.reopen), reopens=0) == S.reopened
    with pytest.raises(ActionNotAllowed) as caught:
        check(S.closed, valid(A.reopen), reopens=REOPEN_LIMIT)
    assert caught.value.code == "reopen_limit"
    assert A.reopen not in allowed_actions(S.closed, reopens=1)
    assert allowed_actions(S.closed, reopens=1) == (A.confirm,)


# --- properties of every path ---------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(list(A)), st.sampled_from(list(Actor))), max_size=30))
def test_any_sequence_of_steps_keeps_the_invariants(steps: list[tuple[A, Actor]]) -> None:
    """Whatever is tried in whatever order: a refused step changes nothing; a final status
    never moves again; a request is reopened at most once; it is confirmed (rated) only
    after it was closed; answered only while dispatched."""
    status, reopens, history = S.raised, 0, [S.raised]
    for action, actor in steps:
        try:
            to = check(status, valid(action, actor), reopens)
        except (ActionNotAllowed, WrongActor):
            continue
        assert status not in FINAL
        assert actor in MAY[action]
        if action == A.reopen:
            reopens += 1
        if action == A.answer:
            assert status == S.dispatched
        if to == S.confirmed:
            assert status == S.closed
        status = to
        history.append(status)
    assert reopens <= REOPEN_LIMIT
    assert history.count(S.reopened) <= REOPEN_LIMIT
    if S.confirmed in history:
        assert history[-1] == S.confirmed


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(list(A)), max_size=25))
def test_every_path_can_still_end(actions: list[A]) -> None:
    """From wherever a request gets, it can still reach a final status: nothing gets stuck."""
    status, reopens = S.raised, 0
    for action in actions:
        try:
            status = check(status, valid(action), reopens)
            reopens += action == A.reopen
        except ActionNotAllowed:
            pass
    seen, frontier = {status}, [(status, reopens)]
    while frontier:
        current, done = frontier.pop()
        if current in FINAL:
            return
        for action in allowed_actions(current, done):
            nxt = (MOVES[current][action], done + (action == A.reopen))
            if nxt[0] not in seen:
                seen.add(nxt[0])
                frontier.append(nxt)
    raise AssertionError(f"stuck at {status}")
