"""`finmatch users invite`, run as a deployment's first administrator would, and the demo
people `finmatch seed --demo` installs (once)."""

from pathlib import Path

from sqlalchemy import create_engine, select
from sqlmodel import Session, col

from service.access.invitations import token_hash
from service.access.models import Invitation, UserAccount
from tests.test_cli import _run


def test_invite_prints_the_link_once_and_refuses_a_bad_role(tmp_path: Path) -> None:
    db = tmp_path / "users.db"
    assert _run("migrate", db=db).returncode == 0
    result = _run(
        "users", "invite", "--role", "office", "--login", "X@Wuxi.example", "--name", "张三", db=db
    )
    assert result.returncode == 0, result.stderr
    path = result.stdout.strip().splitlines()[-1]
    assert path.startswith("/web/invitations/")
    engine = create_engine(f"sqlite:///{db}")
    with Session(engine) as session:
        row = session.scalars(select(Invitation)).one()
        assert row.login == "x@wuxi.example" and row.role == "office"
        assert row.token_hash == token_hash(path.rsplit("/", 1)[1])
    engine.dispose()
    bad = _run(
        "users", "invite", "--role", "bank", "--login", "y@wuxi.example", "--name", "李四", db=db
    )
    assert bad.returncode == 1 and "银行" in bad.stdout


def test_seed_demo_installs_the_demo_people_once(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    assert _run("migrate", db=db).returncode == 0
    assert _run("seed", "--demo", db=db).returncode == 0
    assert _run("seed", "--demo", db=db).returncode == 0
    engine = create_engine(f"sqlite:///{db}")
    with Session(engine) as session:
        people = session.scalars(select(UserAccount).order_by(col(UserAccount.id))).all()
    engine.dispose()
    logins = {p.login: p for p in people}
    assert len(people) == 5
    assert logins["admin@jsbank-wx.demo"].bank_role == "admin"
    assert logins["manager2@jsbank-wx.demo"].bank_code == "jsbank-wx"
    assert logins["ent001@demo.finmatch.cn"].enterprise_id is not None
    assert all(p.password_hash and p.password_hash.startswith("$argon2id$") for p in people)
