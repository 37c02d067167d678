"""`python -m bridge.cli link-existing` before go-live: open deals matched to orders typed into 1C
by hand (by the deal-id attribute, then by counterparty + date + sum); a dry run links nothing,
`--apply` links the matches, and the deal's next edit updates that order instead of creating one."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bridge import deps
from bridge.deals.flow import sync_deal
from bridge.deals.refs import deal_ref
from bridge.deals.resolved import resolved_config
from sandbox.world.deals import World, linked_product
from sandbox.world.onec import hand_typed_order
from sandbox.world.rest import B24Rest
from tests.harness.cli import cli_run, ready_for_cli
from tests.harness.deal_world import onec, ports, seed

pytestmark = pytest.mark.integration

ORDERS = "Document_ЗаказПокупателя"
INN = "7712345678"  # the ИНН new_deal gives its company


@pytest.fixture
def world(running: World, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    yield ready_for_cli(running, moto_endpoint, monkeypatch)
    deps.reset()


def typed_order(
    world: World, counterparty: str, total: float, *, deal_id: int | None = None
) -> dict[str, Any]:
    """A customer order as an accountant types it into 1C (optionally with the deal-id attribute)."""
    refs = seed(world)
    prop = resolved_config(ports(world).store).load().refs.deal_id_property if deal_id is not None else None
    body = hand_typed_order(refs, counterparty, total, deal_id=deal_id, deal_property=prop)
    return ports(world).onec.create(ORDERS, body)


def deals(world: World, *quantities: int) -> list[int]:
    """Open deals of one company (ИНН `INN`), one product row each at 15 a piece."""
    rest = B24Rest(world.b24_webhook_url)
    product = "Болт М10х50"
    nomenclature = seed(world)["Catalog_Номенклатура"][product]
    product_id = linked_product(rest, ports(world).store.links, product, nomenclature, "catalog")
    company, contact = rest.company_with_contact("Гамма ООО", INN, "771201001")
    stage = rest.stage_id("Продажи", "Продажа материала")
    return [
        rest.deal(
            "Заказ болтов",
            stage,
            company,
            contact,
            [rest.goods_row(product_id, product, q)],
            comments="Доставка [B]до 10:00[/B]",
        )
        for q in quantities
    ]


def all_orders(world: World) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = onec(world, ORDERS)["value"]
    return rows


def test_dry_run_reports_then_apply_links_and_the_next_edit_updates_that_order(
    world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    by_attribute, by_sum, ambiguous, unmatched = deals(world, 10, 7, 9, 11)
    counterparty = ports(world).onec.create("Catalog_Контрагенты", {"Description": "Гамма ООО", "ИНН": INN})
    gamma = str(counterparty["Ref_Key"])
    first = typed_order(world, gamma, 999.0, deal_id=by_attribute)  # the sum differs: the key decides
    second = typed_order(world, gamma, 105.0)  # 7 × 15
    typed_order(world, gamma, 135.0)  # 9 × 15, twice: a person decides
    typed_order(world, gamma, 135.0)
    orders_before = len(all_orders(world))  # none of 11 × 15 = 165: unmatched

    report_csv = tmp_path / "link.csv"
    status, out = cli_run(capsys, "link-existing", "--dry-run", "--csv", str(report_csv))

    assert status == 0, out
    lines = out.splitlines()
    assert lines[0].split() == ["deal", "title", "verdict", "by", "orders"]
    row_of = {int(line.split()[0]): line for line in lines[1:-1]}
    assert row_of[by_attribute].split()[3:5] == ["matched", "attribute"]
    assert first["Number"].strip() in row_of[by_attribute]
    assert row_of[by_sum].split()[3:5] == ["matched", "counterparty+date+sum"]
    assert second["Number"].strip() in row_of[by_sum]
    assert "ambiguous" in row_of[ambiguous]
    assert "unmatched" in row_of[unmatched]
    assert "matched 2, ambiguous 1, unmatched 1; dry run, nothing linked" in lines[-1]
    with report_csv.open(encoding="utf-8") as handle:
        rows = {int(r["deal"]): r for r in csv.DictReader(handle)}
    assert rows[by_sum]["order_refs"] == second["Ref_Key"]
    assert rows[ambiguous]["verdict"] == "ambiguous"
    assert len(rows[ambiguous]["orders"].split()) == 2
    for deal_id in (by_attribute, by_sum, ambiguous, unmatched):
        assert ports(world).store.links.find_by_b24(deal_ref(deal_id)) is None  # the dry run linked nothing

    status, out = cli_run(capsys, "link-existing", "--apply", "--json")

    assert status == 0, out
    result = json.loads(out)
    assert result["counts"] == {"matched": 2, "ambiguous": 1, "unmatched": 1}
    linked = {int(r["deal"]) for r in result["rows"] if r["linked"]}
    assert linked == {by_attribute, by_sum}
    link = ports(world).store.links.find_by_b24(deal_ref(by_sum))
    assert link is not None
    assert link.onec.ref == second["Ref_Key"]

    # The manager edits the deal: its hand-typed order is updated, no second order appears.
    note = sync_deal(by_sum, ports(world))

    assert note == f"order {second['Number'].strip()} updated for deal {by_sum}", note
    assert len(all_orders(world)) == orders_before
    updated = onec(world, f"{ORDERS}(guid'{second['Ref_Key']}')")
    assert updated["Комментарий"] == "Доставка до 10:00"

    status, out = cli_run(capsys, "link-existing")  # linked deals and orders are no longer offered
    offered = {int(line.split()[0]) for line in out.splitlines()[1:-1]}
    assert offered == {ambiguous, unmatched}
