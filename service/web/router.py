"""All the pages, in the order they are matched: signing in and home, the enterprise
portal, the bank view, the office's figures and library work, then the two that belong to
no one role: a release's download (for the office and the banks) and, last, the page for
any other address under /web."""

from fastapi import APIRouter, Request, Response

from service.core.errors import AppError
from service.core.exports import send
from service.lists.exports import release_export
from service.web import (
    account,
    bank,
    bank_leads,
    bank_loans,
    bank_requests,
    enterprise,
    enterprise_leads,
    enterprise_loans,
    enterprise_needs,
    enterprise_policies,
    enterprise_requests,
    office,
    office_library,
    office_policies,
    office_requests,
    signin,
)
from service.web.pages import Id, SessionDep, page_router
from service.web.security import Signed

router = APIRouter()
for part in (
    signin,
    enterprise,
    enterprise_needs,
    enterprise_leads,
    enterprise_loans,
    enterprise_requests,
    enterprise_policies,
    bank,
    bank_leads,
    bank_loans,
    bank_requests,
    office,
    office_library,
    office_requests,
    office_policies,
    account,
):
    router.include_router(part.router)

# After every role's pages: the catch-all must be matched last.
everyone = page_router()


@everyone.get("/releases/{number:int}/{kind}.{fmt}")
def release_download(
    request: Request, session: SessionDep, who: Signed, number: Id, kind: str, fmt: str
) -> Response:
    """A release's library as a spreadsheet, as the signed-in office or bank sees it (the
    API's export, with the page's session)."""
    if kind not in ("enterprise", "project") or fmt not in ("csv", "xlsx"):
        raise AppError(f"没有名为 {kind}.{fmt} 的导出。", status=404, code="export_not_found")
    open_session = request.app.state.open_session
    return send(release_export(session, who.principal, number, kind, fmt, open_session))  # type: ignore[arg-type]


@everyone.get("/{path:path}")
def not_found(path: str) -> Response:
    """Any other address under /web: a page that says so, not the API's problem+json."""
    raise AppError("没有这个页面。", status=404, code="page_not_found")


router.include_router(everyone)
