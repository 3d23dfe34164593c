"""The package's layering, read from its source: no import cycles, no oversized modules.

The import graph is built from the AST (no module is executed): absolute and relative imports, function-level
imports included, ``from pkg import name`` pointing at ``pkg.name`` when that is a module, and every module
depending on the ``__init__`` of each package above it (importing ``a.b.c`` runs ``a/__init__`` and ``a/b/__init__``).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "ganaug"
MAX_LINES = 400


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """Module name -> the modules of the package it imports (anywhere in its body)."""
    files = {module_name(p, root): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in files}

    def add(src: str, target: str) -> None:
        parts = target.split(".")
        for i in range(1, len(parts) + 1):  # importing a.b.c runs a and a.b first
            prefix = ".".join(parts[:i])
            if prefix in files and prefix != src and not src.startswith(prefix + "."):  # src's own packages
                graph[src].add(prefix)  # are initialised before src runs, so they add no edge

    for name, path in files.items():
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    add(name, alias.name)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if is_pkg else name.split(".")[:-1]
                    base = base[: len(base) - node.level + 1]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                add(name, module)
                for alias in node.names:  # `from pkg import mod` imports the module pkg.mod
                    add(name, f"{module}.{alias.name}")
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles in ganaug: " + "; ".join("{" + ", ".join(c) + "}" for c in found)


def test_cycle_detection_finds_a_cycle(tmp_path: Path) -> None:
    pkg = tmp_path / "ganaug"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from . import b\n")
    (pkg / "a.py").write_text("def f():\n    from ganaug.sub import b\n")
    (pkg / "sub" / "b.py").write_text("from ..a import f\n")
    (pkg / "leaf.py").write_text("import ganaug.a\n")
    assert cycles(import_graph(pkg)) == [["ganaug.a", "ganaug.sub", "ganaug.sub.b"]]


def test_no_module_over_400_lines() -> None:
    long = {module_name(p): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: " + ", ".join(f"{m} ({n})" for m, n in sorted(long.items()))


def test_importing_has_no_side_effects():
    """Importing the CLI and the report modules sets no matplotlib backend, loads no pyplot, keeps sys.stdout."""
    import subprocess
    import sys

    code = ("import sys, matplotlib; out = sys.stdout; "
            "import ganaug.cli, ganaug.report.figures, ganaug.report.grid; "
            "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'; "
            "assert matplotlib.rcParams._get('backend') is matplotlib.rcsetup._auto_backend_sentinel "
            "or 'MPLBACKEND' in __import__('os').environ, matplotlib.rcParams._get('backend'); "
            "assert sys.stdout is out")
    env = {"PYTHONPATH": str(PACKAGE.parent), "PATH": "/usr/bin:/bin", "RANK": "1", "WORLD_SIZE": "2"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
