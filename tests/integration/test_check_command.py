"""`python -m bridge.cli check` against both emulators: a healthy sandbox after setup passes, and
each kind of problem (switched on through the emulators' `/_sandbox` APIs or a mapping) prints its
line and exits 1."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.config.mapping import __file__ as mapping_module
from bridge.domain import onec_sets
from bridge.onec.client import CONDITION_PROBE, COUNT_PROBE, ODataClient
from bridge.onec.errors import BadRequest
from bridge.probes import (
    AT_ID_PROBE,
    CONTACT_ROLES_PROBE,
    EMPTY_REF,
    FOLDER_PROBE,
    MODE_STATUS_PROBE,
    PROPERTIES_PROBE,
    READ_PROBES,
)
from bridge.store import SyncStore
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
    # reachability ×2, scopes, publication, clocks ×2, setup, SyncTable, one per read-only probe
    assert int(last.split()[2]) >= 8 + len(READ_PROBES)


def test_a_webhook_without_a_scope_names_the_scope(healthy: World, moto_endpoint: str) -> None:
    _b24(healthy, "webhook-scopes", {"scopes": ["crm", "catalog", "lists", "im", "user"]})

    done = cli(healthy, moto_endpoint, "check")

    assert done.returncode == 1
    (line,) = _problems(done.stdout)
    assert line.startswith("PROBLEM Bitrix24 inbound webhook: scope 'bizproc' is not granted")
    assert "tick 'bizproc'" in line
    assert done.stdout.rstrip().endswith(f"check: 1 problem(s) in {8 + len(READ_PROBES)} checks")


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


# ---- live-check probes ---------------------------------------------------------------------------

STOCK_CONDITION = f"Номенклатура_Key eq guid'{EMPTY_REF}'"


def _store(running: World) -> SyncStore:
    return SyncStore(running.table, running.dynamodb())


def _client(running: World, store: SyncStore | None) -> ODataClient:
    return ODataClient(
        running.onec_url,
        emulators.ONEC_USER,
        emulators.ONEC_PASSWORD,
        max_attempts=1,
        answers=None if store is None else store.probes.answer,
    )


def _notes(stdout: str) -> dict[str, str]:
    return {
        line.split(":", 1)[0].removeprefix("probe "): line.split(":", 1)[1].strip()
        for line in stdout.splitlines()
        if line.startswith("probe ")
    }


def test_probes_record_and_print_what_the_systems_answer(healthy: World, moto_endpoint: str) -> None:
    added = httpx.post(
        healthy.b24_webhook_url + "crm.deal.add.json", json={"fields": {"TITLE": "A"}}, timeout=10
    )
    added.raise_for_status()  # the @ID probe compares with a deal that exists

    done = cli(healthy, moto_endpoint, "check")

    assert done.returncode == 0, done.stdout
    notes = _notes(done.stdout)
    assert notes[COUNT_PROBE] == "text (with $format=json: text)"
    assert notes[CONDITION_PROBE] == "query (accepted: query, doubled, nested)"
    assert notes[MODE_STATUS_PROBE] == "string (answered 'N')"
    assert notes[PROPERTIES_PROBE] == f"published ({onec_sets.PROPERTIES})"
    assert notes[CONTACT_ROLES_PROBE] == f"published ({onec_sets.CONTACT_ROLES})"
    assert notes[AT_ID_PROBE] == "honoured (@ID [0] returned 0 deal(s))"
    assert notes[FOLDER_PROBE].startswith("skipped, it writes (run with --allow-writes")
    probes = _store(healthy).probes
    assert [probes.answer(n) for n in (COUNT_PROBE, CONDITION_PROBE, MODE_STATUS_PROBE, FOLDER_PROBE)] == [
        "text",
        "query",
        "string",
        None,
    ]


def test_probes_record_the_other_answers_and_the_client_follows_them(
    healthy: World, moto_endpoint: str
) -> None:
    # A base that answers $count as JSON and whose parser takes only the doubled, parenthesised
    # Condition; a portal answering the mode status as a JSON boolean; roles not published.
    _onec(healthy, "answers", {"count": "json", "condition_forms": ["doubled"]})
    _onec(healthy, "publication", {"unpublish": [onec_sets.CONTACT_ROLES]})
    _b24(healthy, "answers", {"document_mode_status": "boolean"})
    unguided = _client(healthy, None)
    with pytest.raises(BadRequest):  # today's default form is refused by such a base
        unguided.balance(onec_sets.STOCK, condition=STOCK_CONDITION, dimensions=["Номенклатура"])

    done = cli(healthy, moto_endpoint, "check")

    assert done.returncode == 0, done.stdout
    notes = _notes(done.stdout)
    assert notes[COUNT_PROBE] == "json (with $format=json: json)"
    assert notes[CONDITION_PROBE] == "doubled (accepted: doubled)"
    assert notes[MODE_STATUS_PROBE] == "boolean (answered False)"
    assert notes[CONTACT_ROLES_PROBE] == f"not published ({onec_sets.CONTACT_ROLES})"
    store = _store(healthy)
    assert store.probes.answer(CONDITION_PROBE) == "doubled"
    assert store.probes.answer(COUNT_PROBE) == "json"

    guided = _client(healthy, store)
    assert guided.balance(onec_sets.STOCK, condition=STOCK_CONDITION, dimensions=["Номенклатура"]) == []
    organizations = guided.list(onec_sets.ORGANIZATIONS)
    assert guided.count(onec_sets.ORGANIZATIONS) == len(organizations) > 0


def test_a_base_taking_only_the_nested_form_is_followed_too(healthy: World, moto_endpoint: str) -> None:
    assert healthy.onec is not None
    seed = httpx.get(f"{healthy.onec.url}/_sandbox/seed", timeout=10).json()
    item = next(iter(seed["Catalog_Номенклатура"].values()))
    _onec(healthy, "stock", {"Номенклатура_Key": item, "Количество": 7})
    _onec(healthy, "answers", {"condition_forms": ["nested"]})

    done = cli(healthy, moto_endpoint, "check")

    assert _notes(done.stdout)[CONDITION_PROBE] == "nested (accepted: nested)"
    rows = _client(healthy, _store(healthy)).balance(
        onec_sets.STOCK, condition=f"Номенклатура_Key eq guid'{item}'", dimensions=["Номенклатура"]
    )
    assert [(r["Номенклатура_Key"], r["КоличествоBalance"]) for r in rows] == [(item, 7)]


def _onec_calls(running: World) -> list[dict[str, Any]]:
    assert running.onec is not None
    return list(httpx.get(f"{running.onec.url}/_sandbox/calls", timeout=10).json()["calls"])


def _b24_methods(running: World, since: int) -> list[str]:
    assert running.b24 is not None
    calls = httpx.get(f"{running.b24.url}/_sandbox/calls", params={"since": since}, timeout=10).json()[
        "calls"
    ]
    return [str(c["method"]) for c in calls]


def _b24_cursor(running: World) -> int:
    assert running.b24 is not None
    return int(httpx.get(f"{running.b24.url}/_sandbox/calls", timeout=10).json()["cursor"])


WRITES = re.compile(r"\.(add|update|delete|set|conduct|bind|unbind|start)$")


def test_check_writes_nothing_without_allow_writes(healthy: World, moto_endpoint: str) -> None:
    assert healthy.onec is not None
    httpx.delete(f"{healthy.onec.url}/_sandbox/calls", timeout=10)
    b24_since = _b24_cursor(healthy)

    done = cli(healthy, moto_endpoint, "check")

    assert done.returncode == 0, done.stdout
    onec_methods = {c["method"] for c in _onec_calls(healthy)}
    assert onec_methods == {"GET"}
    b24_methods = _b24_methods(healthy, b24_since)
    assert "catalog.document.mode.status" in b24_methods
    assert [m for m in b24_methods if WRITES.search(m)] == []


def test_allow_writes_creates_a_group_and_deletes_it_again(healthy: World, moto_endpoint: str) -> None:
    assert healthy.onec is not None
    httpx.delete(f"{healthy.onec.url}/_sandbox/calls", timeout=10)

    done = cli(healthy, moto_endpoint, "check", "--allow-writes")

    assert done.returncode == 0, done.stdout
    note = _notes(done.stdout)[FOLDER_PROBE]
    assert note.startswith("accepted (created and deleted 'bridge check ")
    assert _store(healthy).probes.answer(FOLDER_PROBE) == "accepted"
    writes = [(c["method"], c["path"].split("(")[0]) for c in _onec_calls(healthy) if c["method"] != "GET"]
    groups = [w for w in writes if onec_sets.COUNTERPARTIES in w[1]]  # the ValueType probe writes too
    assert groups == [("POST", onec_sets.COUNTERPARTIES), ("DELETE", onec_sets.COUNTERPARTIES)]
    leftovers = _client(healthy, None).list(
        onec_sets.COUNTERPARTIES, filter="startswith(Description, 'bridge check')"
    )
    assert leftovers == []
