"""The layout of ARCHITECTURE.md holds: imports go one way and modules stay small."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("server", "schema", "resolvers", "policies", "models", "workers")
# What each package may import from the project (besides itself). Two documented
# exceptions: models use the domain enums of ``policies.enums`` (one vocabulary for the
# database, the rules and the API), and workers read ``server.settings`` (a leaf module).
ALLOWED: dict[str, set[str]] = {
    "server": {"schema", "resolvers", "policies", "models", "workers"},
    "schema": {"resolvers", "policies", "models"},
    "resolvers": {"policies", "models"},
    "policies": set(),
    "models": {"policies.enums"},
    "workers": {"resolvers", "policies", "models", "server.settings"},
}
MAX_LINES = 400


def _modules(package: str) -> list[Path]:
    return [p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts]


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_go_one_way(package: str) -> None:
    # ARCHITECTURE: server → schema → resolvers → policies; everything may use models.
    wrong = []
    for path in _modules(package):
        for name in _imports(path):
            top = name.split(".")[0]
            if top not in PACKAGES or top == package:
                continue
            if not any(name == a or name.startswith(a + ".") or top == a for a in ALLOWED[package]):
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert wrong == []


@pytest.mark.parametrize("package", PACKAGES)
def test_modules_stay_small(package: str) -> None:
    # ARCHITECTURE: a module over ~400 lines is two modules.
    big = [
        f"{p.relative_to(ROOT)}: {n}"
        for p in _modules(package)
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    ]
    assert big == []
