"""Emulator semantics a client relies on (README §1–§8), in-process through the ASGI app."""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest

from bridge.b24.php_query import encode
from sandbox.b24 import B24EmulatorConfig
from sandbox.world.rest import B24Rest

pytestmark = pytest.mark.contract


# -- transport ---------------------------------------------------------------------------------
def test_every_request_encoding_reaches_the_method(rest: B24Rest) -> None:
    fields = {"TITLE": "Enc & co", "PHONE": [{"VALUE": "+7 900", "VALUE_TYPE": "WORK"}]}
    form = encode({"fields": fields})
    by_query = rest.client.get(f"{rest.base}/crm.company.add.json?{form}").json()["result"]
    by_form = rest.client.post(
        f"{rest.base}/crm.company.add/",
        content=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ).json()["result"]
    by_multipart = rest.client.post(
        f"{rest.base}/CRM.Company.Add",
        files={
            k: (None, v) for k, v in [("fields[TITLE]", "Enc & co"), ("fields[PHONE][0][VALUE]", "+7 900")]
        },
    ).json()["result"]
    by_json = rest.call("crm.company.add", {"FIELDS": fields})
    for company_id in (by_query, by_form, by_multipart, by_json):
        company = rest.call("crm.company.get", {"ID": company_id})
        assert company["TITLE"] == "Enc & co"
        assert company["PHONE"][0]["VALUE"] == "+7 900"


def test_wrong_code_unknown_method_and_unknown_fields(rest: B24Rest) -> None:
    assert rest.client.post("/rest/2/sandbox/user.current").status_code == 401
    status, body = rest.send("crm.deal.frobnicate", {})
    assert (status, body["error"]) == (404, "ERROR_METHOD_NOT_FOUND")
    deal_id = rest.call("crm.deal.add", {"fields": {"TITLE": "t", "NO_SUCH_FIELD": 1}})
    assert "NO_SUCH_FIELD" not in rest.call("crm.deal.get", {"id": deal_id})


def test_timeline_comment_needs_lower_case_fields(rest: B24Rest) -> None:
    deal_id = rest.call("crm.deal.add", {"fields": {"TITLE": "t"}})
    comment = {"ENTITY_ID": deal_id, "ENTITY_TYPE": "deal", "COMMENT": "hello"}
    status, body = rest.send("crm.timeline.comment.add", {"FIELDS": comment})
    assert status == 400
    assert body["error"] == 100
    comment_id = rest.call("crm.timeline.comment.add", {"fields": comment})
    listed = rest.call("crm.timeline.comment.list", {"filter": {"ENTITY_ID": deal_id, "ENTITY_TYPE": "deal"}})
    assert [(c["ID"], c["COMMENT"]) for c in listed] == [(str(comment_id), "hello")]


# -- lists -------------------------------------------------------------------------------------
def test_paging_fast_mode_and_filters(rest: B24Rest) -> None:
    rest.call(
        "batch",
        {"cmd": [f"crm.deal.add?fields[TITLE]=Deal {i}&fields[OPPORTUNITY]={i * 100}" for i in range(50)]},
    )
    rest.call(
        "batch",
        {"cmd": [f"crm.deal.add?fields[TITLE]=Other {i}&fields[ASSIGNED_BY_ID]=2" for i in range(20)]},
    )
    _, page = rest.send("crm.deal.list", {"select": ["ID"], "start": 50})
    assert (page["total"], len(page["result"]), "next" in page) == (70, 20, False)
    _, first = rest.send("crm.deal.list", {"select": ["ID"]})
    assert first["next"] == 50
    assert len(first["result"]) == 50
    _status, fast = rest.send(
        "crm.deal.list", {"select": ["ID"], "start": -1, "order": {"ID": "ASC"}, "filter": {">ID": 60}}
    )
    assert fast["total"] == 0
    assert "next" not in fast
    assert [r["ID"] for r in fast["result"]] == [str(i) for i in range(61, 71)]

    def ids(filter_: dict[str, object]) -> list[int]:
        return [int(r["ID"]) for r in rest.call("crm.deal.list", {"filter": filter_, "select": ["ID"]})]

    assert ids({">=OPPORTUNITY": 4800}) == [49, 50]
    assert ids({"<OPPORTUNITY": 200, "%TITLE": "deal"}) == [1, 2]
    assert ids({"@ID": [3, 5], "!ID": 5}) == [3]
    assert ids({"!@ASSIGNED_BY_ID": [1]}) == list(range(51, 71))
    assert ids({"=%TITLE": "Other 1_"}) == list(range(61, 71))
    assert ids({">DATE_MODIFY": "2000-01-01", "<=ID": 2}) == [1, 2]
    assert rest.send("crm.deal.list", {"filter": {"!=TITLE": "Deal 0"}})[1]["total"] == 69


def test_select_masks_multifields_and_order(rest: B24Rest) -> None:
    rest.call(
        "crm.contact.add", {"fields": {"NAME": "B", "EMAIL": [{"VALUE": "b@x.ru", "VALUE_TYPE": "WORK"}]}}
    )
    rest.call("crm.contact.add", {"fields": {"NAME": "A"}})
    default_rows = rest.call("crm.contact.list", {"order": {"NAME": "ASC"}})
    assert [r["NAME"] for r in default_rows] == ["A", "B"]
    assert "EMAIL" not in default_rows[1]
    explicit = rest.call("crm.contact.list", {"select": ["NAME", "EMAIL"], "filter": {"EMAIL": "b@x.ru"}})
    assert explicit == [
        {
            "NAME": "B",
            "ID": "1",
            "EMAIL": [{"ID": "1", "VALUE_TYPE": "WORK", "VALUE": "b@x.ru", "TYPE_ID": "EMAIL"}],
        }
    ]


# -- batch -------------------------------------------------------------------------------------
def test_batch_back_references_halt_and_limits(rest: B24Rest) -> None:
    encoded_ref = quote("$result[deal]")
    result = rest.call(
        "batch",
        {
            "halt": 1,
            "cmd": {
                "deal": "crm.deal.add?fields[TITLE]=Ref",
                "get": f"crm.deal.get?id={encoded_ref}",
                "list": "crm.deal.list?select[]=ID&select[]=TITLE",
                "title": "crm.deal.add?fields[TITLE]=$result[list][0][TITLE] copy",
                "bad": "crm.deal.get?id=999",
                "never": "crm.deal.add?fields[TITLE]=never",
            },
        },
    )
    assert result["result"]["get"]["TITLE"] == "Ref"
    assert result["result_total"] == {"list": 1}
    assert set(result["result_error"]) == {"bad"}
    assert "never" not in result["result"]
    assert rest.call("crm.deal.get", {"id": result["result"]["title"]})["TITLE"] == "Ref copy"
    status, body = rest.send("batch", {"cmd": ["user.current"] * 51})
    assert (status, body["error"]) == (400, "ERROR_BATCH_LENGTH_EXCEEDED")
    nested = rest.call("batch", {"cmd": {"inner": "batch?cmd[a]=user.current"}})
    assert nested["result_error"]["inner"]["error"] == "ERROR_BATCH_METHOD_NOT_ALLOWED"
    assert nested["result"] == []
    assert nested["result_total"] == []


# -- deals -------------------------------------------------------------------------------------
def test_product_rows_replace_and_drive_opportunity(rest: B24Rest) -> None:
    deal_id = rest.call("crm.deal.add", {"fields": {"TITLE": "Rows", "OPPORTUNITY": 5}})
    rest.call(
        "crm.deal.productrows.set",
        {
            "id": deal_id,
            "rows": [{"PRODUCT_NAME": "A", "PRICE": 100, "QUANTITY": 2}, {"PRODUCT_NAME": "B", "PRICE": 50}],
        },
    )
    assert rest.call("crm.deal.get", {"id": deal_id})["OPPORTUNITY"] == "250.00"
    rest.call("crm.deal.productrows.set", {"id": deal_id, "rows": [{"PRODUCT_NAME": "C", "PRICE": 10}]})
    assert [r["PRODUCT_NAME"] for r in rest.call("crm.deal.productrows.get", {"id": deal_id})] == ["C"]
    assert rest.call("crm.deal.get", {"id": deal_id})["OPPORTUNITY"] == "10.00"
    manual = rest.call("crm.deal.add", {"fields": {"OPPORTUNITY": 999, "IS_MANUAL_OPPORTUNITY": "Y"}})
    rest.call("crm.deal.productrows.set", {"id": manual, "rows": [{"PRICE": 1}]})
    assert rest.call("crm.deal.get", {"id": manual})["OPPORTUNITY"] == "999.00"


def test_user_fields_become_deal_fields(rest: B24Rest) -> None:
    uf_id = rest.call(
        "crm.deal.userfield.add", {"fields": {"FIELD_NAME": "uf_onec_guid", "USER_TYPE_ID": "string"}}
    )
    assert isinstance(uf_id, int)
    status, body = rest.send(
        "crm.deal.userfield.add", {"fields": {"FIELD_NAME": "X" * 44, "USER_TYPE_ID": "string"}}
    )
    assert status == 400
    assert body["error"] == "ERROR_CORE"
    assert "UF_CRM_ONEC_GUID" in rest.call("crm.deal.fields")
    deal_id = rest.call("crm.deal.add", {"fields": {"UF_CRM_ONEC_GUID": "guid-1"}})
    assert rest.call("crm.deal.list", {"filter": {"UF_CRM_ONEC_GUID": "guid-1"}, "select": ["UF_*"]}) == [
        {"ID": str(deal_id), "UF_CRM_ONEC_GUID": "guid-1"}
    ]
    rest.call("crm.company.userfield.add", {"fields": {"FIELD_NAME": "INN", "USER_TYPE_ID": "string"}})
    company = rest.call("crm.company.add", {"fields": {"TITLE": "c", "UF_CRM_INN": "7700"}})
    assert rest.call("crm.company.get", {"id": company})["UF_CRM_INN"] == "7700"


def test_funnels_stages_and_truncation(rest: B24Rest) -> None:
    stages = rest.call("crm.status.list", {"filter": {"ENTITY_ID": "DEAL_STAGE_1"}})
    assert [s["STATUS_ID"] for s in stages][:3] == ["C1:NEW", "C1:PREPARATION", "C1:EXECUTING"]
    assert [c["name"] for c in rest.call("crm.category.list", {"entityTypeId": 2})["categories"]] == [
        "Продажи",
        "Заказ материала",
    ]
    while rest.call("crm.category.add", {"entityTypeId": 2, "fields": {"name": "N"}})["category"]["id"] < 10:
        pass
    ids = [s["STATUS_ID"] for s in rest.call("crm.status.list", {"filter": {"ENTITY_ID": "DEAL_STAGE_10"}})]
    assert "C10:PREPAYMENT_INVOIC" in ids
    deal = rest.call("crm.deal.add", {"fields": {"CATEGORY_ID": 1, "STAGE_ID": "C1:WON"}})
    got = rest.call("crm.deal.get", {"id": deal})
    assert (got["STAGE_SEMANTIC_ID"], got["CLOSED"]) == ("S", "Y")
    status, _ = rest.send("crm.deal.update", {"id": deal, "fields": {"STAGE_ID": "WON"}})
    assert status == 400


# -- notifications, lists, catalog -------------------------------------------------------------
def test_notification_tag_replaces_and_list_codes_are_unique(rest: B24Rest) -> None:
    first = rest.call("im.notify.system.add", {"USER_ID": 2, "MESSAGE": "one", "TAG": "PAY|1"})
    second = rest.call("im.notify.system.add", {"USER_ID": 2, "MESSAGE": "two", "TAG": "PAY|1"})
    notes = {n["id"]: n for n in rest.client.get("/_sandbox/notifications").json()}
    assert notes[first]["replaced_by"] == second
    assert notes[second]["replaced_by"] is None
    iblock = rest.call(
        "lists.add", {"IBLOCK_TYPE_ID": "lists", "IBLOCK_CODE": "pay", "FIELDS": {"NAME": "P"}}
    )
    element = {
        "IBLOCK_TYPE_ID": "lists",
        "IBLOCK_ID": iblock,
        "ELEMENT_CODE": "pay-1",
        "FIELDS": {"NAME": "p"},
    }
    rest.call("lists.element.add", element)
    status, body = rest.send("lists.element.add", element)
    assert (status, body["error"]) == (400, "ERROR_ELEMENT_ALREADY_EXISTS")
    assert len(rest.client.get("/_sandbox/list-elements").json()) == 1
    document = ["crm", "CCrmDocumentDeal", "DEAL_1"]
    assert (
        rest.send("bizproc.workflow.start", {"TEMPLATE_ID": 3, "DOCUMENT_ID": document})[0] == 400
    )  # no deal 1
    rest.call("crm.deal.add", {"fields": {"TITLE": "t"}})
    workflow = rest.call(
        "bizproc.workflow.start", {"TEMPLATE_ID": 3, "DOCUMENT_ID": document, "PARAMETERS": {"Sum": 5}}
    )
    started = rest.client.get("/_sandbox/workflows").json()
    assert [(w["id"], w["template_id"], w["parameters"]) for w in started] == [(workflow, 3, {"Sum": 5})]


def test_inventory_mode_locks_quantity(rest: B24Rest) -> None:
    product = rest.call(
        "catalog.product.add", {"fields": {"iblockId": 23, "name": "Brick", "xmlId": "guid-7", "quantity": 5}}
    )["element"]
    assert product["quantity"] == 5
    assert rest.call("catalog.document.mode.status") == "N"
    rest.client.post("/_sandbox/inventory", json={"enabled": True})
    status, body = rest.send("catalog.product.update", {"id": product["id"], "fields": {"quantity": 9}})
    assert status == 400
    assert isinstance(body["error"], int)
    listed = rest.call(
        "catalog.product.list",
        {"filter": {"iblockId": 23, "xmlId": "guid-7"}, "select": ["id", "iblockId", "quantity"]},
    )
    assert listed["products"] == [{"id": product["id"], "iblockId": 23, "quantity": 5}]
    price = rest.call(
        "catalog.price.modify",
        {
            "fields": {
                "product": {
                    "id": product["id"],
                    "prices": [{"catalogGroupId": 1, "price": 100, "currency": "RUB"}],
                }
            }
        },
    )["prices"]
    replaced = rest.call(
        "catalog.price.modify",
        {
            "fields": {
                "product": {
                    "id": product["id"],
                    "prices": [{"id": price[0]["id"], "catalogGroupId": 1, "price": 120, "currency": "RUB"}],
                }
            }
        },
    )["prices"]
    assert [(p["id"], p["price"]) for p in replaced] == [(price[0]["id"], 120)]


# -- sandbox controls --------------------------------------------------------------------------
def test_journal_faults_snapshot_and_reset(rest: B24Rest) -> None:
    before = time.time()
    rest.client.post(
        "/_sandbox/faults",
        json={"method": "crm.deal.add", "count": 1, "error": "INTERNAL_SERVER_ERROR", "status": 500},
    )
    assert rest.send("crm.deal.add", {"fields": {"TITLE": "x"}})[0] == 500
    deal_id = rest.call("crm.deal.add", {"fields": {"TITLE": "x"}})
    rest.call("batch", {"cmd": {"a": "crm.deal.get?id=1"}})
    calls = rest.client.get("/_sandbox/calls").json()["calls"]
    assert [(c["method"], c["status"]) for c in calls] == [
        ("crm.deal.add", 500),
        ("crm.deal.add", 200),
        ("batch", 200),
        ("crm.deal.get", 200),
    ]
    assert calls[3]["batch"] == calls[2]["seq"]
    assert calls[3]["params"] == {"id": "1"}
    # Each call is stamped when it was answered, so a reader polling now and then can time it.
    stamps = [c["time"] for c in calls]
    assert before <= stamps[0]
    assert stamps == sorted(stamps)
    assert stamps[-1] <= time.time()
    since = rest.client.get(f"/_sandbox/calls?since={calls[2]['seq']}").json()["calls"]
    assert [c["method"] for c in since] == ["crm.deal.get"]
    snapshot = rest.client.get("/_sandbox/snapshot").json()
    rest.client.post("/_sandbox/reset")
    assert rest.send("crm.deal.get", {"id": deal_id})[0] == 400
    rest.client.post("/_sandbox/snapshot", json=snapshot)
    assert rest.call("crm.deal.get", {"id": deal_id})["TITLE"] == "x"


def test_rate_limit_counts_requests_and_batches_as_one() -> None:
    rest = B24Rest.in_process(B24EmulatorConfig(rate_limit_enabled=True))
    try:
        statuses = [rest.send("batch", {"cmd": ["user.current"] * 50})[0] for _ in range(70)]
        # 50-request bucket draining 2/s: the burst is cut well before 70, never before ~50.
        assert statuses[:50] == [200] * 50
        assert 503 in statuses
        rest.client.post("/_sandbox/rate-limit", json={"enabled": False})
        assert rest.send("user.current", {})[0] == 200
    finally:
        rest.close()


def test_operating_time_blocks_only_that_method() -> None:
    rest = B24Rest.in_process(
        B24EmulatorConfig(operating_limit_enabled=True, method_costs={"crm.deal.list": 200.0})
    )
    try:
        results = [rest.send("crm.deal.list", {}) for _ in range(4)]
        assert [s for s, _ in results] == [200, 200, 200, 429]
        assert results[2][1]["time"]["operating"] >= 400
        assert rest.send("crm.deal.fields", {})[0] == 200
    finally:
        rest.close()


def test_users_and_seed(rest: B24Rest) -> None:
    users = rest.call("user.get", {})
    assert [u["ID"] for u in users] == ["1", "2", "3", "4"]
    assert all(u["EMAIL"] for u in users)
    assert rest.call("user.current")["ID"] == "1"
    assert (
        rest.call("user.get", {"filter": {"EMAIL": "m.ivanova@sandbox.example"}})[0]["LAST_NAME"] == "Иванова"
    )
    types = rest.call("crm.status.list", {"filter": {"ENTITY_ID": "COMPANY_TYPE"}})
    assert [t["STATUS_ID"] for t in types] == ["CUSTOMER", "SUPPLIER", "COMPETITOR", "PARTNER", "OTHER"]
    assert rest.call("catalog.priceType.list")["priceTypes"][0]["name"] == "Базовая цена"
    assert rest.call("catalog.store.list")["stores"][0]["title"] == "Основной склад"
    assert rest.call("catalog.product.list", {"filter": {"iblockId": 23}})["products"] == []
