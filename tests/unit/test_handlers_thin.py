"""Every Lambda handler is thin: under 40 lines, built on bridge.handlers (which carries the
Powertools stack, the time budget and the error → status mapping), wiring from bridge.deps only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
APPS = sorted((ROOT / "functions").glob("*/app.py"))


def _imports(tree: ast.Module) -> set[str]:
    return {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)} | {
        alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }


def test_every_function_is_checked() -> None:
    assert len(APPS) == 11, [str(app) for app in APPS]


@pytest.mark.parametrize("app", APPS, ids=lambda app: app.parent.name)
def test_the_handler_is_under_40_lines(app: Path) -> None:
    assert len(app.read_text("utf-8").splitlines()) < 40


@pytest.mark.parametrize("app", APPS, ids=lambda app: app.parent.name)
def test_the_handler_builds_on_bridge_handlers(app: Path) -> None:
    tree = ast.parse(app.read_text("utf-8"))
    imports = _imports(tree)

    assert "bridge.handlers" in imports
    # The Lambda entry (`app.handler` in template.yaml) is defined at module level.
    top = {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    assert "handler" in top | {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    # The Powertools stack and the HTTP resolver come from bridge.handlers, never set up again here.
    assert not any(name.startswith("aws_lambda_powertools.event_handler") for name in imports)
    assert not any(name.startswith("aws_lambda_powertools.logging") for name in imports)
    source = app.read_text("utf-8")
    for decorator in ("inject_lambda_context", "log_metrics", "capture_lambda_handler"):
        assert decorator not in source
    # Dependencies are built in bridge.deps only: no client, store or settings wired by hand.
    assert not any(name.startswith(("bridge.settings", "bridge.aws", "bridge.links")) for name in imports)


@pytest.mark.parametrize("app", APPS, ids=lambda app: app.parent.name)
def test_the_handler_imports_at_module_level_only(app: Path) -> None:
    tree = ast.parse(app.read_text("utf-8"))
    functions = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]

    assert not [
        ast.unparse(node)
        for function in functions
        for node in ast.walk(function)
        if isinstance(node, (ast.Import, ast.ImportFrom))
    ]
