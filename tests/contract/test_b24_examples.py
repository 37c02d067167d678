"""Replays the documented Bitrix24 samples (tests/fixtures/b24) against the emulator.

Each scenario builds the data a sample needs, sends the sample request (IDs rewritten to the
emulator's own) and compares the answer with the sample response: same envelope, keys and JSON
value types (not values). Error samples must match `error` and the HTTP status of README §1.4.
`COVERAGE` lists every sample file with the test that replays it or why it is not replayed; the
table in docs/sandbox-b24.md is rendered from it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bridge.b24.php_query import decode
from sandbox.world.rest import B24Rest
from tests.harness.b24 import shape_mismatches

pytestmark = pytest.mark.contract

FIXTURES = Path(__file__).parents[1] / "fixtures" / "b24"
DOC = Path(__file__).parents[2] / "docs" / "sandbox-b24.md"


def sample(name: str) -> Any:
    data: Any = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


# -- data builders -----------------------------------------------------------------------------
def new_company(rest: B24Rest, **fields: Any) -> int:
    body = sample("crm.company.add.request.json")
    body["fields"] |= fields
    return int(rest.call("crm.company.add", body))


def new_contact(rest: B24Rest, **fields: Any) -> int:
    return int(rest.call("crm.contact.add", {"fields": {"NAME": "Иван", "LAST_NAME": "Петров", **fields}}))


def new_deal(rest: B24Rest, **fields: Any) -> int:
    return int(rest.call("crm.deal.add", {"fields": {"TITLE": "Сделка", **fields}}))


def product_fields() -> dict[str, Any]:
    """catalog.product.add has no request sample; its fields are taken from the get sample."""
    fields = dict(sample("catalog.product.get.response.json")["result"]["product"])
    for key in ("id", "available", "bundle", "timestampX", "dateCreate", "createdBy", "modifiedBy"):
        fields.pop(key)
    fields |= {"iblockId": 23, "iblockSectionId": None}
    fields["previewPicture"] = {"fileData": ["p.gif", "R0lGODlhAQABAAAAACw="]}
    fields["detailPicture"] = {"fileData": ["d.gif", "R0lGODlhAQABAAAAACw="]}
    return fields


def new_product(rest: B24Rest, **overrides: Any) -> int:
    section = rest.call("catalog.section.add", {"fields": {"iblockId": 23, "name": "Раздел"}})["section"][
        "id"
    ]
    fields = product_fields() | {"iblockSectionId": section} | overrides
    return int(rest.call("catalog.product.add", {"fields": fields})["element"]["id"])


def new_requisite(rest: B24Rest) -> int:
    body = sample("crm.requisite.add.request.json")
    body["fields"]["ENTITY_ID"] = new_company(rest)
    return int(rest.call("crm.requisite.add", body))


def with_id(name: str, new_id: int, key: str = "id") -> dict[str, Any]:
    body: dict[str, Any] = sample(name)
    present = next((k for k in body if k.lower() == key.lower()), key)
    body[present] = new_id
    return body


# -- scenarios for *.response.json -------------------------------------------------------------
type Scenario = Callable[[B24Rest], tuple[int, Any]]
SCENARIOS: dict[str, Scenario] = {}


def scenario(*names: str) -> Callable[[Scenario], Scenario]:
    def register(fn: Scenario) -> Scenario:
        for name in names:
            SCENARIOS[name] = fn
        return fn

    return register


@scenario("batch.response.json")
def _batch(rest: B24Rest) -> tuple[int, Any]:
    return rest.send("batch", sample("batch.request.linked.json"))


def _batch_with_scope_errors(rest: B24Rest, halt: int) -> tuple[int, Any]:
    for method in ("user.current", "department.get"):
        rest.client.post(
            "/_sandbox/faults",
            json={"method": method, "error": "insufficient_scope", "error_description": "", "status": 403},
        )
    body = sample("batch.request.linked.json") | {"halt": halt}
    return rest.send("batch", body)


@scenario("batch.response.error.halt0.json")
def _batch_halt0(rest: B24Rest) -> tuple[int, Any]:
    return _batch_with_scope_errors(rest, 0)


@scenario("batch.response.error.halt1.json")
def _batch_halt1(rest: B24Rest) -> tuple[int, Any]:
    return _batch_with_scope_errors(rest, 1)


@scenario("bizproc.workflow.start.response.json")
def _workflow(rest: B24Rest) -> tuple[int, Any]:
    return rest.send("bizproc.workflow.start", sample("bizproc.workflow.start.request.json"))


@scenario("catalog.catalog.list.response.json")
def _catalogs(rest: B24Rest) -> tuple[int, Any]:
    body = sample("catalog.catalog.list.request.json")
    body["filter"] = {">id": 10, "productIblockId": 23}  # the sample's own filter contradicts its answer
    return rest.send("catalog.catalog.list", body)


@scenario("catalog.price.add.response.json")
def _price_add(rest: B24Rest) -> tuple[int, Any]:
    body = sample("catalog.price.add.request.json")
    body["fields"]["productId"] = new_product(rest)
    return rest.send("catalog.price.add", body)


@scenario("catalog.price.list.response.json")
def _price_list(rest: B24Rest) -> tuple[int, Any]:
    product_id = new_product(rest)
    rest.call(
        "catalog.price.add",
        {"fields": {"productId": product_id, "catalogGroupId": 1, "price": 50, "currency": "RUB"}},
    )
    return rest.send(
        "catalog.price.list",
        sample("catalog.price.list.request.json") | {"filter": {"productId": product_id}},
    )


@scenario("catalog.price.modify.response.json")
def _price_modify(rest: B24Rest) -> tuple[int, Any]:
    for name in ("Оптовая", "Дилерская", "Розничная", "Интернет"):
        rest.call("catalog.priceType.add", {"fields": {"name": name}})
    body = sample("catalog.price.modify.request.json")
    body["fields"]["product"]["id"] = new_product(rest)
    return rest.send("catalog.price.modify", body)


@scenario("catalog.price.update.response.json")
def _price_update(rest: B24Rest) -> tuple[int, Any]:
    price = rest.call(
        "catalog.price.add",
        {"fields": {"productId": new_product(rest), "catalogGroupId": 1, "price": 10, "currency": "RUB"}},
    )
    return rest.send(
        "catalog.price.update", with_id("catalog.price.update.request.json", price["price"]["id"])
    )


@scenario("catalog.product.add.response.json")
def _product_add(rest: B24Rest) -> tuple[int, Any]:
    section = rest.call("catalog.section.add", {"fields": {"iblockId": 23, "name": "Раздел"}})["section"][
        "id"
    ]
    return rest.send("catalog.product.add", {"fields": product_fields() | {"iblockSectionId": section}})


@scenario("catalog.product.get.response.json")
def _product_get(rest: B24Rest) -> tuple[int, Any]:
    return rest.send("catalog.product.get", with_id("catalog.product.get.request.json", new_product(rest)))


@scenario("catalog.product.list.response.json")
def _product_list(rest: B24Rest) -> tuple[int, Any]:
    new_product(rest, vatId=1, recurSchemeLength=1, trialPriceId=1)
    body = sample("catalog.product.list.request.json")
    body["filter"][">id"] = 0
    return rest.send("catalog.product.list", body)


@scenario("catalog.product.update.response.json")
def _product_update(rest: B24Rest) -> tuple[int, Any]:
    return rest.send(
        "catalog.product.update", {"id": new_product(rest), "fields": {"code": "Tovar", "sort": 100}}
    )


@scenario("catalog.product.delete.response.json")
def _product_delete(rest: B24Rest) -> tuple[int, Any]:
    return rest.send("catalog.product.delete", {"id": new_product(rest)})


def _section_body(rest: B24Rest, name: str) -> dict[str, Any]:
    parent = rest.call("catalog.section.add", {"fields": {"iblockId": 23, "name": "Товары"}})["section"]["id"]
    body: dict[str, Any] = sample(name)
    body["fields"] |= {"iblockId": 23, "iblockSectionId": parent}
    return body


@scenario("catalog.section.add.response.json")
def _section_add(rest: B24Rest) -> tuple[int, Any]:
    return rest.send("catalog.section.add", _section_body(rest, "catalog.section.add.request.json"))


@scenario("catalog.section.update.response.json")
def _section_update(rest: B24Rest) -> tuple[int, Any]:
    section = rest.call("catalog.section.add", _section_body(rest, "catalog.section.add.request.json"))[
        "section"
    ]
    body = with_id("catalog.section.update.request.json", section["id"])
    body["fields"]["iblockId"] = 23
    return rest.send("catalog.section.update", body)


@scenario("catalog.section.delete.response.json")
def _section_delete(rest: B24Rest) -> tuple[int, Any]:
    section = rest.call("catalog.section.add", {"fields": {"iblockId": 23, "name": "X"}})["section"]
    return rest.send("catalog.section.delete", with_id("catalog.section.delete.request.json", section["id"]))


@scenario("catalog.section.list.response.json")
def _section_list(rest: B24Rest) -> tuple[int, Any]:
    for name, sort in (("Товары", 50), ("Услуги", 100)):
        rest.call("catalog.section.add", {"fields": {"iblockId": 23, "name": name, "sort": sort}})
    body = sample("catalog.section.list.request.json")
    body["filter"]["iblockId"] = 23
    status, data = rest.send("catalog.section.list", body)
    # README §1.6: the emulator answers `result.sections` (doc table), the sample shows top-level.
    return status, {"sections": data["result"]["sections"], "total": data["total"], "time": data["time"]}


@scenario("catalog.store.list.response.json")
def _stores(rest: B24Rest) -> tuple[int, Any]:
    return rest.send("catalog.store.list", sample("catalog.store.list.request.json"))


@scenario("catalog.storeproduct.list.response.json")
def _stock(rest: B24Rest) -> tuple[int, Any]:
    product_id = new_product(rest, quantity=0)
    rest.client.post("/_sandbox/inventory", json={"enabled": True})
    doc = rest.call("catalog.document.add", {"fields": {"docType": "S", "currency": "RUB"}})["document"]
    rest.call(
        "catalog.document.element.add",
        {
            "fields": {
                "docId": doc["id"],
                "storeTo": 1,
                "elementId": product_id,
                "amount": 54,
                "purchasingPrice": 10,
            }
        },
    )
    rest.call("catalog.document.conduct", {"id": doc["id"]})
    body = sample("catalog.storeproduct.list.request.json")
    body["filter"]["productId"] = product_id
    return rest.send("catalog.storeproduct.list", body)


@scenario("crm.address.add.response.json")
def _address_add(rest: B24Rest) -> tuple[int, Any]:
    body = sample("crm.address.add.request.json")
    body["fields"]["ENTITY_ID"] = new_requisite(rest)
    return rest.send("crm.address.add", body)


@scenario("crm.address.list.response.json")
def _address_list(rest: B24Rest) -> tuple[int, Any]:
    body = sample("crm.address.add.request.json")
    requisite_id = body["fields"]["ENTITY_ID"] = new_requisite(rest)
    rest.call("crm.address.add", body)
    listing = sample("crm.address.list.request.json")
    listing["filter"]["ENTITY_ID"] = requisite_id
    return rest.send("crm.address.list", listing)


@scenario("crm.category.add.response.json")
def _category_add(rest: B24Rest) -> tuple[int, Any]:
    body = sample("crm.category.add.request.json") | {"entityTypeId": 2}  # smart processes are not emulated
    body["fields"]["isDefault"] = "N"
    return rest.send("crm.category.add", body)


@scenario("crm.category.list.response.json")
def _category_list(rest: B24Rest) -> tuple[int, Any]:
    return rest.send("crm.category.list", sample("crm.category.list.request.json"))


@scenario("crm.company.add.response.json")
def _company_add(rest: B24Rest) -> tuple[int, Any]:
    return rest.send("crm.company.add", sample("crm.company.add.request.json"))


@scenario("crm.company.get.response.json")
def _company_get(rest: B24Rest) -> tuple[int, Any]:
    company_id = new_company(rest, COMMENTS="", BANKING_DETAILS="ИНН 7736050003")
    return rest.send("crm.company.get", with_id("crm.company.get.request.json", company_id, "ID"))


@scenario("crm.company.list.response.json")
def _company_list(rest: B24Rest) -> tuple[int, Any]:
    new_company(rest)
    return rest.send("crm.company.list", sample("crm.company.list.request.json"))


@scenario("crm.company.fields.response.json")
def _company_fields(rest: B24Rest) -> tuple[int, Any]:
    return rest.send("crm.company.fields", {})


@scenario("crm.contact.add.response.json")
def _contact_add(rest: B24Rest) -> tuple[int, Any]:
    return rest.send("crm.contact.add", sample("crm.contact.add.request.json"))


@scenario("crm.contact.get.response.json")
def _contact_get(rest: B24Rest) -> tuple[int, Any]:
    contact_id = int(rest.call("crm.contact.add", sample("crm.contact.add.request.json")))
    return rest.send("crm.contact.get", with_id("crm.contact.get.request.json", contact_id, "ID"))


@scenario("crm.contact.list.response.json")
def _contact_list(rest: B24Rest) -> tuple[int, Any]:
    new_contact(
        rest,
        NAME="Ivan",
        LAST_NAME="Ilyin",
        SOURCE_ID="CRM_FORM",
        ASSIGNED_BY_ID=1,
        EMAIL=[{"VALUE": "special-for@example.com", "VALUE_TYPE": "WORK"}],
    )
    body = sample("crm.contact.list.request.json")
    body["FILTER"][">=DATE_CREATE"] = (datetime.now() - timedelta(days=182)).date().isoformat()
    return rest.send("crm.contact.list", body)


@scenario("crm.contact.company.add.response.json")
def _contact_company_add(rest: B24Rest) -> tuple[int, Any]:
    body = with_id("crm.contact.company.add.request.json", new_contact(rest))
    body["fields"]["COMPANY_ID"] = new_company(rest)
    return rest.send("crm.contact.company.add", body)


@scenario("crm.deal.add.response.json")
def _deal_add(rest: B24Rest) -> tuple[int, Any]:
    return rest.send("crm.deal.add", sample("crm.deal.add.request.json"))


@scenario("crm.deal.get.response.json")
def _deal_get(rest: B24Rest) -> tuple[int, Any]:
    deal_id = int(rest.call("crm.deal.add", sample("crm.deal.add.request.json")))
    return rest.send("crm.deal.get", with_id("crm.deal.get.request.json", deal_id, "ID"))


@scenario("crm.deal.list.response.json")
def _deal_list(rest: B24Rest) -> tuple[int, Any]:
    for title in ("[A] Pizza", "[B] Deal"):
        new_deal(
            rest,
            TITLE=title,
            CATEGORY_ID=1,
            TYPE_ID="COMPLEX",
            STAGE_ID="C1:NEW",
            OPPORTUNITY=19999.99,
            IS_MANUAL_OPPORTUNITY="Y",
            ASSIGNED_BY_ID=1,
        )
    return rest.send("crm.deal.list", sample("crm.deal.list.request.json"))


@scenario("crm.deal.update.response.json")
def _deal_update(rest: B24Rest) -> tuple[int, Any]:
    return rest.send("crm.deal.update", with_id("crm.deal.update.request.json", new_deal(rest), "ID"))


@scenario("crm.deal.fields.response.json")
def _deal_fields(rest: B24Rest) -> tuple[int, Any]:
    return rest.send("crm.deal.fields", {})


@scenario("crm.deal.contact.items.set.response.json")
def _deal_contacts_set(rest: B24Rest) -> tuple[int, Any]:
    body = with_id("crm.deal.contact.items.set.request.json", new_deal(rest))
    for item in body["items"]:
        item["CONTACT_ID"] = new_contact(rest)
    return rest.send("crm.deal.contact.items.set", body)


@scenario("crm.deal.contact.items.get.response.json")
def _deal_contacts_get(rest: B24Rest) -> tuple[int, Any]:
    deal_id = new_deal(rest, CONTACT_IDS=[new_contact(rest), new_contact(rest)])
    return rest.send("crm.deal.contact.items.get", {"id": deal_id})


@scenario("crm.deal.productrows.set.response.json")
def _rows_set(rest: B24Rest) -> tuple[int, Any]:
    body = with_id("crm.deal.productrows.set.request.json", new_deal(rest))
    body["rows"][0]["PRODUCT_ID"] = new_product(rest)
    return rest.send("crm.deal.productrows.set", body)


@scenario("crm.deal.productrows.get.response.json")
def _rows_get(rest: B24Rest) -> tuple[int, Any]:
    status, _ = _rows_set(rest)
    assert status == 200
    deal_id = max(int(d["ID"]) for d in rest.call("crm.deal.list", {"select": ["ID"]}))
    return rest.send("crm.deal.productrows.get", with_id("crm.deal.productrows.get.request.json", deal_id))


def _list_userfield(rest: B24Rest) -> None:
    body = sample("crm.deal.userfield.add.enumeration.request.json")
    body["fields"] |= {"MULTIPLE": "Y", "MANDATORY": "Y"}
    rest.call("crm.deal.userfield.add", body)


@scenario("crm.deal.userfield.add.response.json")
def _uf_add(rest: B24Rest) -> tuple[int, Any]:
    return rest.send("crm.deal.userfield.add", sample("crm.deal.userfield.add.enumeration.request.json"))


@scenario("crm.deal.userfield.list.response.json")
def _uf_list(rest: B24Rest) -> tuple[int, Any]:
    _list_userfield(rest)
    return rest.send("crm.deal.userfield.list", sample("crm.deal.userfield.list.request.json"))


@scenario("crm.duplicate.findbycomm.response.json")
def _duplicates(rest: B24Rest) -> tuple[int, Any]:
    for phone in ("8976543", "11223355"):
        new_contact(rest, PHONE=[{"VALUE": phone, "VALUE_TYPE": "WORK"}])
    return rest.send("crm.duplicate.findbycomm", sample("crm.duplicate.findbycomm.request.json"))


@scenario("crm.enum.addresstype.response.json")
def _address_types(rest: B24Rest) -> tuple[int, Any]:
    return rest.send("crm.enum.addresstype", {})


@scenario("crm.requisite.add.response.json")
def _requisite_add(rest: B24Rest) -> tuple[int, Any]:
    body = sample("crm.requisite.add.request.json")
    body["fields"]["ENTITY_ID"] = new_company(rest)
    return rest.send("crm.requisite.add", body)


@scenario("crm.requisite.get.response.json")
def _requisite_get(rest: B24Rest) -> tuple[int, Any]:
    return rest.send("crm.requisite.get", with_id("crm.requisite.get.request.json", new_requisite(rest)))


@scenario("crm.requisite.list.response.json")
def _requisite_list(rest: B24Rest) -> tuple[int, Any]:
    new_requisite(rest)
    return rest.send("crm.requisite.list", sample("crm.requisite.list.request.json"))


@scenario("crm.requisite.preset.list.response.json")
def _presets(rest: B24Rest) -> tuple[int, Any]:
    return rest.send("crm.requisite.preset.list", sample("crm.requisite.preset.list.request.json"))


@scenario("crm.status.list.DEAL_STAGE.response.json")
def _stages(rest: B24Rest) -> tuple[int, Any]:
    return rest.send("crm.status.list", sample("crm.status.list.DEAL_STAGE.request.json"))


@scenario("crm.status.list.DEAL_STAGE_10.response.json")
def _stages_10(rest: B24Rest) -> tuple[int, Any]:
    while (
        int(
            rest.call("crm.category.add", {"entityTypeId": 2, "fields": {"name": "Воронка"}})["category"][
                "id"
            ]
        )
        < 10
    ):
        pass
    return rest.send("crm.status.list", {"order": {"SORT": "ASC"}, "filter": {"ENTITY_ID": "DEAL_STAGE_10"}})


@scenario("crm.timeline.comment.add.response.json")
def _comment(rest: B24Rest) -> tuple[int, Any]:
    body = sample("crm.timeline.comment.add.request.json")
    body["fields"]["ENTITY_ID"] = new_deal(rest)
    return rest.send("crm.timeline.comment.add", body)


@scenario("event.get.response.json")
def _event_get(rest: B24Rest) -> tuple[int, Any]:
    for auth_type in (0, 15):
        rest.call(
            "event.bind",
            {
                "event": "ONCRMDEALADD",
                "handler": "https://www.my-domain.com/handler/",
                "auth_type": auth_type,
            },
        )
    return rest.send("event.get", {})


@scenario("im.notify.personal.add.response.json")
def _notify_personal(rest: B24Rest) -> tuple[int, Any]:
    return rest.send("im.notify.personal.add", sample("im.notify.personal.add.request.json"))


@scenario("im.notify.system.add.response.json")
def _notify_system(rest: B24Rest) -> tuple[int, Any]:
    return rest.send("im.notify.system.add", sample("im.notify.system.add.request.json"))


@scenario("lists.element.add.response.json")
def _list_element(rest: B24Rest) -> tuple[int, Any]:
    # The sample's list 47 and its properties are made first: an unknown list is refused.
    request = sample("lists.element.add.request.json")
    iblock = rest.call(
        "lists.add", {"IBLOCK_TYPE_ID": "lists", "IBLOCK_CODE": "l47", "FIELDS": {"NAME": "L"}}
    )
    return rest.send("lists.element.add", request | {"IBLOCK_ID": iblock})


@scenario("user.get.response.json")
def _users(rest: B24Rest) -> tuple[int, Any]:
    return rest.send("user.get", sample("user.get.request.json") | {"start": 0})  # the seed has 4 users


@scenario("user.search.response.json")
def _user_search(rest: B24Rest) -> tuple[int, Any]:
    return rest.send("user.search", sample("user.search.request.json") | {"start": 0})


@scenario("list.page-with-next.userfieldconfig.list.response.json")
def _page_with_next(rest: B24Rest) -> tuple[int, Any]:
    rest.call("batch", {"cmd": [f"crm.deal.add?fields[TITLE]=D{i}" for i in range(47)]})
    rest.call("batch", {"cmd": [f"crm.deal.add?fields[TITLE]=E{i}" for i in range(47)]})
    status, body = rest.send("crm.deal.list", {"select": ["ID"]})
    # Same envelope as the sample (`next` 50, `total` 94); the rows belong to another method.
    return status, body | {
        "result": sample("list.page-with-next.userfieldconfig.list.response.json")["result"]
    }


@scenario("time.object.json")
def _time(rest: B24Rest) -> tuple[int, Any]:
    return rest.send("user.current", {})


# Where a documented sample's type cannot be matched without contradicting another sample.
TOLERATED: dict[str, set[str]] = {
    # purchasingPrice is "1000.000000" in the get/add/update samples but 1000 in the list sample.
    "catalog.product.list.response.json": {"$.result.products[0].purchasingPrice"},
    # The seeded store has no picture (files for stores are not emulated).
    "catalog.store.list.response.json": {"$.result.stores[0].imageId"},
    # Reservations and basket XML_IDs come from the sales module, which is not emulated.
    "crm.deal.productrows.get.response.json": {
        f"$.result[{i}].{key}" for i in (0, 1) for key in ("XML_ID", "RESERVE_ID", "DATE_RESERVE_END")
    },
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_response_sample_shape(rest: B24Rest, name: str) -> None:
    status, body = SCENARIOS[name](rest)
    assert status == 200, body
    expected = sample(name)
    mismatches = [
        m for m in shape_mismatches(expected, body) if m.split(":")[0] not in TOLERATED.get(name, set())
    ]
    assert not mismatches, "\n".join(mismatches)


# -- error samples -----------------------------------------------------------------------------
def _fault(rest: B24Rest, method: str, error: Any, status: int, description: str = "") -> bool:
    rest.client.post(
        "/_sandbox/faults",
        json={"method": method, "error": error, "status": status, "error_description": description},
    )
    return True


ERROR_SCENARIOS: dict[str, tuple[int, Scenario]] = {
    "crm.deal.add.error.json": (400, lambda r: r.send("crm.deal.add", {"fields": "TITLE"})),
    "crm.deal.delete.error.json": (400, lambda r: r.send("crm.deal.delete", {})),
    "crm.deal.productrows.get.error.json": (400, lambda r: r.send("crm.deal.productrows.get", {})),
    "crm.deal.productrows.set.error.json": (
        400,
        lambda r: r.send(
            "crm.deal.productrows.set",
            {
                "id": new_deal(r),
                "rows": [{"PRODUCT_NAME": "X", "PRICE": 0, "DISCOUNT_TYPE_ID": 2, "DISCOUNT_RATE": 100}],
            },
        ),
    ),
    "crm.deal.userfield.add.error.json": (
        400,
        lambda r: r.send("crm.deal.userfield.add", {"fields": {"FIELD_NAME": "NOTE", "LABEL": "x"}}),
    ),
    "crm.company.get.error.json": (
        400,
        lambda r: r.send("crm.company.get", sample("crm.company.get.request.json")),
    ),
    "crm.category.list.error.json": (400, lambda r: r.send("crm.category.list", {"entityTypeId": 1152})),
    "crm.status.list.error.json": (400, lambda r: r.send("crm.status.list", {"filter": "ENTITY_ID"})),
    "crm.timeline.comment.add.error.json": (
        400,
        lambda r: r.send("crm.timeline.comment.add", sample("crm.timeline.comment.add.request.json")),
    ),
    "crm.address.add.error.json": (
        400,
        lambda r: r.send(
            "crm.address.add",
            sample("crm.address.add.request.json")
            | {"fields": sample("crm.address.add.request.json")["fields"] | {"ENTITY_ID": 999999}},
        ),
    ),
    "crm.requisite.add.error.json": (
        400,
        lambda r: r.send(
            "crm.requisite.add", {"fields": {"ENTITY_TYPE_ID": 2, "ENTITY_ID": 1, "PRESET_ID": 1}}
        ),
    ),
    "crm.duplicate.findbycomm.error.json": (
        400,
        lambda r: r.send("crm.duplicate.findbycomm", {"values": ["1"]}),
    ),
    "bizproc.workflow.start.error.json": (
        400,
        lambda r: r.send("bizproc.workflow.start", {"DOCUMENT_ID": ["crm", "CCrmDocumentDeal", "DEAL_1"]}),
    ),
    "im.notify.personal.add.error.json": (400, lambda r: r.send("im.notify.personal.add", {"MESSAGE": "x"})),
    "error.ERROR_METHOD_NOT_FOUND.json": (404, lambda r: r.send("crm.deal.nothing", {})),
    "error.NO_AUTH_FOUND.json": (
        401,
        lambda r: (lambda resp: (resp.status_code, resp.json()))(
            r.client.post("/rest/1/wrong-code/user.current")
        ),
    ),
    "error.generic.json": (
        400,
        lambda r: [
            r.send("event.bind", {"event": "ONCRMDEALADD", "handler": "https://h.example/"}) for _ in "ab"
        ][-1],
    ),
    "error.QUERY_LIMIT_EXCEEDED.json": (
        503,
        lambda r: (
            r.client.post("/_sandbox/rate-limit", json={"enabled": True}),
            [r.send("user.current", {}) for _ in range(55)][-1],
        )[1],
    ),
    "error.OPERATION_TIME_LIMIT.json": (
        429,
        lambda r: (
            r.client.post(
                "/_sandbox/rate-limit",
                json={"operating_enabled": True, "method_costs": {"crm.deal.list": 300}},
            ),
            [r.send("crm.deal.list", {}) for _ in range(3)][-1],
        )[1],
    ),
    # Rights/scope/OAuth failures cannot arise for the admin webhook; injected faults replay them.
    "error.ACCESS_DENIED.json": (
        403,
        lambda r: (
            _fault(r, "crm.deal.add", "ACCESS_DENIED", 403, "Access denied!"),
            r.send("crm.deal.add", {"fields": {}}),
        )[1],
    ),
    "error.INVALID_CREDENTIALS.json": (
        403,
        lambda r: (_fault(r, "*", "INVALID_CREDENTIALS", 403), r.send("user.current", {}))[1],
    ),
    "error.insufficient_scope.json": (
        403,
        lambda r: (_fault(r, "*", "insufficient_scope", 403), r.send("user.current", {}))[1],
    ),
    "error.expired_token.json": (
        401,
        lambda r: (_fault(r, "*", "expired_token", 401), r.send("user.current", {}))[1],
    ),
    "catalog.product.add.error.json": (
        400,
        lambda r: (
            _fault(r, "catalog.product.add", 200040300010, 400, "Access Denied"),
            r.send("catalog.product.add", {"fields": product_fields()}),
        )[1],
    ),
    "catalog.section.add.error.json": (
        400,
        lambda r: (
            _fault(r, "catalog.section.add", 200040300040, 400, "Access Denied"),
            r.send("catalog.section.add", {"fields": {"iblockId": 23, "name": "x"}}),
        )[1],
    ),
}
FAULT_INJECTED = {
    "error.ACCESS_DENIED.json",
    "error.INVALID_CREDENTIALS.json",
    "error.insufficient_scope.json",
    "error.expired_token.json",
    "catalog.product.add.error.json",
    "catalog.section.add.error.json",
}


@pytest.mark.parametrize("name", sorted(ERROR_SCENARIOS))
def test_error_sample(rest: B24Rest, name: str) -> None:
    expected_status, run = ERROR_SCENARIOS[name]
    status, body = run(rest)
    expected = sample(name)
    assert status == expected_status, body
    assert body["error"] == expected["error"], body
    assert type(body["error"]) is type(expected["error"])
    assert isinstance(body["error_description"], str)
    assert set(body) == {"error", "error_description"}


# -- request-only samples ----------------------------------------------------------------------
def _multifield_contact(rest: B24Rest) -> int:
    return new_contact(rest, PHONE=[{"VALUE": v, "VALUE_TYPE": "WORK"} for v in ("111", "222", "333")])


REQUEST_ONLY: dict[str, Scenario] = {
    "batch.request.independent.json": lambda r: r.send("batch", sample("batch.request.independent.json")),
    "crm.company.update.request.json": lambda r: r.send(
        "crm.company.update", with_id("crm.company.update.request.json", new_company(r), "ID")
    ),
    "crm.contact.update.request.json": lambda r: r.send(
        "crm.contact.update", with_id("crm.contact.update.request.json", new_contact(r), "ID")
    ),
    "user.get.filter.request.json": lambda r: r.send("user.get", sample("user.get.filter.request.json")),
}


@pytest.mark.parametrize("name", sorted(REQUEST_ONLY))
def test_request_only_sample_is_accepted(rest: B24Rest, name: str) -> None:
    status, body = REQUEST_ONLY[name](rest)
    assert status == 200, body
    assert "result" in body
    assert "time" in body


def test_multifield_update_samples_follow_section_5_3(rest: B24Rest) -> None:
    contact_id = _multifield_contact(rest)
    phones = rest.call("crm.contact.get", {"id": contact_id})["PHONE"]
    ids = [int(p["ID"]) for p in phones]

    change = sample("crm.contact.update.multifield-change.request.json")
    change["fields"]["PHONE"][0]["ID"] = ids[1]
    rest.call("crm.contact.update", {"id": contact_id} | change)
    append = sample("crm.contact.update.multifield-append.request.json")
    rest.call("crm.contact.update", {"id": contact_id} | append)
    after = {p["VALUE"]: p for p in rest.call("crm.contact.get", {"id": contact_id})["PHONE"]}
    assert set(after) == {"111", "444444", "333", "55555"}
    assert after["444444"]["VALUE_TYPE"] == "MOBILE"

    delete = sample("crm.contact.update.multifield-delete.request.json")
    for item, phone_id in zip(delete["fields"]["PHONE"], ids, strict=True):
        item["ID"] = phone_id
    rest.call("crm.contact.update", {"id": contact_id} | delete)
    remaining = [p["VALUE"] for p in rest.call("crm.contact.get", {"id": contact_id}).get("PHONE", [])]
    assert remaining == ["55555"]


# -- event samples -----------------------------------------------------------------------------
# Checked over real HTTP in test_b24_events.py; listed here for the coverage table.
EVENTS = "test_b24_events.py::"
EVENT_TESTS = {
    "event.ONCRMDEALADD.outgoing-webhook.json": f"{EVENTS}test_outgoing_webhook_payload_matches_sample",
    "event.ONCRMDEALADD.outgoing-webhook.form.txt": f"{EVENTS}test_outgoing_webhook_payload_matches_sample",
    "event.ONCRMDEALUPDATE.app.form.txt": f"{EVENTS}test_form_sample_round_trips",
}
APP_EVENT_SAMPLES = sorted(
    p.name for p in FIXTURES.glob("event.*.app.json")
)  # each replayed by test_b24_events.py::test_bound_handler_payload_matches_app_sample


NOT_REPLAYED = {
    "catalog.catalog.list.error.json": "error code 0 for an invalid catalog query: no documented trigger",
    "lists.element.add.error.json": "files in list fields (ERROR_ELEMENT_FIELD_VALUE) are not emulated",
    "crm.deal.userfield.add.enumeration.request.json": (
        "request used by the crm.deal.userfield.add/list response tests"
    ),
    "crm.deal.get.request.json": "request used by the crm.deal.get response test",
}


REPLAYED_ELSEWHERE = {
    "catalog.productProperty.add.response.json": (
        "test_b24_catalog_properties.py::test_add_sample_replays_with_the_documented_shape"
    ),
    "catalog.productProperty.list.response.json": (
        "test_b24_catalog_properties.py::test_list_sample_replays_with_paging"
    ),
}


def coverage() -> dict[str, str]:
    """Every sample file → the test that replays it (or why it is not replayed)."""
    rows: dict[str, str] = {}
    here = "test_b24_examples.py"
    for name in SCENARIOS:
        rows[name] = f"{here}::test_response_sample_shape[{name}]"
    for name in ERROR_SCENARIOS:
        how = " (via injected fault)" if name in FAULT_INJECTED else ""
        rows[name] = f"{here}::test_error_sample[{name}]{how}"
    for name in REQUEST_ONLY:
        rows[name] = f"{here}::test_request_only_sample_is_accepted[{name}]"
    for name in APP_EVENT_SAMPLES:
        rows[name] = "test_b24_events.py::test_bound_handler_payload_matches_app_sample"
    rows |= EVENT_TESTS
    rows |= REPLAYED_ELSEWHERE
    for name in (
        "crm.contact.update.multifield-append.request.json",
        "crm.contact.update.multifield-change.request.json",
        "crm.contact.update.multifield-delete.request.json",
    ):
        rows[name] = f"{here}::test_multifield_update_samples_follow_section_5_3"
    for path in FIXTURES.glob("*.request*.json"):
        rows.setdefault(path.name, f"request of `{path.name.split('.request')[0]}` response/error test")
    rows |= {k: v for k, v in NOT_REPLAYED.items() if k not in rows or "request used" not in v}
    return rows


def render_coverage_table() -> str:
    lines = ["| Example file | Replayed by / reason |", "|---|---|"]
    lines += [f"| `{name}` | {how} |" for name, how in sorted(coverage().items())]
    return "\n".join(lines)


def test_every_sample_is_accounted_for() -> None:
    files = {p.name for p in FIXTURES.iterdir() if p.is_file()}
    assert files - set(coverage()) == set()


def test_docs_table_is_current() -> None:
    hint = "regenerate with render_coverage_table() (see docs/sandbox-b24.md)"
    assert render_coverage_table() in DOC.read_text(encoding="utf-8"), hint


_ = (copy, decode)
