"""The layout of docs/architecture.md holds: imports go one way, domains live in packages, and
modules stay small."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The layer rule, top to bottom: server → schema → resolvers → models → policies, and workers
# beside schema (they use resolvers, models and policies, never the schema). Each layer may
# import the layers below it and nothing else; policies import nothing of the project.
BELOW: dict[str, set[str]] = {
    "server": {"schema", "workers", "resolvers", "models", "policies"},
    "schema": {"resolvers", "models", "policies"},
    "workers": {"resolvers", "models", "policies"},
    "resolvers": {"models", "policies"},
    "models": {"policies"},
    "policies": set(),
}
PACKAGES = tuple(BELOW)
# Narrower than the rule, never wider: models take only the shared vocabulary of
# ``policies.enums``; the one upward import is the process configuration ``server.settings``,
# which workers read and which is itself a leaf (it imports policies only, checked below).
NARROWED: dict[str, set[str]] = {"models": {"policies.enums"}}
UPWARD: dict[str, set[str]] = {"workers": {"server.settings"}}
LEAF_CONFIG = "server/settings.py"
DOMAINS = ("catalogue", "circulation", "accounts", "mail", "ebooks", "shelves", "staff")
SHARED = "shared"
# The only modules allowed outside a domain package.
TOP_LEVEL_MODULES = {"resolvers": {"__init__"}, "schema": {"__init__", "root"}}
MAX_LINES = 400
# Resolver modules are where rules meet the database: smaller still (docs/architecture.md).
MAX_RESOLVER_LINES = 300
MAX_FUNCTION_LINES = 60
# The contract the rule table follows; in the workspace beside the project.
RULES = ROOT.parent / "shared" / "RULES.md"


def _modules(package: str) -> list[Path]:
    return [p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts]


def _imports(path: Path) -> set[str]:
    """Every project-or-not module the file imports, at any depth (TYPE_CHECKING too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            # A relative import would hide its target from this test: there are none.
            found.add(node.module if node.level == 0 and node.module else f".{node.module}")
    return found


def _under(name: str, prefixes: set[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _allowed(package: str, name: str) -> bool:
    top = name.split(".")[0]
    if top == package:
        return True
    if not _under(name, BELOW[package]):
        return _under(name, UPWARD.get(package, set()))
    narrowed = NARROWED.get(package)
    return narrowed is None or _under(name, narrowed)


def test_the_rule_is_one_way() -> None:
    # A layer never sits below one of the layers below it: the rule itself has no cycle.
    for upper, lower in BELOW.items():
        assert all(upper not in BELOW[low] for low in lower), upper
        assert all(BELOW[low] < lower for low in lower), upper


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_go_one_way(package: str) -> None:
    # ARCHITECTURE: server → schema → resolvers → models → policies; workers use resolvers.
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _modules(package)
        for name in _imports(path)
        if (name.startswith(".") or name.split(".")[0] in PACKAGES) and not _allowed(package, name)
    ]
    assert wrong == []


def test_configuration_is_a_leaf() -> None:
    # The one upward import (workers → server.settings) makes no cycle: settings read policies.
    names = _imports(ROOT / LEAF_CONFIG)
    assert [n for n in names if n.split(".")[0] in PACKAGES and not _under(n, {"policies"})] == []


@pytest.mark.parametrize("package", sorted(TOP_LEVEL_MODULES))
def test_every_module_lives_in_a_domain(package: str) -> None:
    # A reader finds a domain's code by its folder: no flat modules, no unknown packages.
    flat = {p.stem for p in (ROOT / package).glob("*.py")} - TOP_LEVEL_MODULES[package]
    folders = {p.parent.name for p in (ROOT / package).glob("*/__init__.py")}
    assert flat == set()
    assert folders == {*DOMAINS, SHARED}


def _domain_imports(package: str, domain: str) -> set[str]:
    """The other domain packages of ``package`` that ``domain`` imports."""
    found = set()
    for path in (ROOT / package / domain).rglob("*.py"):
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == package and len(parts) > 1 and parts[1] != domain:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("package", sorted(TOP_LEVEL_MODULES))
def test_shared_imports_no_domain(package: str) -> None:
    # What every domain uses cannot depend on a domain, or the domains would go in circles.
    assert _domain_imports(package, SHARED) == set()


def test_resolver_domains_go_one_way() -> None:
    # Resolver domains may build on one another (staff's counter uses circulation's trapping,
    # which queues mail) but never both ways round. GraphQL types do refer to each other both
    # ways (a patron's holds, a hold's patron), so the schema's domains are not checked.
    graph = {d: _domain_imports("resolvers", d) for d in (*DOMAINS, SHARED)}
    done: set[str] = set()

    def visit(domain: str, path: tuple[str, ...]) -> None:
        assert domain not in path, " → ".join((*path, domain))
        if domain not in done:
            for nxt in graph[domain]:
                visit(nxt, (*path, domain))
            done.add(domain)

    for domain in graph:
        visit(domain, ())


@pytest.mark.parametrize("package", PACKAGES)
def test_modules_stay_small(package: str) -> None:
    # ARCHITECTURE: a module over ~400 lines is two modules.
    big = [
        f"{p.relative_to(ROOT)}: {n}"
        for p in _modules(package)
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    ]
    assert big == []


RULE_ROW = re.compile(r"^\| ([A-Z]+-\d+) \|(.*)\|\s*$")
COLUMNS = (("policies",), ("resolvers", "workers"), ("schema",))


def _names(path: Path) -> set[str]:
    """Module-level and class-level names a rule table may cite in ``path``."""
    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found.add(node.name)
            if isinstance(node, ast.ClassDef):
                found.update(
                    f"{node.name}.{inner.name}"
                    for inner in node.body
                    if isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef)
                )
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found.update(t.id for t in targets if isinstance(t, ast.Name))
    return found


def _cited(reference: str, packages: tuple[str, ...]) -> bool:
    """Whether ``reference`` (``module.name`` below one of ``packages``) names real code."""
    parts = reference.split(".")
    for package in packages:
        for cut in range(len(parts), 0, -1):
            path = ROOT.joinpath(package, *parts[:cut]).with_suffix(".py")
            if path.exists():
                rest = ".".join(parts[cut:])
                return not rest or rest in _names(path)
    return False


def test_the_rule_table_names_every_rule_and_real_code() -> None:
    # docs/architecture.md: a newcomer finds any rule's code in two steps, so every rule of
    # RULES.md has a row, and every function, class or module a row names exists.
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8").splitlines()
    rows = {m[1]: m[2] for line in doc if (m := RULE_ROW.match(line))}
    rules = re.findall(r"^- \*\*([A-Z]+-\d+)\*\*", RULES.read_text(encoding="utf-8"), re.M)
    assert sorted(set(rules) - set(rows)) == []
    stale = []
    for rule, cells in rows.items():
        for cell, packages in zip(cells.split("|"), COLUMNS, strict=True):
            module = ""
            for ref in re.findall(r"`([\w.]+)`", cell):
                # A bare name (a step in parentheses) is in the module cited before it.
                qualified = ref if "." in ref or not module else f"{module}.{ref}"
                if "." in ref:
                    module = ref.rsplit(".", 1)[0]
                if not _cited(qualified, packages):
                    stale.append(f"{rule}: {ref}")
    assert stale == []


def test_functions_stay_short() -> None:
    # ARCHITECTURE: a function names one step; over ~60 lines it is two.
    long = [
        f"{p.relative_to(ROOT)}: {node.name} ({length} lines)"
        for package in (*PACKAGES, "workers")
        for p in _modules(package)
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (length := (node.end_lineno or node.lineno) - node.lineno + 1) > MAX_FUNCTION_LINES
    ]
    assert long == []


def test_resolver_modules_stay_smaller() -> None:
    # [R2 2/9]: no resolver file over 300 lines.
    big = [
        f"{p.relative_to(ROOT)}: {n}"
        for p in _modules("resolvers")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_RESOLVER_LINES
    ]
    assert big == []
