"""Who may see and change what: every authorization rule of the API, in one place.

A caller is a ``Principal``: the office (sees and manages everything), a bank (its own
products, prospects, leads, loans and events; of the libraries, every enterprise's public
facts and the private facts of those that consented: ``bank_view``) or an enterprise (its own
profile, projects, needs, recommendations and leads). Rules about an object answer as if a hidden object did not exist
(404 from the use case), so that guessing ids reveals nothing; rules about a whole endpoint
answer 403."""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from service.access.exceptions import Forbidden, Hidden
from service.access.models import BankRole, Role
from service.core.errors import Conflict, Unprocessable


@dataclass(frozen=True)
class Principal:
    role: Role
    key_id: int | None = None
    bank_code: str | None = None
    enterprise_id: int | None = None
    user_id: int | None = None  # a person signed in to the pages; None for a key or the system
    bank_role: BankRole | None = None  # a bank's person: administrator or account manager

    @property
    def is_office(self) -> bool:
        return self.role == Role.office

    @property
    def ref(self) -> str:
        """Who acted, as recorded: the person, the API key, or the holder for the CLI and
        jobs."""
        if self.user_id:
            return f"user:{self.user_id}"
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
    """An enterprise's own data: the office, and the enterprise itself. (A bank sees its public
    facts, and its private facts with its consent: ``bank_view``, ``private_facts_shared``.)"""
    return principal.is_office or (
        principal.role == Role.enterprise and principal.enterprise_id == enterprise_id
    )


def identified_enterprises(principal: Principal, enterprise_ids: Iterable[int]) -> set[int]:
    """Of these enterprises, those the caller may know who they are (name, credit code) and
    name by id: the office and a bank every one (who an enterprise is, is a public fact: in
    every release), an enterprise itself only. (A need without consent stays anonymous to a
    bank: ``lead_enterprise_tiers``.)"""
    wanted = set(enterprise_ids)
    if principal.role == Role.enterprise:
        return wanted & {principal.enterprise_id} if principal.enterprise_id else set()
    return wanted


def identifies_enterprise(principal: Principal, enterprise_id: int) -> bool:
    return enterprise_id in identified_enterprises(principal, [enterprise_id])


def sees_between(principal: Principal, bank_code: str, enterprise_id: int) -> bool:
    """A record between a bank and an enterprise (a lead, a loan and what hangs from them): the
    office, that bank, and that enterprise."""
    if principal.is_office:
        return True
    if principal.role == Role.bank:
        return principal.bank_code == bank_code
    return principal.role == Role.enterprise and principal.enterprise_id == enterprise_id


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


# --- who works a bank's lead ----------------------------------------------------------------


def check_assigns_lead(
    principal: Principal, bank_code: str, current: int | None, assignee: int | None
) -> None:
    """Who may set who works a lead of ``bank_code`` (seeing the lead is checked before): the
    office, the bank's system (its key) and the bank's administrator, to anyone of the bank or
    nobody. An account manager claims an unassigned lead for itself (认领), and may hand back
    a lead it holds (to nobody) so that the administrator can give it to someone else; it
    never takes another's lead nor gives one to another. An enterprise never assigns."""
    require(principal, Role.office, Role.bank)
    if principal.is_office or principal.bank_code != bank_code:
        return  # another bank's lead is hidden before this rule is asked
    if principal.user_id is None or principal.bank_role == BankRole.admin:
        return
    claims = current is None and assignee == principal.user_id
    hands_back = current == principal.user_id and assignee is None
    if not (claims or hands_back or current == assignee == principal.user_id):
        raise Forbidden(
            "客户经理只能认领未分配的线索，或退回自己的线索；分配给他人请由本行管理员操作。",
            code="forbidden_assignment",
        )


def works_as_manager(principal: Principal) -> bool:
    """A bank's account manager: its list of leads opens on its own (它的线索), with every
    lead of the bank one click away; an administrator, a key and the office open on all."""
    return (
        principal.role == Role.bank
        and principal.user_id is not None
        and principal.bank_role != BankRole.admin
    )


# --- what banks see: public facts and private facts ------------------------------------------


class FactTier(StrEnum):
    public = "public"  # what government lists and registers already publish: every bank
    private = "private"  # what only the enterprise can tell: a bank only with its consent


# Every field of the library a bank may ever receive, by tier; a field not named here never
# reaches a bank. Releases, release diffs, prospects, leads and exports all go through
# ``bank_view``.
ENTERPRISE_TIERS: Mapping[str, FactTier] = {
    "id": FactTier.public,
    "credit_code": FactTier.public,
    "name": FactTier.public,
    "district_code": FactTier.public,
    "cluster_code": FactTier.public,
    "chain_tag": FactTier.public,
    "industry_code": FactTier.public,
    "ownership": FactTier.public,  # from the business register (登记注册类型)
    "established_date": FactTier.public,  # from the business register
    "registered_in_wuxi": FactTier.public,  # read from the credit code
    "size_class": FactTier.public,  # a band (as the 专精特新 lists publish), not the figures
    "qualifications": FactTier.public,  # from public lists, with their dates
    "employees": FactTier.private,
    "revenue_fen": FactTier.private,
    "total_assets_fen": FactTier.private,
    "credit_grade": FactTier.private,
    "contacts": FactTier.private,
    "needs": FactTier.private,  # open financing needs
}
# A project's public facts are public only while it is on a key-project list (``listed_in``).
PROJECT_TIERS: Mapping[str, FactTier] = {
    "id": FactTier.public,
    "enterprise_id": FactTier.public,
    "enterprise_name": FactTier.public,
    "name": FactTier.public,
    "year": FactTier.public,
    "total_investment_fen": FactTier.public,
    "cluster_code": FactTier.public,
    "listed_in": FactTier.public,
    "kind": FactTier.private,
    "status": FactTier.private,
    "equipment_investment_fen": FactTier.private,
    "financing_need_fen": FactTier.private,
    "description": FactTier.private,
}
TIERS = {"enterprise": ENTERPRISE_TIERS, "project": PROJECT_TIERS}


def tier_fields(kind: str, tier: FactTier) -> list[str]:
    return [name for name, t in TIERS[kind].items() if t == tier]


def has_public_facts(kind: str, data: Mapping[str, Any]) -> bool:
    """An enterprise always has; a project only while it is on a key-project list."""
    return kind == "enterprise" or bool(data.get("listed_in"))


def bank_view(kind: str, data: Mapping[str, Any], consented: bool) -> dict[str, Any] | None:
    """What a bank may see of a library item: its public facts, and its private facts too with
    the enterprise's consent; None when it may see nothing of it."""
    tiers = TIERS[kind]
    if consented:
        return {k: v for k, v in data.items() if k in tiers}
    if not has_public_facts(kind, data):
        return None
    return {k: v for k, v in data.items() if tiers.get(k) == FactTier.public}


def blank_private(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` (a shape of its own, e.g. a lead's enterprise) with the values of the fields
    that are private facts set to None: for answers whose shape keeps every field."""
    tiers = TIERS[kind]
    for name in data:
        if tiers.get(name) == FactTier.private:
            data[name] = None
    return data


def private_facts_shared(
    principal: Principal,
    enterprise_ids: Iterable[int],
    consenting: Callable[[set[int], str], set[int]],
) -> set[int]:
    """Of these enterprises, those whose private facts the caller may see: the office every
    one, an enterprise itself, and a bank those that consented, by sharing with banks (the
    consent behind the releases) or through a lead of that bank that carries their consent.
    ``consenting(ids, bank_code)`` is the domain's lookup of the latter two (asked of banks
    only)."""
    wanted = set(enterprise_ids)
    if principal.is_office or not wanted:
        return wanted
    if principal.role == Role.enterprise:
        return wanted & {principal.enterprise_id} if principal.enterprise_id else set()
    if principal.role != Role.bank or principal.bank_code is None:
        return set()
    return wanted & consenting(wanted, principal.bank_code)


def lead_enterprise_tiers(
    principal: Principal, lead_consented: bool, shares_with_banks: bool, for_need: bool
) -> tuple[bool, bool]:
    """(who it is, its private facts) of a lead's enterprise for the caller. The office and the
    enterprise itself see both. A bank sees the private facts with the lead's consent or the
    enterprise's sharing with banks; who it is too, and also without consent when the lead is
    not for a need (its public facts reveal nothing), but a need without consent stays
    anonymous: who it is and what it wants to borrow together would reveal the need."""
    if principal.role != Role.bank:
        return True, True
    private = lead_consented or shares_with_banks
    return private or not for_need, private


# --- consent and its source -----------------------------------------------------------------


@dataclass(frozen=True)
class Consent:
    """An enterprise's choice about sharing its private facts with banks, as recorded."""

    given: bool = False
    source: str | None = None  # "enterprise" | "office_form"; None: never recorded
    recorded_by: str | None = None
    recorded_at: datetime | None = None
    form_ref: str | None = None
    form_signed_on: date | None = None


_SHANGHAI = ZoneInfo("Asia/Shanghai")


def record_consent(
    principal: Principal,
    current: Consent,
    given: bool,
    form_ref: str | None,
    form_signed_on: date | None,
    now: datetime,
) -> Consent:
    """The consent after the caller records ``given``; ``current`` when nothing changes.

    The enterprise decides for itself at any time. The office records a choice on its behalf
    only from a signed 入库申报 form (its reference and signing date), and a form never
    overrides a choice the enterprise made itself on or after the day the form was signed,
    nor a later form already recorded: the enterprise's own later choice always wins."""
    today = now.astimezone(_SHANGHAI).date()
    if principal.role == Role.enterprise:
        if form_ref is not None or form_signed_on is not None:
            raise Forbidden(
                "申报表编号由金融办代为登记授权时填写；企业自行选择时无需填写。",
                code="forbidden_field",
                fields=["consent_form_ref", "consent_form_signed_on"],
            )
        if current.given == given and current.source == "enterprise":
            return current
        return Consent(given, "enterprise", principal.ref, now)
    if principal.role != Role.office:
        raise Forbidden("只有企业本人或金融办（凭入库申报表）可以登记授权。", code="forbidden_role")
    if form_ref is None or form_signed_on is None:
        raise Unprocessable(
            "金融办代企业登记是否向银行共享信息，须填写企业签署的入库申报表编号"
            "（consent_form_ref）和签署日期（consent_form_signed_on）。",
            code="consent_form_required",
            field="consent_form_ref" if form_ref is None else "consent_form_signed_on",
        )
    if form_signed_on > today:
        raise Unprocessable(
            "申报表签署日期不能晚于今天。",
            code="invalid_consent_form_date",
            field="consent_form_signed_on",
        )
    if (
        current.given == given
        and current.source == "office_form"
        and current.form_ref == form_ref
        and current.form_signed_on == form_signed_on
    ):
        return current
    if current.source == "enterprise" and current.recorded_at is not None:
        decided = current.recorded_at.astimezone(_SHANGHAI).date()
        if decided >= form_signed_on:
            if current.given == given:
                return current
            choice = "同意" if current.given else "不同意"
            raise Conflict(
                f"企业已于 {decided.isoformat()} 自行选择{choice}向银行共享信息，晚于申报表的"
                f"签署日期（{form_signed_on.isoformat()}）：以企业本人的选择为准。",
                code="consent_decided_by_enterprise",
                decided_on=decided.isoformat(),
            )
    if (
        current.source == "office_form"
        and current.form_signed_on is not None
        and current.form_signed_on > form_signed_on
    ):
        raise Conflict(
            f"已登记的申报表（{current.form_ref}，{current.form_signed_on.isoformat()} 签署）"
            f"晚于这份（{form_signed_on.isoformat()} 签署），以较晚的为准。",
            code="consent_form_superseded",
            form_ref=current.form_ref,
        )
    return Consent(given, "office_form", principal.ref, now, form_ref, form_signed_on)


def reads_releases_as_published(principal: Principal) -> bool:
    """Library releases are read by the office and the banks. The office reads a release as it
    was published, every item and every field; a bank reads its view of it as of today
    (``bank_view``: public facts, and private facts shared when it was published and still)."""
    require(principal, Role.office, Role.bank)
    return principal.is_office


def between_scope(
    principal: Principal, bank_code: str | None, enterprise_id: int | None
) -> tuple[str | None, int | None]:
    """(bank, enterprise) a list of records between banks and enterprises (leads, loans,
    reminders, bridge applications) is limited to: a bank sees its own whatever bank it names,
    an enterprise its own whatever enterprise it names (each may still narrow by the other);
    the office what it asks for (None: all)."""
    if principal.role == Role.bank:
        return principal.bank_code, enterprise_id
    if principal.role == Role.enterprise:
        return bank_code, principal.enterprise_id
    return bank_code, enterprise_id


def sees_requester(principal: Principal) -> bool:
    """Who asked a bank to make contact, and for which need: the office and the enterprise
    itself; the bank learns it only once it accepts, through the lead that opens."""
    return principal.role != Role.bank


# --- people: who invites, resets and disables whom ---------------------------------------


def _people_manager(principal: Principal) -> None:
    """Managing people is for the office (a person or its key) and a bank's administrator;
    a bank's system (its key) and account managers do not manage people."""
    if principal.is_office:
        return
    if principal.role == Role.bank and principal.user_id and principal.bank_role == BankRole.admin:
        return
    if principal.role == Role.bank and not principal.user_id:
        raise Forbidden(
            "银行系统密钥不能管理人员账号，请由本行管理员登录页面操作。", code="forbidden_role"
        )
    raise Forbidden("只有金融办和银行管理员可以管理人员账号。", code="forbidden_role")


def people_scope(principal: Principal) -> str | None:
    """The bank whose people a list is limited to: a bank's administrator sees its own bank's,
    the office everyone's (None)."""
    _people_manager(principal)
    return None if principal.is_office else principal.bank_code


def check_may_invite(
    principal: Principal, role: Role, bank_role: BankRole | None, bank_code: str | None
) -> None:
    """The office invites anyone (office staff, a bank's administrators and account managers,
    an enterprise's user); a bank's administrator invites account managers and administrators
    of its own bank only."""
    _people_manager(principal)
    if principal.is_office:
        return
    if role != Role.bank or bank_code != principal.bank_code or bank_role is None:
        raise Forbidden("银行管理员只能邀请本行的客户经理或管理员。", code="forbidden_invitation")


def manages_person(principal: Principal, role: Role, bank_code: str | None) -> bool:
    """A person's account (or an invitation of one): the office anyone's, a bank's
    administrator its own bank's people."""
    if principal.is_office:
        return True
    return (
        principal.role == Role.bank
        and bool(principal.user_id)
        and principal.bank_role == BankRole.admin
        and role == Role.bank
        and bank_code == principal.bank_code
    )
