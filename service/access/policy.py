"""Who may see and change what: every authorization rule of the API, in one place.

A caller is a ``Principal``: the office (sees and manages everything), a bank (its own
products, prospects, leads, loans and events, and who an enterprise is only with that
enterprise's consent) or an enterprise (its own profile, projects, needs, recommendations and
leads). Rules about an object answer as if a hidden object did not exist
(404 from the use case), so that guessing ids reveals nothing; rules about a whole endpoint
answer 403."""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select, union
from sqlmodel import Session

from service.access.models import Role
from service.core.errors import AppError
from service.enterprises.models import Enterprise
from service.leads.models import Lead


class Unauthenticated(AppError):
    status = 401
    code = "unauthenticated"
    title = "Unauthorized"


class Forbidden(AppError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


@dataclass(frozen=True)
class Principal:
    role: Role
    key_id: int | None = None
    bank_code: str | None = None
    enterprise_id: int | None = None

    @property
    def is_office(self) -> bool:
        return self.role == Role.office

    @property
    def ref(self) -> str:
        """Who acted, as recorded: the API key, or the holder for the CLI and jobs."""
        return f"key:{self.key_id}" if self.key_id else self.label

    @property
    def label(self) -> str:
        if self.role == Role.bank:
            return f"bank:{self.bank_code}"
        if self.role == Role.enterprise:
            return f"enterprise:{self.enterprise_id}"
        return "office"


ROLE_LABEL = {Role.office: "金融办", Role.bank: "银行", Role.enterprise: "企业"}


def require(principal: Principal, *roles: Role) -> None:
    """The endpoint is for these roles only."""
    if principal.role not in roles:
        allowed = "、".join(ROLE_LABEL[r] for r in roles)
        raise Forbidden(
            f"{ROLE_LABEL[principal.role]}密钥无权调用此接口（仅限{allowed}）。",
            code="forbidden_role",
        )


def sees_enterprise(principal: Principal, enterprise_id: int) -> bool:
    """An enterprise's own data: the office, and the enterprise itself. (A bank sees who an
    enterprise is only with its consent: ``identified_enterprises``.)"""
    return principal.is_office or (
        principal.role == Role.enterprise and principal.enterprise_id == enterprise_id
    )


def identified_enterprises(
    session: Session, principal: Principal, enterprise_ids: Iterable[int]
) -> set[int]:
    """Of these enterprises, those the caller may know who they are (name, credit code) and
    name by id: the office every one, an enterprise itself, and a bank those that consented to
    it, by sharing their details with banks (the consent behind the library releases) or by a
    lead of that bank that carries their consent. Everything else answers as if unknown."""
    wanted = set(enterprise_ids)
    if principal.is_office or not wanted:
        return wanted
    if principal.role == Role.enterprise:
        return wanted & {principal.enterprise_id} if principal.enterprise_id else set()
    shared = select(Enterprise.id).where(
        Enterprise.id.in_(wanted),  # type: ignore[union-attr]
        Enterprise.share_with_banks.is_(True),  # type: ignore[attr-defined]
    )
    consented = select(Lead.enterprise_id).where(
        Lead.enterprise_id.in_(wanted),  # type: ignore[attr-defined]
        Lead.bank_code == principal.bank_code,
        Lead.consented.is_(True),  # type: ignore[attr-defined]
    )
    return set(session.scalars(union(shared, consented)))


def identifies_enterprise(session: Session, principal: Principal, enterprise_id: int) -> bool:
    return enterprise_id in identified_enterprises(session, principal, [enterprise_id])


def sees_bank(principal: Principal, bank_code: str) -> bool:
    """A bank's own products' prospects, leads and events: the office and that bank."""
    return principal.is_office or (principal.role == Role.bank and principal.bank_code == bank_code)


def manages_bank(principal: Principal, bank_code: str) -> bool:
    """Writing a bank's catalogue: the office, and the bank for its own products."""
    return sees_bank(principal, bank_code)


def enterprise_scope(principal: Principal, requested: int | None) -> int | None:
    """The enterprise a list is limited to: an enterprise sees only its own (asking for another
    is refused); the office sees what it asks for."""
    if principal.role == Role.enterprise:
        if requested is not None and requested != principal.enterprise_id:
            raise Forbidden("企业密钥只能查看本企业的数据。", code="forbidden_enterprise")
        return principal.enterprise_id
    require(principal, Role.office, Role.enterprise)
    return requested


class Hidden(AppError):
    """An object the caller may not see answers as a missing one would."""

    status = 404
    title = "Not Found"


_HIDDEN_CODE = {
    "企业": "enterprise_not_found",
    "项目": "project_not_found",
    "融资需求": "need_not_found",
}


def ensure_sees_enterprise(principal: Principal, enterprise_id: int, what: str = "企业") -> None:
    """The object (an enterprise, or one of its projects or needs) is the caller's to see."""
    if not sees_enterprise(principal, enterprise_id):
        raise Hidden(f"{what}不存在。", code=_HIDDEN_CODE.get(what, "not_found"))


def ensure_sees_bank(principal: Principal, bank_code: str, code: str, message: str) -> None:
    if not sees_bank(principal, bank_code):
        raise Hidden(message, code=code)


ENTERPRISE_EDITABLE_BY_ITSELF = frozenset(
    {
        "name",
        "employees",
        "revenue_fen",
        "total_assets_fen",
        "contacts",
        "chain_tag",
        "share_with_banks",
    }
)


def check_enterprise_fields(principal: Principal, fields: set[str]) -> None:
    """An enterprise keeps its own figures and contacts current; its qualifications, cluster,
    district, industry and credit grade come from the office's lists."""
    if principal.role != Role.enterprise:
        return
    refused = sorted(fields - ENTERPRISE_EDITABLE_BY_ITSELF)
    if refused:
        raise Forbidden(
            f"企业不能自行修改：{'、'.join(refused)}（由金融办维护）。",
            code="forbidden_field",
            fields=refused,
        )


def check_manages_bank(principal: Principal, bank_code: str) -> None:
    """Catalogue writes: the office for any bank, a bank for its own products only."""
    require(principal, Role.office, Role.bank)
    if not manages_bank(principal, bank_code):
        raise Forbidden(
            f"银行密钥只能维护本行（{principal.bank_code}）的产品。", code="forbidden_bank"
        )


def check_sees_bank(principal: Principal, bank_code: str) -> None:
    """A bank's own prospects, leads and events: the office, and that bank."""
    require(principal, Role.office, Role.bank)
    if not sees_bank(principal, bank_code):
        raise Forbidden(
            f"银行密钥只能查看本行（{principal.bank_code}）的数据。", code="forbidden_bank"
        )
