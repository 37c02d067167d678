"""The layout of `shared/bridge` (docs/architecture.md), checked from the source text alone.

Every module is parsed with `ast`; nothing is imported, so a module that would fail to import (or
a package that does not exist yet) cannot hide a violation.

Three rules:
- No import cycle among bridge modules. Counted: imports that run when a module is loaded —
  module level, class bodies, `try`/`if` blocks at module level, package `__init__` files (importing
  `bridge.a.b` runs `bridge/a/__init__.py`). Not counted for cycles: `if TYPE_CHECKING:` blocks, which
  never run; mypy resolves them lazily. They do count for the layer rule below, so a type-only
  import cannot point upwards either (which also rules out every cycle across layers).
- Layers (layout agreed for issue 12): a module imports only its own layer or below; a flow imports
  only its own package and errors/config/domain/store/b24/onec/setup/observability/deadline; the
  pipeline imports layers 0–1 only; nothing below layer 4 imports deps/handlers/operations/cli.
- No function-local imports, except the documented lazy ones in `LAZY_ALLOWED`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "shared"
PACKAGE = "bridge"

# Layer of each top-level part of the package (layout.md). Parts not listed are an error, so a new
# package has to be placed deliberately.
LAYERS: dict[str, int] = {
    "bridge": 0,  # the package's own __init__ (docstring only)
    "bridge.errors": 0,
    "bridge.config": 0,
    "bridge.domain": 0,
    "bridge.settings": 1,
    "bridge.aws": 1,
    "bridge.observability": 1,
    "bridge.deadline": 1,
    "bridge.http_edge": 1,
    "bridge.b24": 1,
    "bridge.onec": 1,
    "bridge.store": 1,
    "bridge.ports": 1,  # the Ports bundle flows take; deps builds it
    "bridge.setup": 1,
    "bridge.notices": 1,  # one timeline comment per distinct problem, for every flow
    "bridge.deals": 2,
    "bridge.payments": 2,
    "bridge.parties": 2,
    "bridge.catalog": 2,
    "bridge.pipeline": 3,
    "bridge.deps": 4,
    "bridge.handlers": 4,
    "bridge.operations": 4,
    "bridge.checks": 4,
    "bridge.probes": 4,
    "bridge.repair": 4,
    "bridge.oversight": 4,  # what an operator looks at: journal, status
    "bridge.deal_tab": 4,  # the «1С» deal-card tab: reads the journal, runs repair's resync
    "bridge.routes": 4,
    "bridge.commands": 4,
    "bridge.cli": 4,
    "bridge.__main__": 4,
}
FLOWS = frozenset({"bridge.deals", "bridge.payments", "bridge.parties", "bridge.catalog"})
# What a flow may import besides its own package.
FLOW_MAY_IMPORT = frozenset(
    {
        "bridge.errors",
        "bridge.config",
        "bridge.domain",
        "bridge.store",
        "bridge.ports",
        "bridge.b24",
        "bridge.onec",
        "bridge.setup",
        "bridge.notices",
        "bridge.observability",
        "bridge.deadline",
    }
)

# Function-local imports that are deliberate, each with its reason: only the cold-start ones of
# the AWS adapter and the wiring layer (bridge.deps).
LAZY_ALLOWED: dict[tuple[str, str], str] = {
    # Issue 15 (cold start): boto3 and everything that pulls it in load on the first AWS call only.
    ("bridge.aws", "botocore.config"): "cold start: boto3 on first use",
    ("bridge.aws", "botocore.session"): "cold start: botocore on first use, boto3 never",
    # The wiring loads a flow, a client or the worker's Powertools utilities when a provider first
    # needs them: every Lambda imports bridge.deps, and each should load only its own flow (the
    # webhook receiver must answer Bitrix24 fast from a cold start). See bridge/deps.py's docstring.
    ("bridge.deps", "bridge.catalog.runs"): "cold start: loaded by the provider that needs it",
    ("bridge.deps", "bridge.onec.client"): "cold start: loaded by the provider that needs it",
    ("bridge.deps", "bridge.store"): "cold start: loaded by the provider that needs it",
    ("bridge.deps", "bridge.b24.factory"): "cold start: loaded by the provider that needs it",
    ("bridge.deps", "bridge.b24.ratelimit"): "cold start: loaded by the provider that needs it",
    ("bridge.deps", "bridge.b24.as_user"): "cold start: loaded by the provider that needs it",
    ("bridge.deps", "bridge.config.payments"): "cold start: loaded by the provider that needs it",
    ("bridge.deps", "bridge.payments.recompute"): "cold start: loaded by the provider that needs it",
    ("bridge.deps", "bridge.payments.resolved"): "cold start: loaded by the provider that needs it",
    ("bridge.deps", "bridge.parties.resolved"): "cold start: loaded by the provider that needs it",
    ("bridge.deps", "bridge.parties.sync"): "cold start: loaded by the provider that needs it",
    ("bridge.deps", "bridge.deals.flow"): "cold start: loaded by the provider that needs it",
    ("bridge.deps", "bridge.parties.events"): "cold start: loaded by the provider that needs it",
    ("bridge.deps", "bridge.pipeline.idempotency"): "cold start: loaded by the provider that needs it",
    ("bridge.deps", "bridge.pipeline.audit"): "cold start: loaded by the provider that needs it",
    ("bridge.deps", "bridge.pipeline.dispatch"): "cold start: loaded by the provider that needs it",
    ("bridge.deps", "bridge.pipeline.worker"): "cold start: loaded by the provider that needs it",
    ("bridge.deps", "bridge.domain.directory"): "cold start: loaded by the provider that needs it",
    ("bridge.deps", "bridge.pipeline.queue"): "cold start: loaded by the provider that needs it",
    ("bridge.deps", "bridge.pipeline.receiver"): "cold start: loaded by the provider that needs it",
    # Issue 15 (P5): what only some functions use loads on first use, not at every function's init.
    ("bridge.settings", "bridge.config.mapping"): "cold start: the receiver never reads the mapping",
    ("bridge.handlers", "bridge.oversight.runs"): "cold start: the run marker's stores on first use",
    ("bridge.deal_tab.view", "bridge.repair"): "cold start: every flow loads on the resync button only",
}

# Known violations waiting for a fix, each (rule, importing module, imported part). Empty: a new
# entry needs a reason and an owner, and a stale one fails `test_pending_list_is_not_stale`.
PENDING_OTHER_OWNERS: frozenset[tuple[str, str, str]] = frozenset()


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module (a bridge module, or any module for function-local ones)
    line: int
    type_only: bool  # inside `if TYPE_CHECKING:`
    local: bool  # inside a function body

    def __str__(self) -> str:
        where = " (TYPE_CHECKING)" if self.type_only else " (in a function)" if self.local else ""
        return f"{self.source}:{self.line} imports {self.target}{where}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted((ROOT / PACKAGE).rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(
    nodes: list[ast.stmt], *, type_only: bool, local: bool
) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool, bool]]:
    for node in nodes:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, type_only, local
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from _walk(node.body, type_only=type_only, local=True)
        elif isinstance(node, ast.If):
            inner = type_only or _is_type_checking(node.test)
            yield from _walk(node.body, type_only=inner, local=local)
            yield from _walk(node.orelse, type_only=type_only, local=local)
        else:
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                children = getattr(node, field, None)
                if isinstance(children, list):
                    stmts = [c for c in children if isinstance(c, ast.stmt)]
                    stmts += [
                        s for c in children if not isinstance(c, ast.stmt) for s in getattr(c, "body", [])
                    ]
                    yield from _walk(stmts, type_only=type_only, local=local)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(modules: dict[str, Path]) -> list[Import]:
    found: list[Import] = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text("utf-8"), str(path))
        is_package = path.name == "__init__.py"
        for node, type_only, local in _walk(tree.body, type_only=False, local=False):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = _resolve(module, is_package, node)
                # `from bridge.x import y` imports the submodule `bridge.x.y` when there is one.
                subs = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in modules]
                targets = subs or [base]
            for target in targets:
                found.append(Import(module, target, node.lineno, type_only, local))
    return found


def _known(target: str, modules: dict[str, Path]) -> str | None:
    """The bridge module a dotted name refers to (its longest existing prefix)."""
    parts = target.split(".")
    while parts and (len(parts) > 1 or target == PACKAGE):  # the root only when named itself
        name = ".".join(parts)
        if name in modules:
            return name
        parts.pop()
    return None


def _part(module: str) -> str:
    """`bridge.deals.flow` → `bridge.deals`; `bridge.settings` → `bridge.settings`."""
    parts = module.split(".")
    return ".".join(parts[:2])


MODULES = _modules()
IMPORTS = _imports(MODULES)
BRIDGE_IMPORTS = [i for i in IMPORTS if i.target == PACKAGE or i.target.startswith(PACKAGE + ".")]


def _pending(rule: str, found: list[tuple[Import, str]]) -> list[str]:
    return [
        f"{imp}: {why}"
        for imp, why in found
        if (rule, imp.source, _part(imp.target)) not in PENDING_OTHER_OWNERS
    ]


def _runtime_graph() -> dict[str, dict[str, Import]]:
    graph: dict[str, dict[str, Import]] = {m: {} for m in MODULES}
    for imp in BRIDGE_IMPORTS:
        if imp.type_only or imp.local:
            continue
        target = _known(imp.target, MODULES)
        if target is None or target == imp.source:
            continue
        # Loading `bridge.a.b` first runs each package above it that the importer is not inside.
        parts = target.split(".")
        for depth in range(2, len(parts) + 1):
            step = ".".join(parts[:depth])
            if step in MODULES and not imp.source.startswith(step + ".") and step != imp.source:
                graph[imp.source].setdefault(step, imp)
    return graph


def _cycles(graph: dict[str, dict[str, Import]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_module_has_a_layer() -> None:
    unplaced = sorted({_part(m) for m in MODULES} - set(LAYERS))
    assert not unplaced, f"place these in LAYERS (docs/architecture.md): {unplaced}"


def test_no_import_cycle() -> None:
    graph = _runtime_graph()
    problems = []
    for component in _cycles(graph):
        members = set(component)
        edges = [str(graph[m][n]) for m in component for n in graph[m] if n in members]
        problems.append("cycle among " + ", ".join(component) + ":\n    " + "\n    ".join(edges))
    assert not problems, "\n".join(problems)


def _layer_violations(imports: list[Import] | None = None) -> list[tuple[Import, str]]:
    found: list[tuple[Import, str]] = []
    for imp in BRIDGE_IMPORTS if imports is None else imports:
        target = _known(imp.target, MODULES)
        target_part = _part(target) if target else _part(imp.target)  # a package not written yet
        source_part = _part(imp.source)
        if target_part in (source_part, PACKAGE):
            continue
        source_layer = LAYERS.get(source_part)
        target_layer = LAYERS.get(target_part)
        if source_layer is None or target_layer is None:
            continue  # reported by test_every_module_has_a_layer
        if source_part in FLOWS and target_part not in FLOW_MAY_IMPORT:
            found.append((imp, f"a flow imports only its own package and {sorted(FLOW_MAY_IMPORT)}"))
        elif source_layer == 3 and target_layer > 1:
            found.append((imp, "the pipeline imports layers 0-1 only (its handler table comes from deps)"))
        elif target_layer > source_layer:
            found.append((imp, f"layer {source_layer} imports layer {target_layer}"))
    return found


def test_layers() -> None:
    problems = _pending("layer", _layer_violations())
    assert not problems, "imports against the layers:\n  " + "\n  ".join(problems)


def test_no_function_local_imports() -> None:
    found = []
    for imp in IMPORTS:
        if imp.local and not imp.type_only and (imp.source, imp.target) not in LAZY_ALLOWED:
            found.append((imp, "import at module level, or fix the dependency direction"))
    problems = _pending("local", found)
    assert not problems, "function-local imports:\n  " + "\n  ".join(problems)


def test_pending_entries_are_still_needed() -> None:
    """An entry whose violation is gone must leave the list, so the list only shrinks."""
    live = {("layer", i.source, _part(i.target)) for i, _ in _layer_violations()}
    live |= {("local", i.source, _part(i.target)) for i in IMPORTS if i.local and not i.type_only}
    stale = sorted(PENDING_OTHER_OWNERS - live)
    assert not stale, f"remove from PENDING_OTHER_OWNERS: {stale}"


def test_the_checker_sees_what_it_checks() -> None:
    # Guards against a parser that finds nothing (and so passes everything).
    assert "bridge.settings" in MODULES
    assert any(i.source == "bridge.aws" and i.target == "botocore.session" and i.local for i in IMPORTS)
    assert any(i.type_only for i in IMPORTS)


def test_the_checks_catch_what_they_forbid() -> None:
    # Each rule against a made-up import, so a rule that silently stopped matching shows here.
    def imp(source: str, target: str, *, type_only: bool = False) -> Import:
        return Import(source, target, 1, type_only, False)

    flagged = _layer_violations(
        [
            imp("bridge.parties.sync", "bridge.deals.buyer"),  # a flow importing another flow
            imp("bridge.payments.rules", "bridge.settings", type_only=True),  # type-only still counts
            imp("bridge.pipeline.worker", "bridge.catalog.stock"),  # the pipeline importing a flow
            imp("bridge.settings", "bridge.handlers"),  # below layer 4 importing the wiring layer
            imp("bridge.store.links", "bridge.deps"),  # a package not written yet
        ]
    )
    assert [i.source for i, _ in flagged] == [
        "bridge.parties.sync",
        "bridge.payments.rules",
        "bridge.pipeline.worker",
        "bridge.settings",
        "bridge.store.links",
    ]
    assert not _layer_violations([imp("bridge.deals.flow", "bridge.domain.stages")])
    graph: dict[str, dict[str, Import]] = {
        "a": {"b": imp("a", "b")},
        "b": {"c": imp("b", "c")},
        "c": {"a": imp("c", "a")},
        "d": {"a": imp("d", "a")},
    }
    assert _cycles(graph) == [["a", "b", "c"]]
