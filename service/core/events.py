"""In-transaction domain events, so that a lower domain can announce a change without knowing
who listens: the enterprise library does not know that matching keeps scores current.

A use case calls ``emit(session, "enterprise.changed", enterprise_id=...)`` before it commits;
the handlers run in the same transaction, so the change and its consequences commit together
or not at all. A bulk change announces its enterprises once, ``emit(session,
"enterprises.changed", enterprise_ids=[...])``: a listener of "enterprise.changed" that must
hear of every change listens to both."""

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlmodel import Session

Handler = Callable[..., None]
_handlers: dict[str, list[Handler]] = defaultdict(list)


def subscribe(event: str, handler: Handler) -> None:
    if handler not in _handlers[event]:
        _handlers[event].append(handler)


def emit(session: Session, event: str, **payload: Any) -> None:
    for handler in _handlers.get(event, ()):
        handler(session, **payload)
