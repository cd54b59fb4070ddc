"""The demo's people, for trying the pages out only: an office account, the demo bank's
administrator and two account managers, and enterprise 1's user, all with one published
password (README). ``finmatch seed --demo`` installs them; a second run changes nothing."""

from collections import Counter

from sqlmodel import Session

from service.access.models import BankRole, Role
from service.access.users import install_person

DEMO_PASSWORD = "demo-password-2026"
DEMO_BANK = "jsbank-wx"
# login, display name, role, bank role; the bank's people are the demo bank's
DEMO_PEOPLE = [
    ("office@demo.finmatch.cn", "金融办演示用户", Role.office, None),
    ("admin@jsbank-wx.demo", "周行长", Role.bank, BankRole.admin),
    ("manager1@jsbank-wx.demo", "陈晓燕", Role.bank, BankRole.manager),
    ("manager2@jsbank-wx.demo", "刘建国", Role.bank, BankRole.manager),
    ("ent001@demo.finmatch.cn", "企业财务演示用户", Role.enterprise, None),
]


def seed_demo_people(session: Session, enterprise_id: int | None) -> Counter:
    """Install the demo accounts that are missing (enterprise 1's only with an enterprise)."""
    counts: Counter = Counter()
    for login, name, role, bank_role in DEMO_PEOPLE:
        if role == Role.enterprise and enterprise_id is None:
            continue
        added = install_person(
            session,
            login,
            name,
            role,
            DEMO_PASSWORD,
            bank_role=bank_role,
            bank_code=DEMO_BANK if role == Role.bank else None,
            enterprise_id=enterprise_id if role == Role.enterprise else None,
        )
        counts["user_account.created" if added else "user_account.unchanged"] += 1
    session.commit()
    return counts
