"""The Bitrix24 emulator's REST endpoints against hostile and malformed input (README §1.2, §1.4):
every answer is a portal answer, a success envelope or a 4xx error envelope, never a crash."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.b24.php_query import encode
from sandbox.world.rest import B24Rest

pytestmark = pytest.mark.contract

FORM = {"content-type": "application/x-www-form-urlencoded"}
JSON_TYPE = {"content-type": "application/json"}


def post(
    rest: B24Rest, method: str, body: bytes | str, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    content = body.encode("utf-8") if isinstance(body, str) else body
    answer = rest.client.post(f"{rest.base}/{method}", content=content, headers=headers or FORM)
    return answer.status_code, answer.json()


def assert_refused(status: int, body: Any, code: str | int, text: str) -> None:
    assert status == 400, body
    assert body["error"] == code
    assert text in body["error_description"], body


# -- bracket names nested past PHP's max_input_nesting_level ----------------------------------

DEEP_NAME = "fields" + "[a]" * 65  # 65 bracket levels; PHP's default limit is 64


def test_a_bracket_name_nested_past_64_levels_is_refused_in_a_form_body(rest: B24Rest) -> None:
    status, body = post(rest, "crm.deal.add", f"fields[TITLE]=x&{DEEP_NAME}=1")

    assert_refused(status, body, "INVALID_REQUEST", "nested deeper than 64 levels")


def test_a_bracket_name_nested_past_64_levels_is_refused_in_the_query_string(rest: B24Rest) -> None:
    answer = rest.client.get(f"{rest.base}/crm.deal.list?{DEEP_NAME}=1")

    assert_refused(answer.status_code, answer.json(), "INVALID_REQUEST", "nested deeper than 64 levels")


def test_a_bracket_name_nested_past_64_levels_is_refused_in_a_multipart_form(rest: B24Rest) -> None:
    answer = rest.client.post(f"{rest.base}/crm.deal.add", files=[(DEEP_NAME, (None, b"1"))])

    assert_refused(answer.status_code, answer.json(), "INVALID_REQUEST", "nested deeper than 64 levels")


def test_a_batch_command_nested_past_64_levels_fails_alone(rest: B24Rest) -> None:
    status, body = rest.send(
        "batch", {"cmd": {"deep": f"crm.deal.add?{DEEP_NAME}=1", "fine": "crm.deal.add?fields[TITLE]=x"}}
    )

    assert status == 200
    assert body["result"]["result"] == {"fine": 1}
    error = body["result"]["result_error"]["deep"]
    assert error["error"] == "INVALID_REQUEST"
    assert "nested deeper than 64 levels" in error["error_description"]


def test_a_bracket_name_of_64_levels_is_still_read(rest: B24Rest) -> None:
    status, body = post(rest, "crm.deal.add", "fields[TITLE]=x&fields[UF_CRM_1]" + "[a]" * 63 + "=1")

    assert status == 200, body


# -- JSON nested past json_decode's depth ---------------------------------------------------


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ('{"fields": {"TITLE": ' + "[" * 3000 + "]" * 3000 + "}}", "nested deeper than 512 levels"),
        ("[" * 100_000, "not valid JSON"),
        ('{"a":' * 100_000, "not valid JSON"),
    ],
    ids=["3000 levels", "100000 levels unclosed", "100000 objects unclosed"],
)
def test_json_nested_past_512_levels_is_refused(rest: B24Rest, body: str, text: str) -> None:
    status, answer = post(rest, "crm.deal.add", body, JSON_TYPE)

    assert_refused(status, answer, "INVALID_REQUEST", text)


def test_json_of_512_levels_is_still_read(rest: B24Rest) -> None:
    title = "[" * 510 + "]" * 510  # with `fields`' own object and the body's: 512
    status, answer = post(rest, "crm.deal.add", '{"fields": {"TITLE": ' + title + "}}", JSON_TYPE)

    assert status == 200, answer


# -- numbers a double cannot hold: NaN, infinities, 1e400 ---------------------------------------


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_the_non_json_constants_are_refused_as_invalid_json(rest: B24Rest, literal: str) -> None:
    body = '{"fields": {"iblockId": 23, "name": "Болт", "weight": ' + literal + "}}"

    status, answer = post(rest, "catalog.product.add", body, JSON_TYPE)

    assert_refused(status, answer, "INVALID_REQUEST", "not valid JSON")


def _hostile_number_calls(product: int, deal: int, number: Any) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("catalog.product.add", {"fields": {"iblockId": 23, "name": "Болт", "weight": number}}),
        ("catalog.product.update", {"id": product, "fields": {"width": number, "quantity": number}}),
        ("catalog.section.add", {"fields": {"iblockId": 23, "name": "Крепёж", "sort": number}}),
        (
            "catalog.price.add",
            {
                "fields": {
                    "productId": product,
                    "catalogGroupId": 1,
                    "price": 1,
                    "currency": "RUB",
                    "quantityFrom": number,
                }
            },
        ),
        ("crm.deal.add", {"fields": {"TITLE": "x", "ASSIGNED_BY_ID": number, "OPPORTUNITY": number}}),
        ("crm.item.add", {"entityTypeId": 2, "fields": {"title": "x", "opportunity": number}}),
        (
            "crm.deal.productrows.set",
            {"id": deal, "rows": [{"PRODUCT_ID": number, "PRICE": number, "QUANTITY": 1}]},
        ),
    ]


@pytest.mark.parametrize("number", ["nan", "inf", "-Infinity", "1e400", pytest.param(10**400, id="10**400")])
@pytest.mark.parametrize("encoding", ["json", "form"])
def test_a_number_a_double_cannot_hold_is_no_number(rest: B24Rest, number: Any, encoding: str) -> None:
    product = rest.call("catalog.product.add", {"fields": {"iblockId": 23, "name": "Гайка"}})["element"]["id"]
    deal = rest.call("crm.deal.add", {"fields": {"TITLE": "Сделка"}})
    for method, params in _hostile_number_calls(product, deal, number):
        if encoding == "json":
            status, answer = rest.send(method, params)
        else:
            status, answer = post(rest, method, encode(params))

        assert status == 200, (method, answer)
    # Read back, everything stored renders as JSON.
    assert rest.call(
        "catalog.product.list", {"filter": {"iblockId": 23}, "select": ["id", "iblockId", "weight"]}
    )
    assert rest.call("catalog.section.list", {"filter": {"iblockId": 23}})
    assert rest.call("catalog.price.list", {"filter": {"productId": product}})
    assert rest.call("crm.deal.list", {"select": ["*"]})


def test_1e400_in_json_reads_like_the_same_digits_in_a_form(rest: B24Rest) -> None:
    _, from_json = post(
        rest, "catalog.product.add", '{"fields": {"iblockId": 23, "name": "a", "weight": 1e400}}', JSON_TYPE
    )
    _, from_form = post(
        rest, "catalog.product.add", "fields[iblockId]=23&fields[name]=a&fields[weight]=1e400"
    )

    assert from_json["result"]["element"]["weight"] == from_form["result"]["element"]["weight"] == "1e400"


# -- IDs that str.isdigit() takes and int() does not: "²", thousands of digits -------------------


def _id_calls(ids: dict[str, int], bad: str) -> list[tuple[str, dict[str, Any]]]:
    deal, contact, company, product = ids["deal"], ids["contact"], ids["company"], ids["product"]
    return [
        ("catalog.product.get", {"id": bad}),
        ("catalog.productproperty.get", {"id": bad}),
        ("catalog.price.modify", {"fields": {"product": {"id": bad, "prices": []}}}),
        (
            "catalog.price.modify",
            {
                "fields": {
                    "product": {
                        "id": product,
                        "prices": [{"id": bad, "catalogGroupId": 1, "price": 1, "currency": "RUB"}],
                    }
                }
            },
        ),
        ("crm.item.get", {"entityTypeId": 2, "id": bad}),
        ("crm.deal.add", {"fields": {"TITLE": "x", "CONTACT_IDS": [bad]}}),
        ("crm.deal.contact.items.set", {"id": deal, "items": [{"CONTACT_ID": bad}]}),
        ("crm.contact.add", {"fields": {"NAME": "x", "COMPANY_IDS": [bad]}}),
        ("crm.contact.add", {"fields": {"NAME": "x", "COMPANY_ID": bad}}),
        ("crm.contact.company.add", {"id": bad, "fields": {"COMPANY_ID": company}}),
        ("crm.contact.company.add", {"id": contact, "fields": {"COMPANY_ID": bad}}),
        (
            "crm.requisite.add",
            {"fields": {"ENTITY_TYPE_ID": 4, "ENTITY_ID": bad, "PRESET_ID": 1, "NAME": "r"}},
        ),
        (
            "crm.requisite.add",
            {"fields": {"ENTITY_TYPE_ID": 4, "ENTITY_ID": company, "PRESET_ID": bad, "NAME": "r"}},
        ),
        ("crm.address.add", {"fields": {"TYPE_ID": bad, "ENTITY_TYPE_ID": 8, "ENTITY_ID": 1}}),
        ("crm.address.add", {"fields": {"TYPE_ID": 1, "ENTITY_TYPE_ID": 8, "ENTITY_ID": bad}}),
        ("im.notify.system.add", {"USER_ID": bad, "MESSAGE": "m"}),
        (
            "bizproc.workflow.start",
            {"TEMPLATE_ID": bad, "DOCUMENT_ID": ["crm", "CCrmDocumentDeal", f"DEAL_{deal}"]},
        ),
        (
            "bizproc.workflow.start",
            {"TEMPLATE_ID": 1, "DOCUMENT_ID": ["crm", "CCrmDocumentDeal", f"DEAL_{bad}"]},
        ),
        ("crm.timeline.comment.add", {"fields": {"ENTITY_ID": bad, "ENTITY_TYPE": "deal", "COMMENT": "c"}}),
        ("batch", {"cmd": {"a": "crm.deal.list", "b": f"crm.deal.get?id=$result[a][{bad}][ID]"}}),
    ]


@pytest.mark.parametrize("bad", ["²", "9" * 5000], ids=["superscript two", "5000 digits"])
def test_an_id_that_is_no_ascii_number_is_refused_or_ignored(rest: B24Rest, bad: str) -> None:
    company = rest.call("crm.company.add", {"fields": {"TITLE": "Альфа"}})
    ids = {
        "company": company,
        "contact": rest.call("crm.contact.add", {"fields": {"NAME": "Елена"}}),
        "deal": rest.call("crm.deal.add", {"fields": {"TITLE": "Сделка"}}),
        "product": rest.call("catalog.product.add", {"fields": {"iblockId": 23, "name": "Болт"}})["element"][
            "id"
        ],
    }
    for method, params in _id_calls(ids, bad):
        status, answer = rest.send(method, params)

        assert status in (200, 400), (method, params, answer)
        if status == 400:
            assert set(answer) == {"error", "error_description"}
        else:
            assert "INTERNAL_SERVER_ERROR" not in str(answer), (method, answer)


# -- event.offline.get with a limit that is no whole number ------------------------------------


@pytest.mark.parametrize(
    "limit", ["abc", " ", "1.5", "²", ["1"], {"a": 1}], ids=["abc", "space", "1.5", "²", "list", "object"]
)
def test_an_offline_event_limit_that_is_no_whole_number_reads_as_the_default(
    rest: B24Rest, limit: Any
) -> None:
    rest.call(
        "event.bind", {"event": "ONCRMDEALADD", "handler": "https://h.invalid/", "event_type": "offline"}
    )
    for title in ("a", "b"):
        rest.call("crm.deal.add", {"fields": {"TITLE": title}})

    events = rest.call("event.offline.get", {"limit": limit, "clear": 0})["events"]

    assert len(events) == 2


# -- a funnel (category) id that is no integer ----------------------------------------------------


@pytest.mark.parametrize("category", [[0], [1, 2]], ids=["one", "two"])
def test_a_new_deal_in_a_category_that_is_a_list_is_refused(rest: B24Rest, category: Any) -> None:
    for method, params in [
        ("crm.deal.add", {"fields": {"TITLE": "x", "CATEGORY_ID": category}}),
        ("crm.item.add", {"entityTypeId": 2, "fields": {"title": "x", "categoryId": category}}),
    ]:
        status, answer = rest.send(method, params)

        assert_refused(status, answer, "", "is not found")


@pytest.mark.parametrize(
    "category", [[1], {"a": 1}, "abc", "1.5", "²"], ids=["list", "object", "abc", "1.5", "²"]
)
def test_a_move_to_a_category_that_is_no_integer_is_not_found(rest: B24Rest, category: Any) -> None:
    deal = rest.call("crm.deal.add", {"fields": {"TITLE": "Сделка"}})

    status, answer = rest.send(
        "crm.item.update", {"entityTypeId": 2, "id": deal, "fields": {"categoryId": category}}
    )

    assert_refused(status, answer, "NOT_FOUND", "not found")
    assert rest.call("crm.deal.get", {"id": deal})["CATEGORY_ID"] == "0"


# -- catalog prices of the wrong shape ------------------------------------------------------------


@pytest.mark.parametrize("value", [[1000], {"a": 1}], ids=["list", "object"])
@pytest.mark.parametrize("field", ["quantityFrom", "price", "productId", "catalogGroupId"])
def test_a_price_field_that_is_a_list_or_object_is_refused(rest: B24Rest, field: str, value: Any) -> None:
    product = rest.call("catalog.product.add", {"fields": {"iblockId": 23, "name": "Болт"}})["element"]["id"]
    fields = {"productId": product, "catalogGroupId": 1, "price": 1, "currency": "RUB"}
    price = rest.call("catalog.price.add", {"fields": fields})["price"]["id"]

    added = rest.send("catalog.price.add", {"fields": fields | {field: value}})
    updated = rest.send("catalog.price.update", {"id": price, "fields": {field: value}})

    for status, answer in (added, updated):
        assert_refused(status, answer, 0, f"Field {field} must be a number")
    assert rest.call("catalog.price.list", {"filter": {"productId": product}})["prices"][0]["price"] == 1


@pytest.mark.parametrize(
    "prices",
    [5, "abc", ["abc"], [[1]], {"0": "x"}],
    ids=["number", "text", "list of text", "list of list", "object of text"],
)
def test_price_modify_with_prices_that_are_no_list_of_prices_is_refused(rest: B24Rest, prices: Any) -> None:
    product = rest.call("catalog.product.add", {"fields": {"iblockId": 23, "name": "Болт"}})["element"]["id"]

    status, answer = rest.send(
        "catalog.price.modify", {"fields": {"product": {"id": product, "prices": prices}}}
    )

    assert_refused(status, answer, 0, "must be an array of prices")


@pytest.mark.parametrize(
    "value",
    ["abc", "0000-00-00", {"a": 1}, [1], "nan", "1e400"],
    ids=["abc", "date", "object", "list", "nan", "1e400"],
)
def test_a_purchasing_price_that_is_no_number_is_refused(rest: B24Rest, value: Any) -> None:
    product = rest.call(
        "catalog.product.add", {"fields": {"iblockId": 23, "name": "Болт", "purchasingPrice": 2}}
    )

    added = rest.send(
        "catalog.product.add", {"fields": {"iblockId": 23, "name": "Гайка", "purchasingPrice": value}}
    )
    updated = rest.send(
        "catalog.product.update", {"id": product["element"]["id"], "fields": {"purchasingPrice": value}}
    )

    for status, answer in (added, updated):
        assert_refused(status, answer, 0, "Field purchasingPrice must be a number")
    assert (
        rest.call("catalog.product.get", {"id": product["element"]["id"]})["product"]["purchasingPrice"]
        == "2.000000"
    )


# -- whole-number parameters (SORT, user_id, auth_type, id) that are no whole number ----------------

NOT_WHOLE = pytest.mark.parametrize("bad", ["abc", "1.5", "²", [3]], ids=["abc", "1.5", "²", "list"])


@NOT_WHOLE
def test_a_link_sort_that_is_no_whole_number_takes_the_default(rest: B24Rest, bad: Any) -> None:
    company = rest.call("crm.company.add", {"fields": {"TITLE": "Альфа"}})
    contact = rest.call("crm.contact.add", {"fields": {"NAME": "Елена"}})
    deal = rest.call("crm.deal.add", {"fields": {"TITLE": "Сделка"}})

    rest.call("crm.deal.contact.items.set", {"id": deal, "items": [{"CONTACT_ID": contact, "SORT": bad}]})
    rest.call("crm.contact.company.add", {"id": contact, "fields": {"COMPANY_ID": company, "SORT": bad}})

    assert [link["SORT"] for link in rest.call("crm.deal.contact.items.get", {"id": deal})] == [10]
    assert [link["SORT"] for link in rest.call("crm.contact.company.items.get", {"id": contact})] == [10]


@pytest.mark.parametrize("items", [True, 5, "abc"], ids=["true", "number", "text"])
def test_link_items_that_are_no_list_are_invalid(rest: B24Rest, items: Any) -> None:
    deal = rest.call("crm.deal.add", {"fields": {"TITLE": "Сделка"}})

    status, answer = rest.send("crm.deal.contact.items.set", {"id": deal, "items": items})

    assert_refused(status, answer, "", "The parameter 'items' is invalid.")


@NOT_WHOLE
def test_a_field_or_funnel_sort_that_is_no_whole_number_takes_the_default(rest: B24Rest, bad: Any) -> None:
    field = {
        "FIELD_NAME": "KIND",
        "USER_TYPE_ID": "enumeration",
        "SORT": bad,
        "LIST": [{"VALUE": "a", "SORT": bad}],
    }
    rest.call("crm.deal.userfield.add", {"fields": field})
    category = rest.call("crm.category.add", {"entityTypeId": 2, "fields": {"name": "Опт", "sort": bad}})

    stored = rest.call("crm.deal.userfield.list", {"filter": {"FIELD_NAME": "UF_CRM_KIND"}})[0]
    assert (stored["SORT"], stored["LIST"][0]["SORT"]) == ("100", "10")
    assert category["category"]["sort"] == 500


@pytest.mark.parametrize("bad", ["abc", "1.5", "²", [1]], ids=["abc", "1.5", "²", "list"])
def test_a_funnel_id_that_is_no_whole_number_is_not_found(rest: B24Rest, bad: Any) -> None:
    status, answer = rest.send("crm.category.get", {"entityTypeId": 2, "id": bad})

    assert_refused(status, answer, "NOT_FOUND", "Category not found")


@NOT_WHOLE
def test_an_offline_handler_whose_auth_type_is_no_whole_number_runs_as_the_triggering_user(
    rest: B24Rest, bad: Any
) -> None:
    rest.call(
        "event.bind",
        {"event": "ONCRMDEALADD", "handler": "https://h.invalid/", "event_type": "offline", "auth_type": bad},
    )

    rest.call("crm.deal.add", {"fields": {"TITLE": "Сделка"}})  # the event is stored after the answer

    events = rest.call("event.offline.get", {})["events"]
    assert [event["EVENT_ADDITIONAL"] for event in events] == [{"user_id": 0}]


@NOT_WHOLE
def test_a_placement_user_that_is_no_whole_number_is_every_user(rest: B24Rest, bad: Any) -> None:
    app = rest.sandbox(
        "/_sandbox/apps", "POST", {"handler": "https://h.invalid/install", "scope": ["crm", "placement"]}
    )
    token = rest.sandbox(f"/_sandbox/apps/{app['id']}/tokens", "POST", {"user_id": 1})["access_token"]
    bind = {"PLACEMENT": "CRM_DEAL_DETAIL_TAB", "HANDLER": "https://h.invalid/tab", "TITLE": "1С"}

    bound = rest.client.post("/rest/placement.bind", json=bind | {"auth": token, "USER_ID": bad})
    unbound = rest.client.post("/rest/placement.unbind", json=bind | {"auth": token, "USER_ID": bad})

    assert bound.status_code == 200, bound.text
    assert unbound.status_code == 200, unbound.text


# -- dates that are no date ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "31.02.2024",
        "99.99.9999",
        "31.12.2024 25:61",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-12:00",
    ],
)
def test_a_date_that_is_no_date_of_the_calendar_stays_empty(rest: B24Rest, value: str) -> None:
    field = {"FIELD_NAME": "SEEN", "USER_TYPE_ID": "datetime"}
    rest.call("crm.deal.userfield.add", {"fields": field})

    deal = rest.call("crm.deal.add", {"fields": {"TITLE": "x", "BEGINDATE": value, "UF_CRM_SEEN": value}})
    contact = rest.call("crm.contact.add", {"fields": {"NAME": "x", "BIRTHDATE": value}})
    item = rest.call("crm.item.add", {"entityTypeId": 2, "fields": {"title": "x", "begindate": value}})[
        "item"
    ]

    assert rest.call("crm.deal.get", {"id": deal})["UF_CRM_SEEN"] in ("", None)
    assert rest.call("crm.contact.get", {"id": contact})["ID"] == str(contact)
    assert item["id"] > deal
    assert rest.call("crm.deal.list", {"filter": {">BEGINDATE": value}}) is not None
