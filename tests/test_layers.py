"""Imports only go downwards (CONTRIBUTING.md): a lower layer never imports a higher one."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = {
    "ingestion": set(),
    "retrieval": {"ingestion"},
    "features": {"ingestion"},
    "tools": {"ingestion", "retrieval", "features"},
    "app": {"ingestion", "retrieval", "features", "tools"},
    "evals": {"ingestion", "retrieval", "features", "tools", "app"},
}
# The one sanctioned upward edge: `sightline eval` is the command-line face of the eval harness
# (issue 8) and loads it at call time; nothing else in the product may reach evals.
EXCEPTIONS = {"app/cli/eval.py": {"evals"}}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        elif (  # importlib.import_module("pkg.mod") / import_module(f"pkg.{x}")
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args
        ):
            first = node.args[0]
            if isinstance(first, ast.JoinedStr) and first.values:
                first = first.values[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                names.add(first.value.split(".")[0])
    return names & set(ALLOWED)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_lower_layers(package: str) -> None:
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        bad = (
            imported_packages(path) - ALLOWED[package] - {package} - EXCEPTIONS.get(relative, set())
        )
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert offenders == []
