"""`python -m bridge.cli resync <kind> <key>` against both emulators and a moto SyncTable: the record
goes through its flow although its fingerprint says nothing changed, and the command prints the
writes it made."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bridge import cli, deps
from bridge.catalog.runs import run_nomenclature
from bridge.deals.flow import sync_deal
from bridge.parties import poller
from bridge.parties.state import state_fingerprint
from bridge.parties.sync import PartiesFlow
from bridge.store import B24Ref
from sandbox.world.deals import World
from sandbox.world.onec import AUTH, url
from sandbox.world.rest import B24Rest
from tests.harness.cli import cli_run, ready_for_cli
from tests.harness.deal_world import new_deal, onec, orders_for, ports

pytestmark = pytest.mark.integration

ORDERS = "Document_ЗаказПокупателя"
HAND_EDIT = "исправлено вручную в 1С"


@pytest.fixture
def world(running: World, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    yield ready_for_cli(running, moto_endpoint, monkeypatch)
    deps.reset()


def patch_onec(world: World, entity_set: str, ref: str, body: dict[str, Any]) -> None:
    answer = httpx.patch(
        world.onec_url + url(f"{entity_set}(guid'{ref}')", **{"$format": "json"}),
        json=body,
        auth=AUTH,
        timeout=15,
    )
    answer.raise_for_status()


def hand_edited_order(world: World) -> tuple[int, dict[str, Any]]:
    """A deal with its order, whose comment someone then changed in 1C: the deal flow skips it."""
    deal_id = new_deal(world)
    assert "created" in sync_deal(deal_id, ports(world))
    (order,) = orders_for(world, deal_id)
    patch_onec(world, ORDERS, order["Ref_Key"], {"Комментарий": HAND_EDIT})
    assert sync_deal(deal_id, ports(world)) == "nothing: the mapped fields are unchanged"
    assert orders_for(world, deal_id)[0]["Комментарий"] == HAND_EDIT
    return deal_id, order


def test_resync_deal_rewrites_a_hand_edited_order_and_prints_the_write(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    deal_id, order = hand_edited_order(world)

    status, out = cli_run(capsys, "resync", "deal", str(deal_id))

    assert status == 0, out
    (after,) = orders_for(world, deal_id)  # rewritten, still one order
    assert after["Ref_Key"] == order["Ref_Key"]
    assert after["Комментарий"] == "Доставка до 10:00"
    assert f"resync deal {deal_id}" in out
    assert f"flow: order {order['Number'].strip()} updated for deal {deal_id}" in out
    assert f"wrote: 1C update {ORDERS} {order['Ref_Key']}: " in out
    assert "Комментарий=Доставка до 10:00" in out


def test_resync_order_by_its_number_goes_through_its_deal(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    deal_id, order = hand_edited_order(world)

    status, out = cli_run(capsys, "resync", "order", order["Number"], "--json")

    assert status == 0, out
    result = json.loads(out)
    assert result["ok"] is True
    assert f"order {order['Number']} belongs to deal {deal_id}" in result["notes"]
    assert any(w.startswith(f"1C update {ORDERS} {order['Ref_Key']}") for w in result["writes"])
    assert orders_for(world, deal_id)[0]["Комментарий"] == "Доставка до 10:00"


def _linked_parties(world: World) -> tuple[str, dict[str, Any]]:
    """The seeded 1C counterparties brought to Bitrix24; returns a counterparty's ref and its company."""
    flow = deps.parties_flow(ports(world))
    report = poller.run(flow)
    assert not report.failures, report.failures
    (row,) = onec(world, "Catalog_Контрагенты", **{"$filter": "Description eq 'Альфа-Строй ООО'"})["value"]
    rest = B24Rest(world.b24_webhook_url)
    (company,) = [
        c for c in rest.call("crm.company.list", {"select": ["*"]}) if c["TITLE"] == row["Description"]
    ]
    return str(row["Ref_Key"]), {**company, "INN": row["ИНН"]}


def test_resync_company_and_counterparty(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    ref, company = _linked_parties(world)
    # The name changed in 1C, but the link's 1C fingerprint already says so (as after a lost
    # Bitrix24 write): the flow skips it, only a forced run looks again.
    patch_onec(world, "Catalog_Контрагенты", ref, {"Description": "Альфа-Строй ООО (новое)"})
    flow = deps.parties_flow(ports(world))
    link = ports(world).store.links.find_by_b24(_company_ref(company))
    assert link is not None
    row = onec(world, f"Catalog_Контрагенты(guid'{ref}')")
    ports(world).store.links.link(
        link.b24,
        link.onec,
        fingerprint=link.fingerprint,
        extra={**link.extra, "fp_onec": _fp(flow, row)},
    )
    assert flow.sync_onec("Catalog_Контрагенты", ref) == "unchanged"

    status, out = cli_run(capsys, "resync", "counterparty", company["INN"])

    assert status == 0, out
    assert "wrote: Bitrix24 crm.company.update" in out
    title = B24Rest(world.b24_webhook_url).call("crm.company.get", {"id": company["ID"]})["TITLE"]
    assert title == "Альфа-Строй ООО (новое)"

    status, out = cli_run(capsys, "resync", "company", str(company["ID"]))
    assert status == 0, out
    assert f"resync company {company['ID']}" in out
    assert "flow: in sync" in out  # both sides agree now: forced through, nothing to write
    assert "wrote: nothing" in out


def _company_ref(company: dict[str, Any]) -> B24Ref:
    return B24Ref(entity="COMPANY", id=str(company["ID"]))


def _fp(flow: PartiesFlow, row: dict[str, Any]) -> str:
    return state_fingerprint(flow._onec_state(row, False))


def test_resync_product_rewrites_a_product_changed_in_bitrix24(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    report = run_nomenclature(ports(world))
    assert not report.failed, report.summary()
    assert world.b24 is not None
    products = httpx.get(f"{world.b24.url}/_sandbox/tables/products").json()
    product = next(p for p in products if p["xmlId"])
    rest = B24Rest(world.b24_webhook_url)
    rest.call("catalog.product.update", {"id": product["id"], "fields": {"name": "переименован вручную"}})
    again = run_nomenclature(ports(world))  # 1C did not change: the flow writes nothing
    assert "products updated" not in again.counts
    assert (
        rest.call("catalog.product.get", {"id": product["id"]})["product"]["name"] == "переименован вручную"
    )

    status, out = cli_run(capsys, "resync", "product", str(product["id"]))

    assert status == 0, out
    assert f"flow: product {product['id']} is 1C item {product['xmlId']}" in out
    assert f"wrote: Bitrix24 catalog.product.update #{product['id']}: " in out
    assert "catalog.price.update" in out  # the price row is written again, not added twice
    assert rest.call("catalog.product.get", {"id": product["id"]})["product"]["name"] == product["name"]
    prices = [
        p
        for p in httpx.get(f"{world.b24.url}/_sandbox/tables/prices").json()
        if p["productId"] == product["id"]
    ]
    assert len(prices) == 1


def test_resync_refuses_a_bad_key_with_the_reason(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["resync", "counterparty", "12345"]) == 2
    assert "an ИНН has 10 (organisation) or 12 (person) digits" in capsys.readouterr().err


def test_resync_of_an_order_linked_to_no_deal_names_the_next_step(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = cli_run(capsys, "resync", "order", "НЕТ-ТАКОГО")
    assert status == 1
    assert "problem: no 1C order numbered 'НЕТ-ТАКОГО'" in out
