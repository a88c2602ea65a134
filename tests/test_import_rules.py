"""The house's import rules (ARCHITECTURE.md), checked over the source of ``credo/``.

A small AST walk rather than import-linter: every ``import`` and ``from ... import`` counts,
inside functions too (a lazy import is still a dependency), except under ``if TYPE_CHECKING:``
(a type-only import runs nothing). Each rule is also shown to fail on a synthetic module that
breaks it, so a checker that silently stopped seeing imports could not pass.

Run ``python tests/test_import_rules.py`` to print the package import graph and its circles.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CREDO = Path(__file__).resolve().parents[1] / "credo"
LIBRARY_EXEMPT = ("credo.cli", "credo.__main__")
"""The command line itself: the only modules allowed to import typer, rich, click or credo.cli."""


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int


@dataclass(frozen=True)
class Rule:
    name: str
    importers: tuple[str, ...]
    """Module prefixes the rule applies to (``credo.store`` covers ``credo.store.db``)."""
    forbidden: tuple[str, ...]
    why: str
    exempt: tuple[str, ...] = ()

    def broken_by(self, imports: Iterable[Import]) -> list[Import]:
        return [
            i
            for i in imports
            if _under(i.importer, self.importers)
            and not _under(i.importer, self.exempt)
            and _under(i.imported, self.forbidden)
        ]


RULES = (
    Rule(
        "lower floors never import the adapters",
        ("credo.store", "credo.sql", "credo.features", "credo.models"),
        ("credo.api", "credo.dashboard", "credo.cli"),
        "store, sql, features and models know nothing of api, dashboard or cli",
    ),
    Rule(
        "models never import policy",
        ("credo.models",),
        ("credo.policy",),
        "a scorecard is scored the same under any policy",
    ),
    Rule(
        "ingest never imports scoring",
        ("credo.ingest",),
        ("credo.scoring",),
        "data flows one way: events are made before anything is scored",
    ),
    Rule(
        "libraries import no CLI code",
        ("credo",),
        ("credo.cli", "credo.commandline", "typer", "rich", "click"),
        "the CLI is a thin adapter kept apart, as datasette keeps its own",
        exempt=LIBRARY_EXEMPT,
    ),
)

ALLOWED_CIRCLES: dict[frozenset[str], str] = {}
"""Circles between credo's top-level packages that are there by design, each with its reason.

Empty: the one circle found when the rule was written, api <-> dashboard (``api/app.py``
mounts the dashboard, ``dashboard/pages.py`` imported ``api.service``), was removed instead."""


def _under(module: str, prefixes: Iterable[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def module_name(path: Path, root: Path = CREDO) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node, except the bodies of ``if TYPE_CHECKING:`` blocks (their ``else`` counts)."""
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, ast.If) and _type_checking(child.test):
            for other in child.orelse:
                yield other
                yield from _nodes(other)
            continue
        yield child
        yield from _nodes(child)


def imports_of(source: str, module: str, *, package: bool = False) -> list[Import]:
    """What ``module`` (given as its source text) imports; ``from credo import x`` names
    ``credo.x``, relative imports are resolved against the module's package."""
    found: list[Import] = []
    base = module.split(".") if package else module.split(".")[:-1]
    for node in _nodes(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [Import(module, a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            parent = base[: len(base) - node.level + 1] if node.level else []
            target = ".".join([*parent, *([node.module] if node.module else [])])
            found += [Import(module, f"{target}.{a.name}", node.lineno) for a in node.names]
    return found


def all_imports(root: Path = CREDO) -> list[Import]:
    found: list[Import] = []
    for path in sorted(root.rglob("*.py")):
        name = module_name(path, root)
        found += imports_of(path.read_text(), name, package=path.name == "__init__.py")
    return found


def packages(root: Path = CREDO) -> frozenset[str]:
    """credo's top-level packages and modules (``from credo import __version__`` is neither)."""
    return frozenset(
        p.stem for p in root.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()
    )


def package_of(module: str, known: frozenset[str]) -> str | None:
    """The top-level package (or module) of credo that ``module`` belongs to."""
    parts = module.split(".")
    if parts[0] == "credo" and len(parts) > 1 and parts[1] in known:
        return parts[1]
    return None


def package_graph(imports: Iterable[Import]) -> dict[str, dict[str, list[Import]]]:
    """Importing package -> imported package -> the imports that make the edge."""
    graph: dict[str, dict[str, list[Import]]] = {}
    known = packages()
    for i in imports:
        src, dst = package_of(i.importer, known), package_of(i.imported, known)
        if src is not None:
            edges = graph.setdefault(src, {})
            if dst is not None and dst != src:
                edges.setdefault(dst, []).append(i)
    return graph


def circles(graph: dict[str, dict[str, list[Import]]]) -> list[frozenset[str]]:
    """The strongly connected groups of more than one package (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, {}):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(frozenset(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _where(imports: Iterable[Import]) -> str:
    return "\n".join(f"  {i.importer}:{i.line} imports {i.imported}" for i in imports)


# -- the rules hold over credo/ ------------------------------------------------------------
@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_the_rule_holds(rule: Rule) -> None:
    broken = rule.broken_by(all_imports())
    assert not broken, f"{rule.name} ({rule.why}):\n{_where(broken)}"


def test_no_circles_between_packages_but_the_allowed() -> None:
    graph = package_graph(all_imports())
    unexpected = [c for c in circles(graph) if c not in ALLOWED_CIRCLES]
    detail = [
        _where(i for a in sorted(c) for b in sorted(c) for i in graph.get(a, {}).get(b, []))
        for c in unexpected
    ]
    assert not unexpected, "import circles:\n" + "\n".join(detail)


def test_the_checker_sees_the_whole_package() -> None:
    graph = package_graph(all_imports())
    assert {"store", "api", "dashboard", "ingest", "models", "errors"} <= set(graph)
    assert "store" in graph["api"]  # the API uses the store: the walk finds real edges


# -- each rule fails when broken -------------------------------------------------------------
BAD = {
    "lower floors never import the adapters": (
        "credo.store.bad",
        "def f():\n    from credo.api.service import Service\n",
    ),
    "models never import policy": ("credo.models.bad", "from credo import policy\n"),
    "ingest never imports scoring": ("credo.ingest.bad", "import credo.scoring.snapshots\n"),
    "libraries import no CLI code": ("credo.rights.bad", "import typer\nfrom rich import print\n"),
}


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_the_rule_flags_a_module_that_breaks_it(rule: Rule) -> None:
    module, source = BAD[rule.name]
    assert rule.broken_by(imports_of(source, module))
    assert not rule.broken_by(imports_of("import json\nfrom credo.errors import X\n", module))


def test_a_type_only_import_and_the_cli_itself_break_no_rule() -> None:
    typed = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from credo.api import app\n"
    cli = "import typer\nfrom credo.commandline import x\n"
    found = imports_of(typed, "credo.store.ok") + imports_of(cli, "credo.cli.ok")
    assert not any(rule.broken_by(found) for rule in RULES)


def test_relative_imports_are_resolved() -> None:
    found = imports_of("from ..api import app\nfrom . import db\n", "credo.store.x")
    assert [i.imported for i in found] == ["credo.api.app", "credo.store.db"]
    assert RULES[0].broken_by(found)


def test_a_circle_is_found_with_the_imports_that_make_it() -> None:
    found = imports_of("from credo.api import app\n", "credo.store.x") + imports_of(
        "from credo.store import db\n", "credo.api.y"
    )
    graph = package_graph(found)
    assert circles(graph) == [frozenset({"api", "store"})]
    assert circles(package_graph(found[1:])) == []


if __name__ == "__main__":  # print the package import graph and its circles
    g = package_graph(all_imports())
    for pkg in sorted(g):
        print(f"{pkg} -> {', '.join(sorted(g[pkg])) or '-'}")
    for c in circles(g):
        print("circle:", sorted(c))
        print(_where(i for a in sorted(c) for b in sorted(c) for i in g.get(a, {}).get(b, [])))
