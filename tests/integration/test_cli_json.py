"""`--json` on the setup and catalog commands: one JSON document on stdout, the same figures as the
readable report."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bridge import deps
from sandbox.world.deals import World
from tests.harness.cli import cli_run, ready_for_cli

pytestmark = pytest.mark.integration


@pytest.fixture
def world(running: World, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    yield ready_for_cli(running, moto_endpoint, monkeypatch)
    deps.reset()


def test_setup_and_catalog_answer_json(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    status, out = cli_run(capsys, "setup", "--dry-run", "--json")
    assert status == 0, out
    setup = json.loads(out)
    assert setup["ok"] is True
    assert setup["dry_run"] is True
    assert [step["name"] for step in setup["steps"]] == ["deals", "payments", "catalog", "parties"]

    status, out = cli_run(capsys, "catalog", "sync", "--dry-run", "--json")
    assert status == 0, out
    catalog = json.loads(out)
    assert catalog["dry_run"] is True
    assert catalog["counts"]["products created"] > 0
    assert any(line.startswith("create product ") for line in catalog["lines"])
    assert catalog["summary"].startswith("nomenclature would write: ")
