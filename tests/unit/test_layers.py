"""The layout says who may import whom: the kernel imports no role, and no role imports the composition root."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROLES = ("gateway", "detector", "dispatch", "api", "simulator")


def imported_packages(package: str) -> dict[str, set[str]]:
    """Each module of `package` → the top-level packages it imports (at any depth of the file)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize("package", ["shouwang", *ROLES])
def test_nothing_below_the_composition_root_imports_it(package: str) -> None:
    offenders = {module: "cli" for module, names in imported_packages(package).items() if "cli" in names}
    assert offenders == {}


def test_the_kernel_imports_no_role() -> None:
    offenders = {module: sorted(names & set(ROLES)) for module, names in imported_packages("shouwang").items()
                 if names & set(ROLES)}
    assert offenders == {}
