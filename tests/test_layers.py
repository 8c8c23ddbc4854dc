"""The house the code promises (docs/development.md): chalicelib's packages import one way, in
the order below, with no circle between modules or packages; only the web layer imports
chalice, only storage and the carrier adapters boto3 or botocore. Checked on the source, with
the imports inside functions counted as well (a deferred import saves a cold start time, but
must not be what keeps a circle from failing); only `if TYPE_CHECKING:` imports are aside."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "chalicelib"

# Lowest first. A package imports only packages on lower floors: never one on its own floor
# (siblings stay apart) or above it.
ORDER = (
    ("twilio", "runtime", "observability"),  # wire conventions, settings and clock, logs
    ("storage",),  # AWS's data services (and the secrets sealed with KMS)
    ("outbound", "accounts"),  # calls to users' URLs; who may use Herald
    ("jobs", "messages", "numbers"),  # a queue's jobs within their time; the resources
    ("carriers", "inbound"),  # the hand-off and its receipts; texts that arrive, webhooks
    ("delivery",),  # the stream and the queues: each job to the step that does it
    ("web",),  # the routes
)
FLOOR = {package: floor for floor, packages in enumerate(ORDER) for package in packages}
# Only these may import these third-party packages.
ALLOWED = {
    "chalice": ("web/",),
    "boto3": ("storage/", "carriers/"),
    "botocore": ("storage/", "carriers/"),
}
# The web layer serves requests through the resources and never reaches into the carriers or
# the delivery pipeline. Of storage it uses only the failures it answers: the package's own
# (storage.Throttled, storage.Unavailable: 429, 503) and tokens.Unavailable (a URL's
# credentials that could not be sealed: 503).
WEB_NEVER = ("chalicelib.carriers", "chalicelib.delivery", "chalicelib.jobs")
WEB_STORAGE = {"chalicelib.storage", "chalicelib.storage.tokens"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _Imports(ast.NodeVisitor):
    """Every import a module makes, at any depth, but those under `if TYPE_CHECKING:`."""

    def __init__(self, module: str, is_package: bool):
        self.module, self.is_package = module, is_package
        self.found: list[tuple[str, int, bool]] = []  # (imported module, line, in a function)
        self.depth = 0
        self.dynamic: list[int] = []

    def visit_FunctionDef(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_If(self, node):
        if _is_type_checking(node.test):
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node):
        for alias in node.names:
            self.found.append((alias.name, node.lineno, self.depth > 0))

    def visit_ImportFrom(self, node):
        base = node.module or ""
        if node.level:
            parts = self.module.split(".")
            parts = parts if self.is_package else parts[:-1]
            parts = parts[: len(parts) - (node.level - 1)]
            base = ".".join([*parts, base] if base else parts)
        for alias in node.names:
            target = f"{base}.{alias.name}"
            self.found.append((target if target in MODULES else base, node.lineno, self.depth > 0))

    def visit_Call(self, node):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in ("import_module", "__import__"):
            self.dynamic.append(node.lineno)
        self.generic_visit(node)


def imports_of(path: Path, module: str | None = None) -> _Imports:
    module = module or module_name(path)
    visitor = _Imports(module, path.name == "__init__.py")
    visitor.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return visitor


def package_of(module: str) -> str | None:
    """The chalicelib package a module belongs to (None: outside chalicelib, or its face)."""
    parts = module.split(".")
    return parts[1] if parts[0] == "chalicelib" and len(parts) > 1 else None


def module_graph() -> dict[str, set[str]]:
    """chalicelib module -> the chalicelib modules its imports load (the package faces on
    the way included: importing a.b.c runs a/__init__ and a/b/__init__)."""
    graph = {}
    for module, path in MODULES.items():
        edges = set()
        for target, _, _ in imports_of(path, module).found:
            if not target.startswith("chalicelib"):
                continue
            parts = target.split(".")
            for n in range(2, len(parts) + 1):
                prefix = ".".join(parts[:n])
                # The importer's own ancestors are already loading: not an edge.
                if prefix in MODULES and not module.startswith(prefix + "."):
                    edges.add(prefix)
        edges.discard(module)
        graph[module] = edges
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan's algorithm)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []

    def visit(node):
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
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    packages: dict[str, set[str]] = {}
    for module, targets in graph.items():
        source = package_of(module)
        if source is None:
            continue
        packages.setdefault(source, set())
        for target in targets:
            if (destination := package_of(target)) not in (None, source):
                packages[source].add(destination)
    return packages


# --- the order ------------------------------------------------------------------------------


def test_every_package_has_its_floor_and_no_module_stands_loose():
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and list(p.glob("*.py"))}
    assert sorted(packages - FLOOR.keys()) == [], "a package the order does not place"
    assert sorted(FLOOR.keys() - packages) == [], "the order names a package that is gone"
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    assert loose == [], "a module loose at the top of chalicelib/: give it a package"
    faces = sorted(name for name in FLOOR if not (PACKAGE / name / "__init__.py").exists())
    assert faces == [], "each package says what it holds in its __init__.py"


@pytest.mark.parametrize("path", MODULES.values(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_import_climbs(path):
    module = module_name(path)
    source = package_of(module)
    climbs = []
    for target, line, deferred in imports_of(path, module).found:
        destination = package_of(target)
        if source is None or destination in (None, source):
            continue
        if FLOOR[destination] >= FLOOR[source]:
            where = "inside a function" if deferred else "at the top"
            climbs.append(f"line {line}: {target} ({where})")
    assert climbs == [], f"{source} (floor {FLOOR.get(source)}) imports at or above its floor"


def test_no_circle_between_modules():
    assert circles(module_graph()) == []


def test_no_circle_between_packages():
    assert circles(package_graph(module_graph())) == []


@pytest.mark.parametrize("path", MODULES.values(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_each_module_imports_only_what_its_layer_may(path):
    relative = path.relative_to(PACKAGE).as_posix()
    tops = {target.split(".")[0] for target, _, _ in imports_of(path).found}
    reached = {top for top in tops & ALLOWED.keys() if not relative.startswith(ALLOWED[top])}
    assert not reached, f"chalicelib/{relative} imports {sorted(reached)}"


@pytest.mark.parametrize(
    "path", sorted((PACKAGE / "web").glob("*.py")), ids=lambda p: p.relative_to(PACKAGE).name
)
def test_the_web_layer_goes_through_the_resources(path):
    reached = [
        f"line {line}: {target}"
        for target, line, _ in imports_of(path).found
        if target.startswith(WEB_NEVER)
        or (target.startswith("chalicelib.storage.") and target not in WEB_STORAGE)
    ]
    assert reached == []


@pytest.mark.parametrize("path", MODULES.values(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_dynamic_import_only_loads_its_own_packages_names(path):
    """messages/__init__ loads its names on first use (importlib, for the cold start): a
    package face may do that for its own modules; elsewhere it would hide an import."""
    calls = imports_of(path).dynamic
    if not calls:
        return
    assert path.name == "__init__.py", f"import_module in {path.relative_to(PACKAGE)}"
    assert 'import_module(f"{__name__}.' in path.read_text(encoding="utf-8")


def test_no_module_is_over_350_lines():
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in MODULES.values()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 350
    }
    assert long == {}


# --- the check itself -----------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    module = tmp_path / "m.py"
    module.write_text(text)
    return module


def test_the_check_sees_imports_inside_functions_but_not_type_checking_ones(tmp_path):
    module = write(
        tmp_path,
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from chalicelib.carriers import base\n"
        "def f():\n"
        "    from botocore.exceptions import ClientError\n"
        "    from chalicelib.delivery import worker\n",
    )
    found = {(target, deferred) for target, _, deferred in imports_of(module, "m").found}
    assert found == {
        ("typing", False),
        ("botocore.exceptions", True),
        ("chalicelib.delivery.worker", True),
    }


def test_the_check_resolves_relative_imports(tmp_path):
    module = write(tmp_path, "from . import worker\nfrom ..messages import model\n")
    found = [t for t, _, _ in imports_of(module, "chalicelib.delivery.receipts").found]
    assert found == ["chalicelib.delivery.worker", "chalicelib.messages.model"]


def test_the_check_finds_circles():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_a_package_face_on_the_way_counts():
    """Importing chalicelib.carriers.sandbox runs chalicelib/carriers/__init__.py too: a
    module that face imports cannot import carriers.sandbox back without a circle."""
    graph = module_graph()
    assert "chalicelib.carriers" in graph["chalicelib.delivery.receipts"]
    assert "chalicelib.carriers" not in graph["chalicelib.carriers.sandbox"]
