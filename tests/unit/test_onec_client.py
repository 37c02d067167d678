"""The 1C OData client against recorded answers, through httpx.MockTransport (no sockets).

Request lines are asserted byte for byte as a real 1C publication must receive them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest

from bridge.errors import PermanentError, TransientError
from bridge.onec import (
    AccessDenied,
    BadRequest,
    NotFound,
    ODataClient,
    ODataUnavailable,
    ServerError,
    UnexpectedResponse,
)
from bridge.onec.odata import eq, guid, parse_datetime, parse_int64, renumber_rows

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "onec"
BASE = "http://1c.example/unf/odata/standard.odata/"
ROOT = b"/unf/odata/standard.odata/"
PASSWORD = "s3cr3t-пароль"
COUNTERPARTY = "1fa1a135-d89b-11e6-8343-40167e2531c3"
CYR_CATALOG = b"Catalog_%D0%9A%D0%BE%D0%BD%D1%82%D1%80%D0%B0%D0%B3%D0%B5%D0%BD%D1%82%D1%8B"

type Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def reference_request(request_id: str) -> dict[str, Any]:
    examples: list[dict[str, Any]] = fixture("requests.examples.json")
    return next(example for example in examples if example["id"] == request_id)


class OneC:
    """Scripted 1C: answers in order, remembers every request it saw."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        if callable(reply):
            return reply(request)
        return reply

    def client(self, *, user: str = "odata", max_attempts: int = 4, page_size: int = 500) -> ODataClient:
        http = httpx.Client(transport=httpx.MockTransport(self.handle))
        return ODataClient(
            BASE,
            user,
            PASSWORD,
            http=http,
            max_attempts=max_attempts,
            sleep=self.sleeps.append,
            page_size=page_size,
        )

    def lines(self) -> list[bytes]:
        return [request.method.encode() + b" " + request.url.raw_path for request in self.requests]


def ok(payload: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=payload)


def odata_error(status: int, code: str, message: str) -> httpx.Response:
    body = {"odata.error": {"code": code, "message": {"lang": "ru", "value": message}}}
    return httpx.Response(status, json=body)


def collection(values: list[dict[str, Any]], **extra: Any) -> httpx.Response:
    return ok({"odata.metadata": BASE + "$metadata#X", "value": values, **extra})


# ---- URLs ------------------------------------------------------------------------------------


def test_get_by_key_sends_the_documented_request_and_returns_clean_values() -> None:
    onec = OneC(ok(fixture("catalog.element.response.json")))

    entity = onec.client().get("Catalog_Контрагенты", COUNTERPARTY.upper())

    assert onec.lines() == [
        b"GET " + ROOT + CYR_CATALOG + b"(guid'" + COUNTERPARTY.encode() + b"')?$format=json"
    ]
    documented = reference_request("get-by-key-json")["url"].split("standard.odata/", 1)[1]
    assert unquote(onec.lines()[0].decode("ascii")).endswith("/standard.odata/" + documented)
    assert entity["Description"] == "Чебоксарец"
    assert entity["Комментарии"] == [{"LineNumber": "1", "Комментарий": "комментарий1"}]
    assert parse_datetime(entity["Дата"]) is None
    assert "odata.metadata" not in entity
    assert not any(name.endswith("@navigationLinkUrl") for name in entity)


def test_filter_spaces_are_percent_20_and_plus_is_escaped() -> None:
    onec = OneC(collection([]))

    onec.client().list(
        "Catalog_Номенклатура",
        filter="Description eq 'a b+c' and Цена gt 1",
        select=["Ref_Key", "DataVersion", "DeletionMark"],
        top=10,
    )

    line = onec.lines()[0]
    assert b"+" not in line
    query = line.split(b"?", 1)[1]
    assert query == (
        b"$format=json&$filter=Description%20eq%20'a%20b%2Bc'%20and%20%D0%A6%D0%B5%D0%BD%D0%B0%20gt%201"
        b"&$select=Ref_Key,DataVersion,DeletionMark&$top=10"
    )


def test_filter_builder_output_reaches_the_wire_as_a_guid_literal() -> None:
    onec = OneC(collection([]))
    owner = "b1c89d93-cb6a-11e6-aede-5404a6b4b8ed"

    onec.client().list("Catalog_ДоговорыКонтрагентов", filter=eq("Owner_Key", guid(owner)))

    assert onec.lines()[0].endswith(b"$filter=Owner_Key%20eq%20guid'" + owner.encode() + b"'")


def test_list_replays_a_document_collection() -> None:
    onec = OneC(ok(fixture("document.list.response.json")))

    documents = onec.client().list("Document_Контракт")

    assert [doc["Number"] for doc in documents] == ["00000000001", "00000000002"]
    second = documents[1]
    assert parse_datetime(second["Date"]) == datetime(2016, 12, 29, 14, 35, 27)
    assert [parse_int64(row["LineNumber"]) for row in second["Товары"]] == [1, 2]
    assert second["Товары"][1]["Количество"] == 31
    assert "Склад@navigationLinkUrl" not in second


def test_iter_all_pages_with_top_skip_and_a_stable_orderby() -> None:
    refs = [f"00000000-0000-0000-0000-00000000000{i}" for i in range(1, 6)]
    pages = [refs[0:2], refs[2:4], refs[4:5]]
    onec = OneC(*(collection([{"Ref_Key": ref} for ref in page]) for page in pages))

    seen = [item["Ref_Key"] for item in onec.client(page_size=2).iter_all("Catalog_Номенклатура")]

    assert seen == refs
    queries = [line.split(b"?", 1)[1] for line in onec.lines()]
    assert queries == [
        b"$format=json&$orderby=Ref_Key&$top=2",
        b"$format=json&$orderby=Ref_Key&$top=2&$skip=2",
        b"$format=json&$orderby=Ref_Key&$top=2&$skip=4",
    ]
    assert not any(b"%20gt%20guid" in line for line in onec.lines())


def test_count_asks_the_count_segment_and_reads_the_text_plain_number() -> None:
    onec = OneC(httpx.Response(200, text="1103", headers={"content-type": "text/plain;charset=utf-8"}))

    assert onec.client().count("Catalog_Контрагенты", filter="DeletionMark eq false") == 1103
    line = onec.lines()[0]
    assert line == b"GET " + ROOT + CYR_CATALOG + b"/$count?$filter=DeletionMark%20eq%20false"
    assert b"$format" not in line  # the guide's $count answers text/plain, not JSON


@pytest.mark.parametrize(
    "body",
    ["1103", '"1103"', '{"value": 1103}', '{"odata.count": "1103"}', " 1103\r\n"],
)
def test_count_tolerates_text_and_json_answers(body: str) -> None:
    onec = OneC(httpx.Response(200, text=body))

    assert onec.client().count("Catalog_Контрагенты") == 1103
    assert onec.lines()[0] == b"GET " + ROOT + CYR_CATALOG + b"/$count"  # no dangling `?`


def test_count_that_is_not_a_number_is_an_unexpected_response() -> None:
    onec = OneC(httpx.Response(200, text="<html>login</html>"))

    with pytest.raises(UnexpectedResponse):
        onec.client().count("Catalog_Контрагенты")


def test_slice_last_sends_condition_as_a_query_parameter_as_the_developer_guide_does() -> None:
    price_kind = "7f4b5034-0331-11e3-b914-5404a6a68c42"
    onec = OneC(collection([{"Цена": 150}]))

    rows = onec.client().slice_last(
        "InformationRegister_ЦеныНоменклатуры",
        period=datetime(2030, 1, 1),
        condition=eq("ВидЦен_Key", guid(price_kind)),
        select="Period,Номенклатура_Key,Цена",
    )

    assert rows == [{"Цена": 150}]
    url = onec.requests[0].url
    assert unquote(url.path).endswith(
        "/InformationRegister_ЦеныНоменклатуры/SliceLast(Period=datetime'2030-01-01T00:00:00')"
    )
    assert b"&Condition=" + quote("ВидЦен_Key").encode() + b"%20eq%20guid'" + price_kind.encode() + b"'" in (
        url.query
    )
    assert b"''" not in onec.lines()[0]
    assert b" " not in onec.lines()[0].split(b" ", 1)[1]


def test_balance_url_carries_period_and_dimensions_and_filter_applies_to_result() -> None:
    warehouse = "3aa3cd58-c109-11e6-a7a6-5404a6b4b8ed"
    onec = OneC(collection([{"Номенклатура_Key": COUNTERPARTY, "КоличествоBalance": 4}]))

    onec.client().balance(
        "AccumulationRegister_ЗапасыНаСкладах",
        period=datetime(2025, 12, 31, 23, 59, 59),
        dimensions=["Номенклатура", "СтруктурнаяЕдиница"],
        filter=eq("СтруктурнаяЕдиница_Key", guid(warehouse)),
    )

    url = onec.requests[0].url
    assert unquote(url.path).endswith(
        "/AccumulationRegister_ЗапасыНаСкладах/Balance(Period=datetime'2025-12-31T23:59:59',"
        "Dimensions='Номенклатура,СтруктурнаяЕдиница')"
    )
    assert url.query.endswith(
        b"$filter=" + quote("СтруктурнаяЕдиница_Key").encode() + b"%20eq%20guid'" + warehouse.encode() + b"'"
    )


def test_post_and_unpost_are_bound_actions_on_the_document() -> None:
    order = "b1c89da7-cb6a-11e6-aede-5404a6b4b8ed"
    onec = OneC(httpx.Response(200), httpx.Response(204))
    client = onec.client()

    client.post_document("Document_ЗаказПокупателя", order)
    client.unpost_document("Document_ЗаказПокупателя", order, operational=True)

    set_path = "Document_ЗаказПокупателя".encode()
    assert [unquote(line.decode()).encode() for line in onec.lines()] == [
        b"POST "
        + ROOT
        + set_path
        + b"(guid'"
        + order.encode()
        + b"')/Post?$format=json&PostingModeOperational=false",
        b"POST "
        + ROOT
        + set_path
        + b"(guid'"
        + order.encode()
        + b"')/Unpost?$format=json&PostingModeOperational=true",
    ]


def test_register_record_key_is_written_field_by_field() -> None:
    onec = OneC(httpx.Response(204))

    onec.client().delete("InformationRegister_ШтрихкодыНоменклатуры", {"Штрихкод": "4600 01"})

    assert unquote(onec.requests[0].url.path).endswith(
        "/InformationRegister_ШтрихкодыНоменклатуры(Штрихкод='4600 01')"
    )
    assert b"%20" in onec.requests[0].url.raw_path


# ---- writes ----------------------------------------------------------------------------------


def test_create_posts_utf8_json_and_returns_the_created_object() -> None:
    created = {
        "odata.metadata": BASE + "$metadata#Catalog_Номенклатура/@Element",
        "Ref_Key": COUNTERPARTY,
        "DataVersion": "AAAAAAAAAAA=",
        "Description": "Кабель",
        "Code": "00-0001",
    }
    onec = OneC(httpx.Response(201, json=created))

    result = onec.client().create("Catalog_Номенклатура", {"Description": "Кабель"})

    request = onec.requests[0]
    assert request.method == "POST"
    assert json.loads(request.content.decode("utf-8")) == {"Description": "Кабель"}
    assert "Кабель".encode() in request.content
    assert request.headers["content-type"].startswith("application/json")
    assert result["Code"] == "00-0001"
    assert "odata.metadata" not in result


def test_update_patches_renumbered_rows_and_returns_the_full_object() -> None:
    full = {"Ref_Key": COUNTERPARTY, "DataVersion": "AAAAAAAAAAE=", "Description": "x", "Товары": []}
    onec = OneC(ok(full))

    result = onec.client().update(
        "Document_ЗаказПокупателя", COUNTERPARTY, {"Запасы": renumber_rows([{"Количество": 2}])}
    )

    assert onec.requests[0].method == "PATCH"
    assert json.loads(onec.requests[0].content) == {"Запасы": [{"LineNumber": 1, "Количество": 2}]}
    assert result == full


# ---- errors and retry ------------------------------------------------------------------------


def test_missing_object_is_not_found_and_not_retried() -> None:
    onec = OneC(odata_error(404, "9", "Экземпляр сущности не найден"))

    with pytest.raises(NotFound) as raised:
        onec.client().get("Catalog_Контрагенты", COUNTERPARTY)

    assert isinstance(raised.value, PermanentError)
    assert (raised.value.status, raised.value.code) == (404, "9")
    assert len(onec.requests) == 1
    assert onec.sleeps == []


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("1", "Не удалось разобрать строку 'x' как значение типа Edm.Guid!"),
        ("6", "Сегмент пути Foo не найден!"),
        ("14", "Ошибка при разборе опции запроса $filter"),
    ],
)
def test_bad_requests_are_permanent_and_never_retried(code: str, message: str) -> None:
    onec = OneC(odata_error(400, code, message))

    with pytest.raises(BadRequest) as raised:
        onec.client().list("Catalog_Номенклатура", filter="Code in ('1')")

    assert raised.value.code == code
    assert raised.value.message == message
    assert len(onec.requests) == 1


def test_tabular_rows_error_fixture_parses_its_code() -> None:
    onec = OneC(httpx.Response(400, content=fixture_bytes("error.tabular-rows-direct.code13.json")))

    with pytest.raises(BadRequest) as raised:
        onec.client().create("Document_ЗаказПокупателя_Запасы", {"LineNumber": 1})

    assert raised.value.code == "13"
    assert "табличной части" in raised.value.message


def test_server_error_is_retried_with_backoff_then_succeeds() -> None:
    internal = httpx.Response(500, content=fixture_bytes("error.internal.code-1.json"))
    onec = OneC(internal, internal, ok(fixture("catalog.element.response.json")))

    entity = onec.client().get("Catalog_Контрагенты", COUNTERPARTY)

    assert entity["Code"] == "0000021"
    assert len(onec.requests) == 3
    assert onec.sleeps == [0.5, 1.0]


def test_persistent_server_error_surfaces_as_transient_after_max_attempts() -> None:
    internal = httpx.Response(500, content=fixture_bytes("error.internal.code-1.json"))
    onec = OneC(*[internal] * 4)

    with pytest.raises(ServerError) as raised:
        onec.client().get("Catalog_Контрагенты", COUNTERPARTY)

    assert isinstance(raised.value, TransientError)
    assert raised.value.code == "-1"
    assert raised.value.message.startswith("Произошла внутренняя ошибка OData сервиса")
    assert len(onec.requests) == 4
    assert onec.sleeps == [0.5, 1.0, 2.0]


def test_timeout_is_retried_then_succeeds() -> None:
    onec = OneC(httpx.ReadTimeout("slow session start"), collection([{"Ref_Key": COUNTERPARTY}]))

    assert len(onec.client().list("Catalog_Контрагенты")) == 1
    assert len(onec.requests) == 2


def test_connection_failures_exhausting_attempts_are_unavailable() -> None:
    onec = OneC(*[httpx.ConnectError("refused")] * 2)

    with pytest.raises(ODataUnavailable) as raised:
        onec.client(max_attempts=2).list("Catalog_Контрагенты")

    assert isinstance(raised.value, TransientError)
    assert raised.value.status == 0


def test_create_is_not_resent_after_an_uncertain_failure() -> None:
    onec = OneC(httpx.ReadTimeout("may have been created"))

    with pytest.raises(ODataUnavailable):
        onec.client().create("Catalog_Номенклатура", {"Description": "x"})

    assert len(onec.requests) == 1


def test_create_is_resent_when_the_connection_never_opened() -> None:
    onec = OneC(httpx.ConnectError("refused"), httpx.Response(201, json={"Ref_Key": COUNTERPARTY}))

    assert onec.client().create("Catalog_Номенклатура", {"Description": "x"})["Ref_Key"] == COUNTERPARTY
    assert len(onec.requests) == 2


def test_html_gateway_error_falls_back_to_text() -> None:
    page = httpx.Response(
        502, text="<html><body>Bad Gateway</body></html>", headers={"content-type": "text/html"}
    )
    onec = OneC(page)

    with pytest.raises(ServerError) as raised:
        onec.client(max_attempts=1).get("Catalog_Контрагенты", COUNTERPARTY)

    assert raised.value.code is None
    assert "Bad Gateway" in raised.value.message


def test_xml_error_body_is_understood() -> None:
    xml = (
        '<?xml version="1.0" encoding="utf-8"?><m:error xmlns:m="http://schemas.microsoft.com/ado/2007/08/'
        'dataservices/metadata"><m:code>-1</m:code><m:message xml:lang="ru">Error running processor - '
        "'ОбработкаУдаленияПроведения'</m:message></m:error>"
    )
    onec = OneC(httpx.Response(500, text=xml, headers={"content-type": "application/xml"}))

    with pytest.raises(ServerError) as raised:
        onec.client(max_attempts=1).unpost_document("Document_ЗаказПокупателя", COUNTERPARTY)

    assert raised.value.code == "-1"
    assert raised.value.message == "Error running processor - 'ОбработкаУдаленияПроведения'"


def test_unknown_entity_set_without_code_is_not_found() -> None:
    onec = OneC(httpx.Response(404, text="Catalog_Нет"))

    with pytest.raises(NotFound):
        onec.client().list("Catalog_Нет")


def test_rejected_credentials_are_permanent() -> None:
    onec = OneC(httpx.Response(401, text="Unauthorized"))

    with pytest.raises(AccessDenied):
        onec.client().list("Catalog_Контрагенты")
    assert len(onec.requests) == 1


def test_atom_answer_to_a_json_request_is_reported() -> None:
    atom = httpx.Response(200, content=fixture_bytes("catalog.element.response.atom.xml"))
    onec = OneC(atom)

    with pytest.raises(UnexpectedResponse):
        onec.client().get("Catalog_Контрагенты", COUNTERPARTY)


# ---- auth and secrecy ------------------------------------------------------------------------


def test_basic_auth_sends_a_cyrillic_login_as_utf8() -> None:
    onec = OneC(collection([]))

    onec.client(user="Администратор").list("Catalog_Контрагенты")

    scheme, token = onec.requests[0].headers["authorization"].split(" ")
    assert scheme == "Basic"
    assert base64.b64decode(token).decode("utf-8") == f"Администратор:{PASSWORD}"


def test_password_never_appears_in_errors_logs_or_repr(caplog: pytest.LogCaptureFixture) -> None:
    internal = httpx.Response(500, content=fixture_bytes("error.internal.code-1.json"))
    onec = OneC(internal, httpx.ReadTimeout("x"))
    http = httpx.Client(transport=httpx.MockTransport(onec.handle))
    client = ODataClient(
        f"http://odata:{PASSWORD}@1c.example/unf/odata/standard.odata",
        "odata",
        PASSWORD,
        http=http,
        max_attempts=2,
        sleep=onec.sleeps.append,
    )

    with pytest.raises(ODataUnavailable) as raised:
        client.get("Catalog_Контрагенты", COUNTERPARTY)

    logged = [str(vars(record)) for record in caplog.records]
    assert any("retrying" in record for record in logged)
    for text in (str(raised.value), repr(client), *logged):
        assert PASSWORD not in text
        assert PASSWORD not in unquote(text)
