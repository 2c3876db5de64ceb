"""The layout is the architecture: these rules keep it so (docs/architecture.md draws it).

Every module under ``src/payerr`` is parsed with ``ast``; nothing is imported. The checks:

- module-level imports only go down the layer table below. Imports under ``if
  TYPE_CHECKING:`` may go anywhere: they never run, so they cannot make a cycle or load
  a module early. Imports inside a function may go anywhere too: they run on first use,
  when every module is loaded;
- only the client seams import a client library (httpx, requests, aiohttp), at module
  level, inside a function or for type checking alike;
- each private subpackage's ``__init__`` docstring maps its modules;
- a module over 400 lines, or a function over 40, says why on a line starting ``Long
  because`` (a comment or a docstring line; CONTRIBUTING.md, "Architecture").
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "payerr"

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("vocabulary", ("_values", "_enums", "_errors", "_lazy")),
    ("catalog", ("_catalog",)),
    ("coordination", ("_coordination",)),
    ("retry", ("_retry",)),
    ("reading", ("_reading",)),
    ("engine", ("_engine",)),
    ("clients", ("_clients",)),
    ("public", ("payerr", "testing", "otel", "integrations", "sandbox")),
    ("tools", ("_tools", "__main__")),
)
"""Bottom to top. A unit (a top-level module or subpackage of payerr; ``payerr`` is the
package's own ``__init__``) may import at module level from itself and from the units
before it in this table, within a layer too, in the order listed: ``_errors`` may use
``_enums``, ``sandbox`` may use ``testing``, never the other way round."""

ORDER = [unit for _, units in LAYERS for unit in units]
RANK = {unit: rank for rank, unit in enumerate(ORDER)}

CLIENT_LIBRARIES = ("httpx", "requests", "aiohttp")
CLIENT_SEAMS = ("_clients", "integrations", "sandbox", "testing", "otel", "_tools")
"""The units allowed to import a client library: the clients' own package; the public
modules whose job is a client (the SDK integrations, the sandbox's redirect, the test
helpers, OpenTelemetry); and the tools on top, whose demo is a user of real clients."""

MODULE_LINES = 400
FUNCTION_LINES = 40
LONG_BECAUSE = re.compile(r"^\s*(?:#\s*|[rRuU]?\"\"\")?Long because\b\S*\s+\S")
"""The one way to say why a module or function is long: a line starting ``Long because``
and giving the reason, as a ``# Long because ...`` comment or a line of the docstring."""


@dataclass(frozen=True)
class Module:
    name: str  # dotted: payerr, payerr.testing, payerr._reading.classify, ...
    path: Path
    is_package: bool

    @property
    def unit(self) -> str:
        return unit_of(self.name)

    @property
    def relative(self) -> str:
        return str(self.path.relative_to(SRC))


def unit_of(dotted: str) -> str:
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


@cache
def modules() -> tuple[Module, ...]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        found.append(Module(".".join(parts), path, is_package))
    return tuple(found)


@cache
def tree_of(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def _is_module(dotted: str) -> bool:
    relative = Path(*dotted.split("."))
    return (SRC / relative).with_suffix(".py").is_file() or (SRC / relative).is_dir()


def targets(module: Module, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The modules an import statement loads, as dotted names."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not node.level:
        base = node.module or ""
    else:
        parts = module.name.split(".")
        if not module.is_package:
            parts.pop()
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join([*parts, *([node.module] if node.module else [])])
    named = [f"{base}.{alias.name}" for alias in node.names]
    return [name for name in named if _is_module(name)] or [base]


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def module_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Imports that run when the module is imported: not in a function, not for type checking."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                found.append(node)
            elif isinstance(node, ast.If):
                if not _type_checking(node.test):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try | ast.TryStar):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)
                visit(node.orelse)
                visit(node.finalbody)
            elif isinstance(node, ast.ClassDef | ast.With):
                visit(node.body)

    visit(tree.body)
    return found


def upward_imports(module: Module) -> list[str]:
    """``path:line imports target`` for each module-level import that goes up a layer."""
    wrong = []
    for node in module_level_imports(tree_of(module.path)):
        for target in targets(module, node):
            if target.split(".")[0] != "payerr":
                continue
            unit = unit_of(target)
            assert unit in RANK, f"{target}: add {unit!r} to LAYERS"
            if RANK[unit] > RANK[module.unit]:
                wrong.append(f"{module.relative}:{node.lineno} imports {target}")
    return wrong


MODULES = modules()
IDS = [module.name for module in MODULES]


def test_every_module_is_in_a_layer() -> None:
    """A new top-level module or subpackage must be placed in the table (and the docs)."""
    assert len(MODULES) > 40
    assert {module.unit for module in MODULES} == set(ORDER)


@pytest.mark.parametrize("module", MODULES, ids=IDS)
def test_module_level_imports_go_down(module: Module) -> None:
    assert upward_imports(module) == [], (
        "import from a lower layer, or import inside the function that needs it"
        " (docs/architecture.md says when that is right)"
    )


def test_an_upward_import_is_caught() -> None:
    """The check sees through relative imports and ``from .. import name``."""
    engine = next(m for m in MODULES if m.unit == "_engine" and not m.is_package)
    tree = ast.parse("from .. import testing\nfrom .._tools import cli\n")
    found = [t for node in module_level_imports(tree) for t in targets(engine, node)]
    assert found == ["payerr.testing", "payerr._tools.cli"]
    assert all(RANK[unit_of(t)] > RANK["_engine"] for t in found)


def test_type_checking_and_function_imports_are_not_module_level() -> None:
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "import typing\n"
        "if TYPE_CHECKING:\n    import a\n"
        "if typing.TYPE_CHECKING:\n    import b\n"
        "else:\n    import c\n"
        "try:\n    import d\nexcept ImportError:\n    import e\n"
        "def f():\n    import g\n"
    )
    found = [alias.name for node in module_level_imports(tree) for alias in node.names]
    assert found == ["TYPE_CHECKING", "typing", "c", "d", "e"]


def client_imports(module: Module) -> list[str]:
    """Every import of a client library in the module, wherever it sits."""
    found = []
    for node in ast.walk(tree_of(module.path)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            for target in targets(module, node):
                if target.split(".")[0] in CLIENT_LIBRARIES:
                    found.append(f"{module.relative}:{node.lineno} imports {target}")
    return found


@pytest.mark.parametrize(
    "module", [m for m in MODULES if m.unit not in CLIENT_SEAMS], ids=lambda m: m.name
)
def test_only_the_seams_import_a_client_library(module: Module) -> None:
    assert client_imports(module) == [], (
        "client libraries are known to _clients/ only: give the engine a client-neutral"
        " value and let each client apply it"
    )


def test_the_clients_do_import_client_libraries() -> None:
    """The seam check is not vacuous: the clients package is where the libraries are."""
    seen = {
        imported.rsplit(" ", 1)[1].split(".")[0]
        for module in MODULES
        if module.unit == "_clients"
        for imported in client_imports(module)
    }
    assert seen == set(CLIENT_LIBRARIES)


SUBPACKAGES = [m for m in MODULES if m.is_package and m.unit.startswith("_") and m.unit != m.name]


@pytest.mark.parametrize("package", SUBPACKAGES, ids=lambda m: m.name)
def test_subpackage_docstring_maps_its_modules(package: Module) -> None:
    """Each module is named as a literal, ``name``, with what it does."""
    doc = ast.get_docstring(tree_of(package.path)) or ""
    assert len(doc.splitlines()) >= 3, f"{package.relative}: a docstring with a map of modules"
    folder = package.path.parent
    children = sorted(
        [p.stem for p in folder.glob("*.py") if p.name != "__init__.py"]
        + [p.name for p in folder.iterdir() if (p / "__init__.py").is_file()]
    )
    assert children
    missing = [c for c in children if not re.search(rf"``{re.escape(c)}(?:\.py)?``", doc)]
    assert missing == [], f"{package.relative}: say what {missing} do in the docstring"


def test_every_layer_has_a_mapped_subpackage() -> None:
    assert {m.unit for m in SUBPACKAGES} == {
        unit for unit in ORDER if unit.startswith("_") and not unit.startswith("__")
    } - {"_values", "_enums", "_errors", "_lazy"}


def _says_why(lines: list[str], start: int, end: int) -> bool:
    """A ``Long because`` line among ``lines[start:end]`` (0-based)."""
    return any(LONG_BECAUSE.match(line) for line in lines[max(start, 0) : end])


def module_says_why(tree: ast.Module, lines: list[str]) -> bool:
    """The comment is at the top: before the first statement after the docstring."""
    body = tree.body
    has_doc = bool(body) and ast.get_docstring(tree) is not None
    after_doc = body[1:] if has_doc else body
    first = after_doc[0].lineno - 1 if after_doc else len(lines)
    return _says_why(lines, 0, first)


def long_modules() -> list[str]:
    found = []
    for module in MODULES:
        lines = module.path.read_text(encoding="utf-8").splitlines()
        if len(lines) > MODULE_LINES and not module_says_why(tree_of(module.path), lines):
            found.append(f"{module.relative}: {len(lines)} lines")
    return found


def function_says_why(node: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]) -> bool:
    """On the comment lines just above the function (and its decorators) or at its start."""
    top = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
    above = top
    while above > 0 and lines[above - 1].strip().startswith("#"):
        above -= 1
    if _says_why(lines, above, top):
        return True
    body = node.body
    first = body[1] if ast.get_docstring(node) is not None and len(body) > 1 else body[0]
    return _says_why(lines, node.lineno - 1, first.lineno - 1)


def long_functions(module: Module) -> list[str]:
    lines = module.path.read_text(encoding="utf-8").splitlines()
    found = []
    for node in ast.walk(tree_of(module.path)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > FUNCTION_LINES and not function_says_why(node, lines):
                found.append(f"{module.relative}:{node.lineno} {node.name}: {length} lines")
    return found


def test_long_modules_say_why() -> None:
    assert long_modules() == [], (
        f"split a module over {MODULE_LINES} lines, or say why at its top: Long because ..."
    )


@pytest.mark.parametrize("module", MODULES, ids=IDS)
def test_long_functions_say_why(module: Module) -> None:
    assert long_functions(module) == [], (
        f"split a function over {FUNCTION_LINES} lines, or say why above it or at its start:"
        " Long because ..."
    )


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ("", False),
        ("# Long because one table, read top to bottom\n", True),
        ('    """Doc."""\n    # Long because a state machine in one place\n', True),
        ('    """Doc.\n\n    Long because it is the decision table, kept whole.\n    """\n', True),
        ("# Long because\n", False),  # a reason is owed, not the words
        ("# Long because the table\n\n", False),  # a blank line parts it from the function
    ],
)
def test_the_function_rule_reads_its_comment(head: str, expected: bool) -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(45))
    inside = head.startswith("    ")
    source = f"def f():\n{head}{body}" if inside else f"{head}def f():\n{body}"
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.FunctionDef)
    assert function_says_why(node, source.splitlines()) is expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('"""A module."""\n\nimport os\n', False),
        ('"""A module.\n\nLong because it is one parser.\n"""\n\nimport os\n', True),
        ('"""A module."""\n\n# Long because one parser\nimport os\n', True),
        ('"""A module."""\n\nimport os\n# Long because too late\n', False),
    ],
)
def test_the_module_rule_reads_its_comment(source: str, expected: bool) -> None:
    assert module_says_why(ast.parse(source), source.splitlines()) is expected
