"""The repair commands on the local stack, run as an operator runs them (`python -m bridge.cli …`
in a shell holding only `.sandbox.env`'s settings) with the router, moto and both emulators
running: `resync`, `link-existing`, `parties sync`, `catalog` and `replay` — their output and what
they change in 1C, Bitrix24 and SyncTable."""

from __future__ import annotations

import csv
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.deals.refs import deal_ref
from bridge.onec.client import ODataClient
from bridge.store import SyncStore
from sandbox.local import LocalStack, emulators
from sandbox.world.onec import AUTH, hand_typed_order, url
from sandbox.world.rest import B24Rest
from tests.harness.deal_stack import (
    dead_letter_url,
    deal_with_new_company,
    fresh,
    onec_get,
    orders_for,
    seed,
    settled_order,
)
from tests.harness.onec import DEAL_ID_PROPERTY
from tests.harness.operator import operator
from tests.harness.waiting import eventually

pytestmark = pytest.mark.acceptance

ORDERS = "Document_ЗаказПокупателя"
INN = "7712345678"  # the ИНН deal_with_new_company gives its company
COMMENT = "Доставка до 10:00"


@pytest.fixture
def ready(stack: LocalStack) -> Iterator[LocalStack]:
    fresh(stack)
    yield stack
    assert stack.b24 is not None
    httpx.post(f"{stack.b24.url}/_sandbox/events/resume").raise_for_status()


def _store(stack: LocalStack) -> SyncStore:
    return SyncStore(stack.model.tables["SyncTable"].name, stack.client("dynamodb"))


def _onec(stack: LocalStack) -> ODataClient:
    return ODataClient(stack.onec_base_url, emulators.ONEC_USER, emulators.ONEC_PASSWORD, max_attempts=1)


def _pause_events(stack: LocalStack, *, drop: bool = False) -> None:
    assert stack.b24 is not None
    httpx.post(f"{stack.b24.url}/_sandbox/events/pause", json={"drop": drop}).raise_for_status()


def _resume_events(stack: LocalStack) -> None:
    assert stack.b24 is not None
    httpx.post(f"{stack.b24.url}/_sandbox/events/resume").raise_for_status()


def _ok(done: Any) -> str:
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return str(done.stdout)


# ---- resync ----------------------------------------------------------------------------------------


def test_resync_deal_rewrites_a_hand_edited_order_and_prints_the_write(ready: LocalStack) -> None:
    rest = B24Rest(ready.b24_webhook_url)
    deal_id = deal_with_new_company(ready, rest, comments=COMMENT)
    order = settled_order(ready, deal_id)
    answer = httpx.patch(
        ready.onec_base_url + url(f"{ORDERS}(guid'{order['Ref_Key']}')", **{"$format": "json"}),
        json={"Комментарий": "исправлено вручную в 1С"},
        auth=AUTH,
        timeout=15,
    )
    answer.raise_for_status()

    out = _ok(operator(ready, "resync", "deal", str(deal_id)))

    assert out.splitlines()[0] == f"resync deal {deal_id}"
    assert f"flow: order {order['Number'].strip()} updated for deal {deal_id}" in out
    assert f"wrote: 1C update {ORDERS} {order['Ref_Key']}: " in out
    assert f"Комментарий={COMMENT}" in out
    after = onec_get(ready, f"{ORDERS}(guid'{order['Ref_Key']}')")
    assert after["Комментарий"] == COMMENT


def test_resync_of_an_unknown_deal_says_so_and_writes_nothing(ready: LocalStack) -> None:
    done = operator(ready, "resync", "deal", "987654", "--json")

    assert done.returncode == 1
    result = json.loads(done.stdout)
    assert result["ok"] is False
    assert result["writes"] == []


# ---- link-existing ---------------------------------------------------------------------------------


def _typed_order(stack: LocalStack, counterparty: str, total: float, deal_id: int | None = None) -> Any:
    """A customer order as an accountant types it into 1C before go-live."""
    refs = seed(stack)
    prop = refs[DEAL_ID_PROPERTY[0]][DEAL_ID_PROPERTY[1]] if deal_id is not None else None
    body = hand_typed_order(refs, counterparty, total, deal_id=deal_id, deal_property=prop)
    return _onec(stack).create(ORDERS, body)


def _orders_of(stack: LocalStack, counterparty: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = onec_get(
        stack, ORDERS, **{"$filter": f"Контрагент_Key eq guid'{counterparty}'"}
    )["value"]
    return rows


def test_link_existing_reports_then_links_and_the_first_edit_updates_the_typed_order(
    ready: LocalStack, tmp_path: Path
) -> None:
    _pause_events(ready)  # before go-live: the deals exist, the bridge has not seen them yet
    rest = B24Rest(ready.b24_webhook_url)
    product = rest.product("Болт М10х50", seed(ready)["Catalog_Номенклатура"]["Болт М10х50"])
    company, contact = rest.company_with_contact("Гамма ООО", INN, "771201001")
    stage = rest.stage_id("Продажи", "Продажа материала")
    by_attribute, by_sum, unmatched = (
        rest.deal("Заказ болтов", stage, company, contact, [rest.goods_row(product, "Болт", q)], COMMENT)
        for q in (10, 7, 11)
    )
    gamma = str(
        _onec(ready).create("Catalog_Контрагенты", {"Description": "Гамма ООО", "ИНН": INN})["Ref_Key"]
    )
    first = _typed_order(ready, gamma, 999.0, deal_id=by_attribute)  # the sum differs: the key decides
    second = _typed_order(ready, gamma, 105.0)  # 7 × 15

    report_csv = tmp_path / "link.csv"
    dry = operator(ready, "link-existing", "--dry-run", "--csv", str(report_csv))

    out = _ok(dry)
    lines = out.splitlines()
    assert lines[0].split() == ["deal", "title", "verdict", "by", "orders"]
    row_of = {int(line.split()[0]): line for line in lines[1:-1]}
    assert row_of[by_attribute].split()[3:5] == ["matched", "attribute"]
    assert row_of[by_sum].split()[3:5] == ["matched", "counterparty+date+sum"]
    assert "unmatched" in row_of[unmatched]
    assert "matched 2, ambiguous 0, unmatched 1; dry run, nothing linked" in lines[-1]
    assert "link-existing: open deals: 3/3 (" in dry.stderr  # plain progress off a terminal
    with report_csv.open(encoding="utf-8") as handle:
        rows = {int(r["deal"]): r for r in csv.DictReader(handle)}
    assert rows[by_sum]["order_refs"] == second["Ref_Key"]
    assert rows[by_attribute]["order_refs"] == first["Ref_Key"]
    assert rows[unmatched]["verdict"] == "unmatched"
    assert _store(ready).links.find_by_b24(deal_ref(by_sum)) is None  # the dry run linked nothing

    result = json.loads(_ok(operator(ready, "link-existing", "--apply", "--json")))

    assert result["counts"] == {"matched": 2, "ambiguous": 0, "unmatched": 1}
    assert {int(r["deal"]) for r in result["rows"] if r["linked"]} == {by_attribute, by_sum}
    link = _store(ready).links.find_by_b24(deal_ref(by_sum))
    assert link is not None
    assert link.onec.ref == second["Ref_Key"]

    # Go-live: the deals' events reach the bridge. The linked deals update the typed orders; only
    # the unmatched deal gets a new one.
    _resume_events(ready)

    def settled() -> list[dict[str, Any]] | None:
        orders = _orders_of(ready, gamma)
        return orders if len(orders) == 3 and all(o["Комментарий"] == COMMENT for o in orders) else None

    orders = eventually(settled, 120, "the deals' orders after go-live")
    assert {o["Ref_Key"] for o in orders} >= {first["Ref_Key"], second["Ref_Key"]}


# ---- parties sync ----------------------------------------------------------------------------------


def _companies(stack: LocalStack) -> Counter[str]:
    rows = B24Rest(stack.b24_webhook_url).call("crm.company.list", {"select": ["ID", "TITLE"]})
    return Counter(str(row["TITLE"]) for row in rows)


def test_parties_sync_dry_run_then_a_limited_run_then_the_rest(ready: LocalStack, tmp_path: Path) -> None:
    rows = onec_get(ready, "Catalog_Контрагенты")["value"]
    counterparties = [row["Description"] for row in rows if not row["IsFolder"]]
    in_1c = len(rows) + len(onec_get(ready, "Catalog_КонтактныеЛица")["value"])
    before = _companies(ready)

    out = _ok(operator(ready, "parties", "sync", "--dry-run"))

    assert f"parties sync would bring over {in_1c} 1C object(s)" in out
    assert _companies(ready) == before

    first = json.loads(_ok(operator(ready, "parties", "sync", "--limit", "4", "--json")))

    assert first["stopped"] is True
    assert len(first["outcomes"]) == 4

    report_csv = tmp_path / "parties.csv"
    resumed_run = operator(ready, "parties", "sync", "--csv", str(report_csv))

    out = _ok(resumed_run)
    assert "stopped" not in out
    assert "parties 1C → Bitrix24: " in resumed_run.stderr  # plain progress lines
    with report_csv.open(encoding="utf-8") as handle:
        resumed = {row["object"]: row["outcome"] for row in csv.DictReader(handle)}
    onec_objects = {key for key in resumed if key.startswith("1C#")}
    assert len(onec_objects) == in_1c - 4  # the first four are not redone
    assert not onec_objects & set(first["outcomes"])
    after = _companies(ready)
    assert {"Альфа-Строй ООО", "СтальПоставка АО"} <= set(after)
    assert all(count == 1 for title, count in after.items() if title in counterparties)
    assert json.loads(_ok(operator(ready, "parties", "sync", "--json")))["pending"] == 0


# ---- catalog ---------------------------------------------------------------------------------------


def test_catalog_sync_brings_the_nomenclature_over_with_progress(ready: LocalStack) -> None:
    names = set(seed(ready)["Catalog_Номенклатура"])
    rest = B24Rest(ready.b24_webhook_url)

    dry = operator(ready, "catalog", "sync", "--dry-run", "--json")

    result = json.loads(_ok(dry))
    assert result["summary"]
    assert not names & {p["name"] for p in rest.call("catalog.product.list", _product_list(rest))["products"]}

    done = operator(ready, "catalog", "sync")

    out = _ok(done)
    assert out.strip()
    assert "catalog products: " in done.stderr  # the flow's progress lines, plain off a terminal
    listed = {p["name"] for p in rest.call("catalog.product.list", _product_list(rest))["products"]}
    assert "Болт М10х50" in listed


def _product_list(rest: B24Rest) -> dict[str, Any]:
    iblock = rest.call("catalog.catalog.list", {})["catalogs"][0]["iblockId"]
    return {"select": ["id", "name", "iblockId"], "filter": {"iblockId": iblock}}


# ---- replay ----------------------------------------------------------------------------------------


def test_replay_of_one_deal_puts_its_dead_letter_back_and_the_order_is_created(ready: LocalStack) -> None:
    _pause_events(ready, drop=True)  # the deal's own event is lost: only the dead letter holds it
    rest = B24Rest(ready.b24_webhook_url)
    deal_id = deal_with_new_company(ready, rest, comments=COMMENT)
    dlq = dead_letter_url(ready)
    for entity_id in (deal_id, deal_id + 1000):
        body = {
            "event": "ONCRMDEALADD",
            "entity": "DEAL",
            "id": entity_id,
            "ts": 1,
            "received_at": "2026-11-28T00:00:00Z",
        }
        ready.client("sqs").send_message(
            QueueUrl=dlq,
            MessageBody=json.dumps(body),
            MessageGroupId=f"DEAL-{entity_id}",
            MessageDeduplicationId=uuid.uuid4().hex,
        )

    dry = json.loads(
        _ok(operator(ready, "replay", "--dlq", dlq, "--entity", f"DEAL-{deal_id}", "--dry-run", "--json"))
    )

    assert dry["dry_run"] is True
    assert dry["messages"] == [f"DEAL-{deal_id} ONCRMDEALADD received 2026-11-28T00:00:00Z"]
    assert _orders_by_deal(ready, deal_id) == []

    out = _ok(operator(ready, "replay", "--dlq", dlq, "--entity", f"DEAL-{deal_id}"))

    assert f"replayed: DEAL-{deal_id} ONCRMDEALADD received 2026-11-28T00:00:00Z" in out
    assert "replayed 1 event(s); 1 of other records left alone; 1 left in the dead-letter queue" in out
    order = settled_order(ready, deal_id)  # the worker ran the replayed event
    assert order["Комментарий"] == COMMENT


def _orders_by_deal(stack: LocalStack, deal_id: int) -> list[Any]:
    return orders_for(stack, deal_id)
