"""`python -m bridge.cli check` against both emulators: a healthy sandbox after setup passes, and
each kind of problem (switched on through the emulators' `/_sandbox` APIs or a mapping) prints its
line and exits 1."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.config.mapping import __file__ as mapping_module
from sandbox.local import emulators
from sandbox.world.deals import REGION, World, world

pytestmark = pytest.mark.integration

DEFAULT_MAPPING = Path(mapping_module).with_name("mapping.default.toml")


@pytest.fixture(scope="module")
def ready(moto_endpoint: str) -> Iterator[World]:
    """Both emulators after one `setup` run: what a finished deploy looks like."""
    with world(moto_endpoint) as running:
        done = cli(running, moto_endpoint, "setup")
        assert done.returncode == 0, done.stdout + done.stderr
        yield running


@pytest.fixture
def healthy(ready: World) -> Iterator[World]:
    """Undo whatever a test switched in the emulators (scopes, publication, answers, portal data)."""
    snapshot = httpx.get(f"{ready.b24.url}/_sandbox/snapshot", timeout=10).json()  # type: ignore[union-attr]
    yield ready
    httpx.post(f"{ready.b24.url}/_sandbox/snapshot", json=snapshot, timeout=10)  # type: ignore[union-attr]
    _onec(ready, "publication", {"all": True})
    _onec(ready, "answers", {"count": "text", "condition_forms": None})


def cli(
    running: World, moto: str, *args: str, mapping: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "BRIDGE_TABLE_NAME": running.table,
        "BRIDGE_AWS_ENDPOINT_URL": moto,
        "BRIDGE_B24_WEBHOOK_URL": running.b24_webhook_url,
        "BRIDGE_B24_APPLICATION_TOKEN": emulators.APPLICATION_TOKEN,
        "BRIDGE_ONEC_BASE_URL": running.onec_url,
        "BRIDGE_ONEC_USER": emulators.ONEC_USER,
        "BRIDGE_ONEC_PASSWORD": emulators.ONEC_PASSWORD,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    env.pop("BRIDGE_SECRET_ID", None)
    env.pop("BRIDGE_MAPPING_FILE", None)
    if mapping is not None:
        env["BRIDGE_MAPPING_FILE"] = str(mapping)
    return subprocess.run(
        [sys.executable, "-m", "bridge.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _b24(running: World, path: str, body: dict[str, Any]) -> None:
    assert running.b24 is not None
    httpx.post(f"{running.b24.url}/_sandbox/{path}", json=body, timeout=10).raise_for_status()


def _onec(running: World, path: str, body: dict[str, Any]) -> None:
    assert running.onec is not None
    httpx.post(f"{running.onec.url}/_sandbox/{path}", json=body, timeout=10).raise_for_status()


def _problems(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("PROBLEM ")]


def test_a_ready_sandbox_passes_every_check(healthy: World, moto_endpoint: str) -> None:
    done = cli(healthy, moto_endpoint, "check")

    assert done.returncode == 0, done.stdout + done.stderr
    assert _problems(done.stdout) == []
    last = done.stdout.rstrip().splitlines()[-1]
    assert last.startswith("check: all ")
    assert last.endswith(" checks passed")
    assert int(last.split()[2]) >= 8  # reachability ×2, scopes, publication, clocks ×2, setup, SyncTable


def test_a_webhook_without_a_scope_names_the_scope(healthy: World, moto_endpoint: str) -> None:
    _b24(healthy, "webhook-scopes", {"scopes": ["crm", "catalog", "lists", "im", "user"]})

    done = cli(healthy, moto_endpoint, "check")

    assert done.returncode == 1
    (line,) = _problems(done.stdout)
    assert line.startswith("PROBLEM Bitrix24 inbound webhook: scope 'bizproc' is not granted")
    assert "tick 'bizproc'" in line
    assert done.stdout.rstrip().endswith("check: 1 problem(s) in 8 checks")


def test_an_unpublished_entity_set_is_named(healthy: World, moto_endpoint: str) -> None:
    _onec(healthy, "publication", {"unpublish": ["Document_ПоступлениеВКассу"]})

    done = cli(healthy, moto_endpoint, "check")

    assert done.returncode == 1
    assert "PROBLEM 1C OData publication: Document_ПоступлениеВКассу is not published" in done.stdout


def test_a_stage_removed_from_the_portal_is_named(healthy: World, moto_endpoint: str) -> None:
    assert healthy.b24 is not None
    snapshot = httpx.get(f"{healthy.b24.url}/_sandbox/snapshot", timeout=10).json()
    rows = snapshot["tables"]["statuses"]["rows"]
    snapshot["tables"]["statuses"]["rows"] = {
        k: r for k, r in rows.items() if r.get("NAME") != "Продажа материала"
    }
    _b24(healthy, "snapshot", snapshot)

    done = cli(healthy, moto_endpoint, "check")

    assert done.returncode == 1
    problems = _problems(done.stdout)
    assert problems
    assert any("Продажа материала" in line for line in problems), done.stdout


def test_a_mapping_naming_a_missing_funnel_is_named(
    healthy: World, moto_endpoint: str, tmp_path: Path
) -> None:
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(
        DEFAULT_MAPPING.read_text(encoding="utf-8").replace(
            'materials_funnel = "Заказ материала"', 'materials_funnel = "Оптовые продажи"'
        ),
        encoding="utf-8",
    )

    done = cli(healthy, moto_endpoint, "check", mapping=mapping)

    assert done.returncode == 1
    assert any("Оптовые продажи" in line for line in _problems(done.stdout)), done.stdout


def test_unreachable_systems_are_named_and_nothing_else_is_claimed(
    healthy: World, moto_endpoint: str
) -> None:
    _onec(healthy, "publication", {"all": True})
    env_world = World(healthy.moto_url, healthy.b24, healthy.onec, healthy.table)
    # a wrong 1C password: the publication answers 401
    httpx.post(
        f"{healthy.onec.url}/_sandbox/credentials",  # type: ignore[union-attr]
        json={"password": "rotated-elsewhere"},
        timeout=10,
    ).raise_for_status()
    try:
        done = cli(env_world, moto_endpoint, "check")
    finally:
        httpx.post(
            f"{healthy.onec.url}/_sandbox/credentials",  # type: ignore[union-attr]
            json={"password": emulators.ONEC_PASSWORD},
            timeout=10,
        ).raise_for_status()

    assert done.returncode == 1
    (line,) = _problems(done.stdout)
    assert line.startswith("PROBLEM 1C OData: not reachable with the login in the settings")
    assert "setup and mapping" not in done.stdout


def test_a_user_field_deleted_after_setup_is_named(healthy: World, moto_endpoint: str) -> None:
    assert healthy.b24 is not None
    snapshot = httpx.get(f"{healthy.b24.url}/_sandbox/snapshot", timeout=10).json()
    rows = snapshot["tables"]["userfields"]["rows"]
    kept = {k: r for k, r in rows.items() if r.get("FIELD_NAME") != "UF_CRM_1C_ORDER_NO"}
    assert len(kept) == len(rows) - 1  # setup made it; now someone deleted it in the portal
    snapshot["tables"]["userfields"]["rows"] = kept
    _b24(healthy, "snapshot", snapshot)

    done = cli(healthy, moto_endpoint, "check")

    assert done.returncode == 1
    (line,) = _problems(done.stdout)
    assert line.startswith(
        "PROBLEM [deals] setup: not done yet: would create deal user field UF_CRM_1C_ORDER_NO"
    )
    assert line.endswith("fix: run `python -m bridge.cli setup`")
