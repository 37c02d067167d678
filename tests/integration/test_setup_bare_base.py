"""`python -m bridge.cli setup` on a 1C base as fresh as a new customer's: one run, exit 0.

The sandbox 1C seed has no «Битрикс24» folder for new counterparties (a fresh УНФ has none); the
deal step needs it and the parties step used to be the only one creating it, so the first run
stopped with a problem (issue 10 item 12).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandbox.local import emulators
from sandbox.world.deals import World, world
from sandbox.world.onec import url
from tests.harness.cli import cli_environment

pytestmark = pytest.mark.integration

FOLDER = "Битрикс24"


@pytest.fixture
def bare(moto_endpoint: str) -> Iterator[World]:
    with world(moto_endpoint) as running:
        yield running


def _named(running: World, entity_set: str, name: str) -> list[dict[str, Any]]:
    answer = httpx.get(
        running.onec_url + url(entity_set, **{"$format": "json", "$filter": f"Description eq '{name}'"}),
        auth=(emulators.ONEC_USER, emulators.ONEC_PASSWORD),
        timeout=10,
    )
    answer.raise_for_status()
    rows: list[dict[str, Any]] = answer.json()["value"]
    return rows


def _folders(running: World) -> list[dict[str, Any]]:
    return _named(running, "Catalog_Контрагенты", FOLDER)


def _cli_setup(running: World, moto_endpoint: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **cli_environment(running, moto_endpoint)}
    env.pop("BRIDGE_SECRET_ID", None)
    return subprocess.run(
        [sys.executable, "-m", "bridge.cli", "setup", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_first_setup_on_a_base_without_the_folder_exits_zero(bare: World, moto_endpoint: str) -> None:
    assert _folders(bare) == []  # the seed starts like a fresh base

    dry = _cli_setup(bare, moto_endpoint, "--dry-run")
    assert f"would create the 1C folder '{FOLDER}'" in dry.stdout
    assert _folders(bare) == []  # a dry run changes nothing

    first = _cli_setup(bare, moto_endpoint)

    assert first.returncode == 0, first.stdout + first.stderr
    assert "PROBLEM" not in first.stdout
    assert first.stdout.rstrip().endswith("setup: ready")
    (folder,) = _folders(bare)
    assert folder["IsFolder"] is True
    assert f"[deals] created the 1C folder '{FOLDER}' in Catalog_Контрагенты" in first.stdout

    again = _cli_setup(bare, moto_endpoint)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "created the 1C folder" not in again.stdout
    assert [row["Ref_Key"] for row in _folders(bare)] == [folder["Ref_Key"]]  # still one folder


def test_attributes_setup_creates_are_strings_by_the_platforms_type_name(
    bare: World, moto_endpoint: str
) -> None:
    done = _cli_setup(bare, moto_endpoint)
    assert done.returncode == 0, done.stdout + done.stderr

    (okopf,) = _named(bare, "ChartOfCharacteristicTypes_ДополнительныеРеквизитыИСведения", "ОКОПФ")

    # fidelity-notes §1: `String`, not `Edm.String`; Int64 Length as a string, bounded.
    assert okopf["ValueType"]["Types"] == ["String"]
    assert okopf["ValueType"]["StringQualifiers"] == {"AllowedLength": "Variable", "Length": "150"}
