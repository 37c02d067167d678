"""`python -m bridge.cli parties sync`: the first load of the seeded 1C counterparties into Bitrix24,
stopped after N objects by `--limit` and resumed by the next run without redoing or duplicating."""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge import deps
from sandbox.world.deals import World
from sandbox.world.rest import B24Rest
from tests.harness.cli import cli_run, ready_for_cli
from tests.harness.deal_world import onec

pytestmark = pytest.mark.integration


@pytest.fixture
def world(running: World, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    yield ready_for_cli(running, moto_endpoint, monkeypatch)
    deps.reset()


def companies(world: World) -> Counter[str]:
    rows = B24Rest(world.b24_webhook_url).call("crm.company.list", {"select": ["ID", "TITLE"]})
    return Counter(str(row["TITLE"]) for row in rows)


def test_dry_run_then_a_limited_run_then_the_rest(
    world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rows = onec(world, "Catalog_Контрагенты")["value"]
    counterparties = [row["Description"] for row in rows if not row["IsFolder"]]
    in_1c = len(rows) + len(onec(world, "Catalog_КонтактныеЛица")["value"])  # folders are looked at too
    assert len(counterparties) > 2
    before = companies(world)

    status, out = cli_run(capsys, "parties", "sync", "--dry-run")

    assert status == 0, out
    assert f"parties sync would bring over {in_1c} 1C object(s)" in out
    assert companies(world) == before  # nothing written

    status, out = cli_run(capsys, "parties", "sync", "--limit", "4", "--json")

    assert status == 0, out
    first = json.loads(out)
    assert first["stopped"] is True
    assert first["pending"] == in_1c
    assert len(first["outcomes"]) == 4
    written = [o for o in first["outcomes"].values() if o != "folder"]
    assert written, first["outcomes"]
    assert sum((companies(world) - before).values()) == len(written)

    report_csv = tmp_path / "parties.csv"
    status, out = cli_run(capsys, "parties", "sync", "--csv", str(report_csv))

    assert status == 0, out
    assert "stopped" not in out
    with report_csv.open(encoding="utf-8") as handle:
        resumed = {row["object"]: row["outcome"] for row in csv.DictReader(handle)}
    onec_objects = {key for key in resumed if key.startswith("1C#")}
    assert len(onec_objects) == in_1c - 4  # resumed with the rest, the first four not redone
    assert not onec_objects & set(first["outcomes"])
    after = companies(world)
    assert {"Альфа-Строй ООО", "СтальПоставка АО", "ИП Кузнецов Дмитрий Олегович"} <= set(after)
    assert all(count == 1 for title, count in after.items() if title in counterparties)  # no duplicates

    status, out = cli_run(capsys, "parties", "sync", "--json")
    assert json.loads(out)["pending"] == 0
