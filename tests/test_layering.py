"""The package's layers, read from the source: every import points down or sideways within a
package, never up. A lower layer that needs a higher one's data gets it by an event
(``core.events``) or a provider the higher one registers in its ``wiring.py``.

    core ← access ← jobs ← taxonomy ← enterprises, products ← matching ← leads
         ← loans, lists ← appeals ← policies ← metrics ← web ← app (main, cli, models, seeding, synth)

Packages on one rung (enterprises and products; loans and lists) do not import each other; the
app's modules, which assemble everything, may. Also: no file of ``service/`` is longer than the limit a reader can hold in their head."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "service"

RUNGS: list[set[str]] = [
    {"core"},
    {"access"},
    {"jobs"},
    {"taxonomy"},
    {"enterprises", "products"},
    {"matching"},
    {"leads"},
    {"loans", "lists"},
    # requests about leads and loans, answered by banks through their events
    {"appeals"},
    # support policies evaluated on the libraries, loans and awards; run by the departments
    # requests are dispatched to
    {"policies"},
    {"metrics"},  # reads every domain below it, loans' renewals included
    {"web"},
    {
        "main",
        "cli",
        "models",
        "seeding",
        "demo_activity",
        "demo_people",
        "demo_requests",
        "demo_policies",
        "synth",
        "__init__",
    },
]
RUNG = {package: n for n, packages in enumerate(RUNGS) for package in packages}
APP = RUNG["main"]
MAX_LINES = 600


def _modules() -> list[Path]:
    return sorted(ROOT.rglob("*.py"))


def _package(path: Path) -> str:
    return path.relative_to(ROOT).parts[0].removesuffix(".py")


def _imported_packages(path: Path) -> set[tuple[str, int]]:
    """The top-level packages of ``service`` a module imports, with the line."""
    module = ".".join(("service", *path.relative_to(ROOT).with_suffix("").parts))
    is_package = path.name == "__init__.py"
    out: set[tuple[str, int]] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                names = [".".join([*base, node.module] if node.module else base)]
                if node.module is None:
                    names = [f"{names[0]}.{alias.name}" for alias in node.names]
            elif node.module:
                names = [node.module]
                if node.module == "service":
                    names = [f"service.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "service" and len(parts) > 1:
                out.add((parts[1], node.lineno))
    return out


def test_every_package_has_a_rung() -> None:
    unplaced = {_package(p) for p in _modules()} - RUNG.keys()
    assert not unplaced, f"place these packages in RUNGS: {sorted(unplaced)}"


def test_imports_point_down() -> None:
    wrong = []
    for path in _modules():
        own = _package(path)
        for target, line in sorted(_imported_packages(path)):
            if target == own or target not in RUNG:
                continue
            if RUNG[target] > RUNG[own] or (RUNG[target] == RUNG[own] and RUNG[own] != APP):
                wrong.append(f"{path.relative_to(ROOT.parent)}:{line} imports service.{target}")
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from service.leads.models import Lead\n", {("leads", 1)}),
        ("from service import synth\n", {("synth", 1)}),
        ("import service.web.router\n", {("web", 1)}),
        ("from ..loans import service\n", {("loans", 1)}),
        ("from . import queries\n", {("access", 1)}),
    ],
)
def test_the_reader_finds_imports(tmp_path: Path, source: str, expected: set) -> None:
    """The walk above sees every spelling of an import (else the layer test could not fail)."""
    global ROOT
    saved = ROOT
    ROOT = tmp_path / "service"
    try:
        path = ROOT / "access" / "policy.py"
        path.parent.mkdir(parents=True)
        path.write_text(source, "utf-8")
        assert _imported_packages(path) == expected
    finally:
        ROOT = saved


def test_files_stay_short() -> None:
    """Data (vocabularies, tables) lives under seed/, not in code; code files stay readable."""
    long = [
        f"{p.relative_to(ROOT.parent)}: {n} lines"
        for p in _modules()
        if (n := len(p.read_text("utf-8").splitlines())) > MAX_LINES
    ]
    assert not long, f"files over {MAX_LINES} lines:\n" + "\n".join(long)


RULES = "service.access.policy"
# What a page or router may read of the policy: who the caller is, and the tiers' names for
# telling a bank in words what it receives. Everything else in it is a rule to apply.
DESCRIPTIVE = {"Principal", "FactTier", "tier_fields", "ROLE_LABEL"}


def _policy_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == RULES:
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module == "service.access":
            names |= {f"policy.{a.name}" for a in node.names if a.name == "policy"}
    return names


def test_routers_apply_no_rule() -> None:
    """Who may see and do what is decided in the use cases (by ``access.policy``'s rules), so a
    page and an API call of the same use case answer alike: a router only passes the caller."""
    applied = []
    pages = [p for p in ROOT.glob("web/*.py") if p.name != "security.py"]  # security: page guards
    for path in sorted([*ROOT.glob("*/*router.py"), *pages]):
        rules = _policy_names(path) - DESCRIPTIVE
        source = path.read_text("utf-8")
        if rules:
            applied.append(f"{path.relative_to(ROOT.parent)} imports {sorted(rules)}")
        if "Office" in {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)}:
            applied.append(f"{path.relative_to(ROOT.parent)} gates a route with Office")
    assert not applied, "rules applied in routers:\n" + "\n".join(applied)
