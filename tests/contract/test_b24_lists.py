"""`lists.*` in the Bitrix24 emulator, from the payloads `bitrix24/b24restdocs:api-reference/lists/`
documents (lists-add, lists-get, lists-field-add, lists-field-get, lists-element-add/update/get)."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.b24 import B24EmulatorConfig
from sandbox.world.rest import B24Rest
from tests.harness.b24 import shape_mismatches

pytestmark = pytest.mark.contract

# lists-add.md, cURL (Webhook) sample.
LISTS_ADD = {
    "IBLOCK_TYPE_ID": "lists",
    "IBLOCK_CODE": "my_custom_list",
    "FIELDS": {
        "NAME": "My new list",
        "DESCRIPTION": "List for tracking tasks in the project",
        "SORT": 500,
        "BIZPROC": "Y",
    },
    "MESSAGES": {"ELEMENTS_NAME": "Tasks", "ELEMENT_NAME": "Task"},
    "RIGHTS": {"U1": "X"},
}
# lists-field-add.md sample (IBLOCK_ID replaced by the created list).
FIELD_ADD = {
    "NAME": "Project",
    "IS_REQUIRED": "N",
    "MULTIPLE": "N",
    "TYPE": "L",
    "SORT": "10",
    "CODE": "PROJECT",
    "LIST": {"10": {"VALUE": "Planning", "SORT": 10, "DEF": "Y"}},
    "SETTINGS": {"SHOW_ADD_FORM": "Y", "SHOW_EDIT_FORM": "Y"},
}
# lists-get.md response sample, the keys a client reads.
LIST_SHAPE = {"ID": "89", "IBLOCK_TYPE_ID": "lists", "CODE": "x", "NAME": "n", "ACTIVE": "Y", "SORT": "500"}
# lists-field-get.md response sample (one field).
FIELD_SHAPE = {
    "FIELD_ID": "PROPERTY_1151",
    "SORT": 50,
    "NAME": "Task Status",
    "IS_REQUIRED": "N",
    "MULTIPLE": "N",
    "TYPE": "L",
    "CODE": "PROJECT",
    "ID": "1151",
}


def new_list(rest: B24Rest) -> int:
    iblock = rest.call("lists.add", LISTS_ADD)
    assert isinstance(iblock, int)
    return iblock


def error(rest: B24Rest, method: str, body: dict[str, Any]) -> tuple[int, str, str]:
    status, answer = rest.send(method, body)
    return status, answer["error"], answer["error_description"]


def test_lists_add_returns_the_iblock_id_and_refuses_a_second_list_with_the_code(rest: B24Rest) -> None:
    iblock = new_list(rest)
    assert error(rest, "lists.add", LISTS_ADD) == (
        400,
        "ERROR_IBLOCK_ALREADY_EXISTS",
        "Iblock already exists",
    )
    [found] = rest.call("lists.get", {"IBLOCK_TYPE_ID": "lists", "IBLOCK_CODE": "my_custom_list"})
    assert not list(shape_mismatches(LIST_SHAPE, {k: found[k] for k in LIST_SHAPE}))
    assert (found["ID"], found["NAME"], found["BIZPROC"]) == (str(iblock), "My new list", "Y")
    assert rest.call("lists.get", {"IBLOCK_TYPE_ID": "lists", "IBLOCK_CODE": "nothing"}) == []
    status, code, _ = error(rest, "lists.add", {"IBLOCK_TYPE_ID": "lists", "FIELDS": {"NAME": "x"}})
    assert (status, code) == (400, "ERROR_REQUIRED_PARAMETERS_MISSING")


def test_lists_add_is_for_administrators_only() -> None:
    rest = B24Rest.in_process(B24EmulatorConfig(webhook_user_id=2))
    try:
        status, code, _ = error(rest, "lists.add", LISTS_ADD)
        assert (status, code) == (403, "ACCESS_DENIED")
    finally:
        rest.close()


def test_field_add_returns_property_id_needs_a_code_and_a_free_one(rest: B24Rest) -> None:
    iblock = new_list(rest)
    params = {"IBLOCK_TYPE_ID": "lists", "IBLOCK_ID": str(iblock)}
    field_id = rest.call("lists.field.add", params | {"FIELDS": FIELD_ADD})
    assert isinstance(field_id, str)
    assert field_id.startswith("PROPERTY_")
    assert error(rest, "lists.field.add", params | {"FIELDS": FIELD_ADD}) == (
        400,
        "ERROR_SAVE_FIELD",
        "Property already exists",
    )
    no_code = {k: v for k, v in FIELD_ADD.items() if k != "CODE"}
    assert error(rest, "lists.field.add", params | {"FIELDS": no_code})[1:] == (
        "ERROR_SAVE_FIELD",
        "Please fill the code fields",
    )
    by_code = {"IBLOCK_TYPE_ID": "lists", "IBLOCK_CODE": "my_custom_list"}
    fields = rest.call("lists.field.get", by_code)
    assert set(fields) == {"NAME", field_id}  # NAME is always there
    one = rest.call("lists.field.get", params | {"FIELD_ID": field_id})[field_id]
    assert not list(shape_mismatches(FIELD_SHAPE, {k: one[k] for k in FIELD_SHAPE}))
    assert (one["CODE"], one["TYPE"]) == ("PROJECT", "L")
    missing = {"IBLOCK_TYPE_ID": "lists", "IBLOCK_ID": 9999, "FIELDS": FIELD_ADD}
    assert error(rest, "lists.field.add", missing)[:2] == (400, "ERROR_IBLOCK_NOT_FOUND")


def test_elements_are_unique_by_code_update_replaces_every_value_get_reads_them(rest: B24Rest) -> None:
    iblock = new_list(rest)
    params = {"IBLOCK_TYPE_ID": "lists", "IBLOCK_ID": iblock}
    amount = rest.call("lists.field.add", params | {"FIELDS": {"NAME": "Sum", "TYPE": "N", "CODE": "SUM"}})
    note = rest.call("lists.field.add", params | {"FIELDS": {"NAME": "Note", "TYPE": "S", "CODE": "NOTE"}})
    # lists-element-add.md sample shape.
    element = params | {"ELEMENT_CODE": "pay-1", "FIELDS": {"NAME": "Test Element", amount: "5", note: "a"}}
    element_id = rest.call("lists.element.add", element)
    assert isinstance(element_id, int)
    assert error(rest, "lists.element.add", element)[:2] == (400, "ERROR_ELEMENT_ALREADY_EXISTS")

    # lists-element-update.md: "completely overwrites the element" — `note` not sent is cleared.
    update = params | {"ELEMENT_CODE": "pay-1", "FIELDS": {"NAME": "Test Element (updated)", amount: "7"}}
    assert rest.call("lists.element.update", update) is True
    [got] = rest.call("lists.element.get", params | {"ELEMENT_CODE": "pay-1"})
    assert got["ID"] == str(element_id)
    assert got["NAME"] == "Test Element (updated)"
    assert list(got[amount].values()) == ["7"]
    assert note not in got
    assert rest.call("lists.element.get", params | {"ELEMENT_CODE": "nope"}) == []

    gone = params | {"ELEMENT_CODE": "nope", "FIELDS": {"NAME": "x"}}
    assert error(rest, "lists.element.update", gone)[:2] == (400, "ERROR_ELEMENT_NOT_FOUND")
    unknown = {"IBLOCK_TYPE_ID": "lists", "IBLOCK_ID": 9999, "ELEMENT_CODE": "x", "FIELDS": {"NAME": "x"}}
    assert error(rest, "lists.element.add", unknown)[:2] == (400, "ERROR_IBLOCK_NOT_FOUND")
    no_code = params | {"FIELDS": {"NAME": "x"}}
    assert error(rest, "lists.element.add", no_code)[:2] == (400, "ERROR_REQUIRED_PARAMETERS_MISSING")


def test_lists_work_inside_batch(rest: B24Rest) -> None:
    iblock = new_list(rest)
    command = f"lists.element.add?IBLOCK_TYPE_ID=lists&IBLOCK_ID={iblock}&ELEMENT_CODE=k&FIELDS[NAME]=n"
    result = rest.call("batch", {"halt": 0, "cmd": {"a": command, "b": command}})
    assert isinstance(result["result"]["a"], int)
    assert result["result_error"]["b"]["error"] == "ERROR_ELEMENT_ALREADY_EXISTS"
