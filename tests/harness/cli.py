"""Running `python -m bridge.cli …` in-process against a deal world, with the settings a operator's
shell has after `. ./.sandbox.env` (BRIDGE_* pointing at the emulators and the moto SyncTable)."""

from __future__ import annotations

import pytest

from bridge import cli, deps, operations
from sandbox.local import emulators
from sandbox.world.deals import World
from tests.harness.deal_world import ports


def cli_environment(running: World, moto_endpoint: str) -> dict[str, str]:
    """The BRIDGE_* settings `. ./.sandbox.env` gives an operator's shell for this world (no
    BRIDGE_SECRET_ID: the settings are the environment's own)."""
    return {
        "BRIDGE_TABLE_NAME": running.table,
        "BRIDGE_AWS_ENDPOINT_URL": moto_endpoint,
        "BRIDGE_B24_WEBHOOK_URL": running.b24_webhook_url,
        "BRIDGE_B24_APPLICATION_TOKEN": emulators.APPLICATION_TOKEN,
        "BRIDGE_ONEC_BASE_URL": running.onec_url,
        "BRIDGE_ONEC_USER": emulators.ONEC_USER,
        "BRIDGE_ONEC_PASSWORD": emulators.ONEC_PASSWORD,
    }


def ready_for_cli(running: World, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> World:
    """A fresh world with every flow set up; the CLI's settings point at it."""
    running.reset()
    report = operations.run_setup(ports(running))
    assert report.ok, report.lines()
    for name, value in cli_environment(running, moto_endpoint).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("BRIDGE_SECRET_ID", raising=False)
    deps.reset()
    return running


def cli_run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """(exit status, stdout) of one command."""
    status = cli.main(list(argv))
    return status, capsys.readouterr().out
