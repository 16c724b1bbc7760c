"""No import cycles anywhere in bot/, and every module imports on its own.

A cycle means two modules cannot be read, imported or tested apart; hiding one behind a
function-level import or `if TYPE_CHECKING:` leaves it there. So the graph is read from the
source with `ast`, counting every import wherever it stands (inside functions, under
TYPE_CHECKING), relative ones resolved; any strongly connected group of modules fails, named.
Each module is then imported alone in a fresh interpreter, which catches an order-dependent
import that the graph alone would not.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "bot"


def module_files(package: Path) -> dict[str, Path]:
    """Every module under `package`, by dotted name (a package by its own name)."""
    modules = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of `modules` that `name` imports, anywhere in its source."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()

    def add(target: str) -> None:
        while target and target not in modules:  # `import a.b.func`-style names: the module they are in
            target = target.rpartition(".")[0]
        if target and target != name:
            found.add(target)

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = name.split(".") if is_package else name.split(".")[:-1]
                base = ".".join(package[: len(package) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            for alias in node.names:  # `from . import quiz` imports the submodule quiz
                add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return found


def import_graph(package: Path) -> dict[str, set[str]]:
    modules = module_files(package)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def describe(group: list[str], graph: dict[str, set[str]]) -> str:
    """One cycle through the group, as `a → b → a`."""
    path = [group[0]]
    while True:
        nxt = min(m for m in graph[path[-1]] if m in group)
        if nxt in path:
            return " → ".join(path[path.index(nxt):] + [nxt])
        path.append(nxt)


def test_no_import_cycle_in_bot():
    graph = import_graph(PACKAGE)
    found = cycles(graph)
    assert not found, "import cycles: " + "; ".join(describe(group, graph) for group in found)


def test_the_graph_sees_hidden_imports(tmp_path):
    """The walk finds a cycle hidden in a function or under TYPE_CHECKING, through relative imports."""
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .sub.b import thing\n")
    (package / "sub" / "b.py").write_text("def thing():\n    from ..c import other\n")
    (package / "c.py").write_text("from . import a\n")
    (package / "d.py").write_text("import pkg.c\n")
    graph = import_graph(package)
    assert graph["pkg.a"] == {"pkg.sub.b"} and graph["pkg.sub.b"] == {"pkg.c"} and graph["pkg.d"] == {"pkg.c"}
    assert cycles(graph) == [["pkg.a", "pkg.c", "pkg.sub.b"]]
    assert describe(["pkg.a", "pkg.c", "pkg.sub.b"], graph) == "pkg.a → pkg.sub.b → pkg.c → pkg.a"


ALONE = """
import importlib, sys, traceback
failed = []
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m == "bot" or m.startswith("bot.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except BaseException:
        failed.append(name + ":\\n" + traceback.format_exc(limit=3))
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def test_every_module_imports_alone():
    """Each module of bot/ imported first, in a fresh interpreter state (bot's modules cleared)."""
    names = [name for name in module_files(PACKAGE) if name != "bot.__main__"]  # __main__ runs the companion
    done = subprocess.run([sys.executable, "-c", ALONE, *names], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
