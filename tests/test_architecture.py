"""The layout's promises (docs/architecture.md), read from the source's imports.

- `backprop` imports nothing of `checks`;
- no module reaches into another package's private module or name;
- the subsystems import each other one way: no cycle among them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PACKAGES = ("backprop", "checks")


def _modules() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join(parts), path


def _imports(module: str, path: Path) -> Iterator[tuple[str, str | None]]:
    """Every `(module, name)` that `module` imports from the two packages."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            base = node.module
            if node.level:
                anchor = module.split(".")[: len(module.split(".")) - node.level + is_package]
                base = ".".join([*anchor, node.module])
            for alias in node.names:
                yield base, alias.name


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _private_part(target: str) -> str | None:
    """The first private component of a dotted name, with what comes before it."""
    parts = target.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:i])
    return None


MODULES = dict(_modules())


def test_backprop_never_imports_checks() -> None:
    offending = [
        (module, target)
        for module, path in MODULES.items()
        if module.startswith("backprop")
        for target, _ in _imports(module, path)
        if target.split(".")[0] == "checks"
    ]
    assert offending == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_reaches_into_another_packages_private_parts(module: str) -> None:
    path = MODULES[module]
    home = _package_of(module, path)
    offending = []
    for target, name in _imports(module, path):
        if target.split(".")[0] not in PACKAGES:
            continue
        full = f"{target}.{name}" if name else target
        owner = _private_part(full)
        # a private part is fine from inside the package that owns it (or below it)
        if owner is not None and not (home == owner or home.startswith(owner + ".")):
            offending.append(full)
    assert offending == []


def _subsystem(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "backprop":
        return "backprop"
    if len(parts) >= 3 and parts[1] == "grader" and parts[2] in ("sandbox", "judge", "batch"):
        return ".".join(parts[:3])
    return ".".join(parts[:2])


def test_the_subsystems_import_each_other_one_way() -> None:
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        source = _subsystem(module)
        for target, _ in _imports(module, path):
            if target.split(".")[0] in PACKAGES:
                dest = _subsystem(target)
                if dest != source and dest not in ("checks", "checks.grader"):
                    graph.setdefault(source, set()).add(dest)
    # depth-first search for a cycle
    state: dict[str, int] = {}

    def cycle_from(node: str, trail: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*trail, node, nxt]
            if state.get(nxt) is None and (found := cycle_from(nxt, [*trail, node])):
                return found
        state[node] = 2
        return None

    cycles = [
        c for node in sorted(graph) if state.get(node) is None and (c := cycle_from(node, []))
    ]
    assert cycles == []
