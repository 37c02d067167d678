"""The payment registry list «Реестр оплат» (§2.1.1.13, §2.2.7): made by setup, one element per payment.

Setup finds the universal list by its code (`lists.get`) or creates it (`lists.add`), then each
field by its code (`lists.field.get`) or creates it (`lists.field.add`), and stores the list id
and the `PROPERTY_<id>` of each field in `CONFIG#payments`. The flow adds one element per payment
(`lists.element.add`, `ELEMENT_CODE` = the 1C document's Ref_Key, so a repeat is refused and never
duplicates), and rewrites it (`lists.element.update`, which replaces every value) when the payment
is unposted or posted again, so the element says whether the payment stands.

The input formats of `S:Date` and `S:ECrm` values are not settled by the reference (docs/sandbox-b24.md,
"needs a live check"): the date goes in the portal's short date format (`list_date_format`), the
deal as its bare id (the field binds deals only).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bridge.b24.client import B24Client
from bridge.b24.errors import B24Error
from bridge.config.payments import RegistryOptions
from bridge.setup.framework import SetupProblem

_IBLOCK_EXISTS = "ERROR_IBLOCK_ALREADY_EXISTS"


@dataclass(frozen=True)
class ListFieldSpec:
    key: str  # logical value name (`text.registry_values`)
    code: str  # the field's CODE in the list
    type: str  # lists.field.add TYPE
    settings: Mapping[str, Any] | None = None


FIELD_SPECS: tuple[ListFieldSpec, ...] = (
    ListFieldSpec("deal", "PAY_DEAL", "S:ECrm", {"VISIBLE": "Y", "DEAL": "Y"}),
    ListFieldSpec("order_number", "PAY_ORDER_NUMBER", "S"),
    ListFieldSpec("date", "PAY_DATE", "S:Date"),
    ListFieldSpec("type", "PAY_TYPE", "S"),
    ListFieldSpec("amount", "PAY_AMOUNT", "N"),
    ListFieldSpec("method", "PAY_METHOD", "S"),
    ListFieldSpec("comment", "PAY_COMMENT", "S"),
    ListFieldSpec("payment_ref", "PAY_ONEC_REF", "S"),
    ListFieldSpec("state", "PAY_STATE", "S"),
)


@dataclass(frozen=True)
class RegistryList:
    iblock_id: str
    fields: dict[str, str]  # logical value → PROPERTY_<id>


def _lists(b24: B24Client, options: RegistryOptions) -> list[Mapping[str, Any]]:
    result = b24.call(
        "lists.get", {"IBLOCK_TYPE_ID": options.list_iblock_type_id, "IBLOCK_CODE": options.list_code}
    ).result
    return [row for row in result or [] if isinstance(row, Mapping)] if isinstance(result, list) else []


def _find_list(b24: B24Client, options: RegistryOptions) -> str | None:
    for row in _lists(b24, options):
        if str(row.get("CODE") or "") == options.list_code and row.get("ID") is not None:
            return str(row["ID"])
    return None


def _existing_fields(b24: B24Client, options: RegistryOptions, iblock_id: str) -> dict[str, str]:
    """CODE → FIELD_ID. The docs' sample keys the answer by the field type, the portal's code by
    FIELD_ID (needs a live check): either way each value carries FIELD_ID and CODE."""
    result = b24.call(
        "lists.field.get", {"IBLOCK_TYPE_ID": options.list_iblock_type_id, "IBLOCK_ID": iblock_id}
    ).result
    rows = result.values() if isinstance(result, Mapping) else result if isinstance(result, list) else []
    found: dict[str, str] = {}
    for row in rows:
        if isinstance(row, Mapping) and row.get("CODE") and row.get("FIELD_ID"):
            found[str(row["CODE"])] = str(row["FIELD_ID"])
    return found


def ensure_list(
    b24: B24Client, options: RegistryOptions, *, dry_run: bool
) -> tuple[RegistryList | None, list[SetupProblem | str]]:
    """Find or create the list and its fields; None with a problem when it cannot be had."""
    results: list[SetupProblem | str] = []
    try:
        iblock_id = _find_list(b24, options)
        if iblock_id is None:
            if dry_run:
                return None, [f"payment registry: would create the list «{options.list_name}»"]
            try:
                iblock_id = str(
                    b24.call(
                        "lists.add",
                        {
                            "IBLOCK_TYPE_ID": options.list_iblock_type_id,
                            "IBLOCK_CODE": options.list_code,
                            "FIELDS": {
                                "NAME": options.list_name,
                                "DESCRIPTION": "Оплаты из 1С по сделкам (мост 1С:УНФ ↔ Битрикс24)",
                                "SORT": 500,
                                "BIZPROC": "N",
                            },
                        },
                    ).result
                )
                results.append(f"payment registry: created the list «{options.list_name}» (id {iblock_id})")
            except B24Error as error:
                if error.code.upper() != _IBLOCK_EXISTS:
                    raise
                iblock_id = _find_list(b24, options)  # made meanwhile by a parallel setup run
                if iblock_id is None:
                    raise
        existing = _existing_fields(b24, options, iblock_id)
        fields: dict[str, str] = {}
        for spec in FIELD_SPECS:
            if spec.code in existing:
                fields[spec.key] = existing[spec.code]
                continue
            if dry_run:
                results.append(f"payment registry: would add the field {spec.code}")
                continue
            params: dict[str, Any] = {
                "NAME": options.list_field_names.get(spec.key, spec.code),
                "TYPE": spec.type,
                "CODE": spec.code,
                "IS_REQUIRED": "N",
                "MULTIPLE": "N",
            }
            if spec.settings:
                params["USER_TYPE_SETTINGS"] = dict(spec.settings)
            fields[spec.key] = str(
                b24.call(
                    "lists.field.add",
                    {"IBLOCK_TYPE_ID": options.list_iblock_type_id, "IBLOCK_ID": iblock_id, "FIELDS": params},
                ).result
            )
            results.append(f"payment registry: added the field {spec.code} ({fields[spec.key]})")
    except B24Error as error:
        return None, [
            SetupProblem(
                "Bitrix24 universal lists",
                f"the payment registry list could not be set up: {error}",
                "allow the webhook the `lists` scope as an administrator, or set "
                "[payments.registry] list_iblock_id / kind, then run setup again",
            )
        ]
    return RegistryList(iblock_id, fields), results


def element_fields(
    name: str, values: Mapping[str, Any], field_ids: Mapping[str, str], state: str
) -> dict[str, Any]:
    """`FIELDS` of the element: NAME and every mapped value (update replaces all of them)."""
    fields: dict[str, Any] = {"NAME": name}
    for key, property_id in field_ids.items():
        if key == "state":
            fields[property_id] = state
        elif key in values:
            fields[property_id] = values[key]
    return fields
