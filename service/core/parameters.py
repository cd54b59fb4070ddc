"""Unknown query parameters are refused, not ignored: a misspelt or unsupported filter
(``?need=7`` for ``?need_id=7``, ``?sort=…`` where there is none) would otherwise answer as
if it had been applied, and the caller would act on the wrong list. One dependency of the API
router checks every request against its route's declared query parameters (those of the
route's nested dependencies included, by the names a client sends, i.e. their aliases),
worked out once per route."""

from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.params import Query
from pydantic import AliasChoices, BaseModel

from service.core.errors import Unprocessable

# Per route (routes are not hashable): the route itself, kept so that its id stays its own,
# and the names its operation takes. Routes are made once, at import.
_taken: dict[int, tuple[Any, frozenset[str]]] = {}


async def refuse_unknown_query(request: Request) -> None:
    """Dependency: a 422 ``unknown_parameter`` naming the first query parameter the route
    does not take, with the list of those it does. Async, so that it costs no worker thread."""
    if not request.query_params:
        return
    route = request.scope.get("route")
    if getattr(route, "dependant", None) is None:
        return
    cached = _taken.get(id(route))
    if cached is None or cached[0] is not route:
        cached = _taken[id(route)] = (route, query_names(_dependant(request, route)))
    taken = cached[1]
    unknown = [name for name in dict.fromkeys(request.query_params.keys()) if name not in taken]
    if unknown:
        raise unknown_parameter(unknown, taken)


def _dependant(request: Request, route: Any) -> Dependant:
    """The route's dependant as this app runs it: with the dependencies that the routers
    including it add (FastAPI keeps those on the inclusion, not on the route itself)."""
    from fastapi import routing

    effective = getattr(routing, "_get_scope_effective_route_context", lambda _: None)
    context = effective(request.scope)
    dependant = getattr(context, "dependant", None)
    return dependant if isinstance(dependant, Dependant) else route.dependant


def unknown_parameter(unknown: list[str], taken: frozenset[str]) -> Unprocessable:
    accepted = (
        f"此接口接受的查询参数：{'、'.join(sorted(taken))}。" if taken else "此接口不接受查询参数。"
    )
    return Unprocessable(
        f"未知的查询参数：{'、'.join(unknown)}。{accepted}",
        code="unknown_parameter",
        field=unknown[0],
        unknown=unknown,
        parameters=sorted(taken),
    )


def query_names(dependant: Dependant) -> frozenset[str]:
    """The names a client may send as query parameters to the route of ``dependant``: every
    query parameter of it and of its dependencies, nested, by alias (a parameter model's
    fields by theirs)."""
    names: set[str] = set()
    stack = [dependant]
    while stack:
        node = stack.pop()
        for field in node.query_params:
            model = _model(field.field_info.annotation)
            if model is not None and isinstance(field.field_info, Query):
                for name, info in model.model_fields.items():
                    names |= _aliases(info.validation_alias, info.alias or name)
            else:
                names |= _aliases(field.field_info.validation_alias, field.alias)
        stack.extend(node.dependencies)
    return frozenset(names)


def _aliases(validation_alias: Any, alias: str) -> set[str]:
    if isinstance(validation_alias, AliasChoices):
        return {choice for choice in validation_alias.choices if isinstance(choice, str)}
    if isinstance(validation_alias, str):
        return {validation_alias}
    return {alias}


def _model(annotation: Any) -> type[BaseModel] | None:
    """A pydantic model taken whole from the query string (``Annotated[Filters, Query()]``,
    optionally ``| None``), or None."""
    candidates = getattr(annotation, "__args__", None) or (annotation,)
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None
