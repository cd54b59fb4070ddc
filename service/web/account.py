"""People's pages: one's own account (name, role, bank, changing the password), the page an
invitation or reset link opens (who is invited and a form to choose the password; reading it
never uses the link up), and the people an administrator manages: the office's 用户 (everyone)
and a bank administrator's 团队 (its own bank's), each with pending invitations, an invite
form, reset links and disabling. A new link is shown once, on the page that answers the
form, as a full address to send on. Every rule is the use cases' (``access.users`` and
``access.invitations``); these pages parse, call and render."""

from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response
from fastapi.responses import HTMLResponse

from service.access import invitations, users
from service.access.models import BankRole, Role
from service.access.policy import ROLE_LABEL
from service.access.schemas import InvitationCreated, InvitationRequest
from service.core.errors import AppError
from service.core.models import utcnow
from service.core.pagination import PageParams
from service.enterprises.service import read_enterprise
from service.web.forms import FormReader
from service.web.pages import PREFIX, Id, SessionDep, bank_names, page_router, render, see_other
from service.web.security import (
    BANK_ROLE_WORDS,
    SESSION_COOKIE,
    Form,
    Signed,
    Visitor,
    new_sign_in_token,
    posted_sign_in_form,
    role_guard,
    set_sign_in_token,
    start_session,
)
from service.web.signin import HOME

router = page_router()

DONE = {
    "password": "密码已修改，其他设备上的登录已退出。",
    "disabled": "账号已停用，其登录已全部退出。",
    "enabled": "账号已启用。",
    "revoked": "邀请已撤销，链接不再有效。",
}
PAGES = {"office": ("/office/users", "office/users.html"), "bank": ("/bank/team", "bank/team.html")}
ALL = PageParams(limit=200, cursor=None)


def role_words(role: str, bank_role: str | None) -> str:
    if bank_role:
        return BANK_ROLE_WORDS[BankRole(bank_role)]
    return ROLE_LABEL[Role(role)]


def _done(done: str | None) -> str | None:
    return DONE.get(done or "")


# --- one's own account ------------------------------------------------------------------------


@router.get("/account")
def account(
    request: Request,
    session: SessionDep,
    who: Signed,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    me = users.my_account(session, who.principal)
    return _account_page(request, who, me, {}, 200, done=_done(done))


def _account_page(
    request: Request, who: Visitor, me: Any, errors: dict[str, str], status: int, **extra: Any
) -> HTMLResponse:
    return render(
        request,
        "account/home.html",
        who,
        status,
        me=me,
        errors=errors,
        role_words=role_words(me.role, me.bank_role),
        **extra,
    )


@router.post("/account/password")
def change_password(request: Request, session: SessionDep, who: Signed, fields: Form) -> Response:
    me = users.my_account(session, who.principal)
    form = FormReader(fields)
    current, new, again = (_secret(fields, n) for n in ("current_password", "password", "again"))
    if not current:
        form.fail("current_password", "请填写当前密码。")
    if not new:
        form.fail("password", "请填写新密码。")
    elif new != again:
        form.fail("again", "两次输入的新密码不一致。")
    token = request.cookies.get(SESSION_COOKIE)
    form.run(
        lambda: users.change_password(session, who.principal, current, new, token),
        session.rollback,
    )
    if form.errors:
        return _account_page(request, who, me, form.errors, form.status)
    return see_other(f"{PREFIX}/account?done=password")


def _secret(fields: dict[str, Any], name: str) -> str:
    """A password field as typed (never trimmed), or empty."""
    value = fields.get(name)
    return value if isinstance(value, str) and len(value) <= 200 else ""


# --- a link: accept an invitation, or choose a new password -----------------------------------


def _link_page(
    request: Request,
    session: SessionDep,
    token: str,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    try:
        invitation = invitations.open_invitation(session, token)
    except AppError as exc:
        return render(request, "account/link_gone.html", None, exc.status, message=exc.detail)
    bank = bank_names(session).get(invitation.bank_code or "")
    csrf = new_sign_in_token()
    response = render(
        request,
        "account/accept.html",
        None,
        status,
        invitation=invitation,
        role_words=role_words(invitation.role, invitation.bank_role),
        bank_name=bank,
        token=token,
        sign_in=csrf,
        errors=errors or {},
    )
    set_sign_in_token(request, response, csrf)
    return response


@router.get("/invitations/{token}")
def open_link(request: Request, session: SessionDep, token: str) -> Response:
    return _link_page(request, session, token[:200])


@router.post("/invitations/{token}")
async def accept_link(request: Request, session: SessionDep, token: str) -> Response:
    fields = await posted_sign_in_form(request)
    password, again = _secret(fields, "password"), _secret(fields, "again")
    if not password:
        return _link_page(request, session, token, {"password": "请设置密码。"}, 422)
    if password != again:
        return _link_page(request, session, token, {"again": "两次输入的密码不一致。"}, 422)
    try:
        _, signed = invitations.accept(session, token[:200], password, sign_in=True)
    except AppError as exc:
        session.rollback()
        if exc.code == "weak_password":
            return _link_page(request, session, token, {"password": exc.detail}, 422)
        if exc.code == "login_taken":
            return render(request, "account/link_gone.html", None, 409, message=exc.detail)
        return render(request, "account/link_gone.html", None, exc.status, message=exc.detail)
    if signed is None:  # a disabled account's new password: it still may not sign in
        return see_other(f"{PREFIX}/sign-in")
    response = see_other(PREFIX + HOME[signed.principal.role])
    start_session(request, response, signed.token)
    return response


# --- the people an administrator manages ------------------------------------------------------


def _people_page(
    request: Request,
    session: SessionDep,
    who: Visitor,
    kind: str,
    status: int = 200,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, Any] | None = None,
    link: InvitationCreated | None = None,
    done: str | None = None,
) -> HTMLResponse:
    people = users.list_people(session, who.principal, ALL).items
    pending = invitations.list_invitations(session, who.principal, ALL).items
    banks = bank_names(session)
    enterprises: dict[int, str] = {}
    for enterprise_id in {p.enterprise_id for p in people} | {i.enterprise_id for i in pending}:
        if enterprise_id:
            enterprises[enterprise_id] = read_enterprise(session, enterprise_id, who.principal).name
    base, template = PAGES[kind]
    url = str(request.base_url).rstrip("/") + link.path if link and link.path else None
    return render(
        request,
        template,
        who,
        status,
        people=people,
        pending=pending,
        banks=banks,
        enterprises=enterprises,
        words=role_words,
        errors=errors or {},
        typed=typed or {},
        link=link,
        link_url=url,
        done=done,
        base=PREFIX + base,
        now=utcnow(),
    )


def _invite(
    request: Request, session: SessionDep, who: Visitor, fields: dict[str, Any], kind: str
) -> Response:
    form = FormReader(fields)
    login = form.text("login", 100, required=True)
    name = form.text("display_name", 50, required=True)
    role = form.raw("role") or "bank"
    bank_role = form.raw("bank_role") or None
    enterprise = form.integer("enterprise_id", 1, 2_147_483_647) if role == "enterprise" else None
    if role not in ("office", "bank", "enterprise"):
        form.fail("role", "请选择身份。")
    if bank_role not in (None, "admin", "manager"):
        form.fail("bank_role", "请选择行内角色。")

    def call() -> InvitationCreated:
        data = InvitationRequest(
            login=login or "",
            display_name=name or "",
            role=Role(role),
            bank_role=BankRole(bank_role) if role == "bank" and bank_role else None,
            bank_code=(form.raw("bank_code") or None) if role == "bank" else None,
            enterprise_id=enterprise,
        )
        return invitations.invite(session, who.principal, data)

    created = form.run(call, session.rollback)
    if created is None:
        return _people_page(
            request, session, who, kind, form.status, errors=form.errors, typed=fields
        )
    return _people_page(request, session, who, kind, 201, link=created)


def _reset(
    request: Request,
    session: SessionDep,
    who: Visitor,
    fields: dict[str, Any],
    kind: str,
    user_id: int,
) -> Response:
    if fields.get("confirm") != "on":
        message = {"reset": "请勾选“我确认重置此人的密码”。"}
        return _people_page(request, session, who, kind, 422, errors=message)
    link = users.reset_password(session, who.principal, user_id)
    return _people_page(request, session, who, kind, 201, link=link)


def _switch(
    session: SessionDep, who: Visitor, fields: dict[str, Any], kind: str, user_id: int, off: bool
) -> Response:
    base = PREFIX + PAGES[kind][0]
    if off and fields.get("confirm") != "on":
        return see_other(f"{base}?done=confirm")
    users.set_disabled(session, who.principal, user_id, off)
    return see_other(f"{base}?done={'disabled' if off else 'enabled'}")


def _revoke(session: SessionDep, who: Visitor, kind: str, invitation_id: int) -> Response:
    invitations.revoke_invitation(session, who.principal, invitation_id)
    return see_other(f"{PREFIX}{PAGES[kind][0]}?done=revoked")


def _mount(kind: str) -> None:
    """The same pages for the office (/office/users) and a bank's administrator
    (/bank/team): whose people each sees is the use cases' ``people_scope``."""
    base = PAGES[kind][0]
    guard = Depends(role_guard(Role.office if kind == "office" else Role.bank))

    @router.get(base)
    def people(
        request: Request,
        session: SessionDep,
        who: Annotated[Visitor, guard],
        done: Annotated[str | None, Query(max_length=20)] = None,
    ) -> Response:
        message = "请先勾选确认。" if done == "confirm" else _done(done)
        return _people_page(request, session, who, kind, done=message)

    @router.post(f"{base}/invite")
    def invite(
        request: Request, session: SessionDep, who: Annotated[Visitor, guard], fields: Form
    ) -> Response:
        return _invite(request, session, who, fields, kind)

    @router.post(base + "/{user_id}/reset")
    def reset(
        request: Request,
        session: SessionDep,
        who: Annotated[Visitor, guard],
        fields: Form,
        user_id: Id,
    ) -> Response:
        return _reset(request, session, who, fields, kind, user_id)

    @router.post(base + "/{user_id}/disable")
    def disable(
        session: SessionDep, who: Annotated[Visitor, guard], fields: Form, user_id: Id
    ) -> Response:
        return _switch(session, who, fields, kind, user_id, True)

    @router.post(base + "/{user_id}/enable")
    def enable(
        session: SessionDep, who: Annotated[Visitor, guard], fields: Form, user_id: Id
    ) -> Response:
        return _switch(session, who, fields, kind, user_id, False)

    @router.post(base + "/invitations/{invitation_id}/revoke")
    def revoke(
        session: SessionDep, who: Annotated[Visitor, guard], fields: Form, invitation_id: Id
    ) -> Response:
        return _revoke(session, who, kind, invitation_id)


_mount("office")
_mount("bank")
