"""Bitrix24 user fields: find by code, create when missing, resolve enumeration option ids.

`crm.<entity>.userfield.list` / `.add`. Codes are configured in full (`UF_CRM_1C_ORDER_NO`); the
portal adds the `UF_CRM_` prefix itself, so the add call sends the name without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bridge.b24.client import B24Client
from bridge.setup.framework import SetupProblem

UF_PREFIX = "UF_CRM_"


@dataclass(frozen=True)
class UserFieldSpec:
    code: str  # full code, UF_CRM_…
    label: str  # what people see on the card
    user_type: str  # string, double, date, money, enumeration, …
    options: tuple[str, ...] = ()  # enumeration values, in order


def _label(text: str) -> dict[str, str]:
    return {"ru": text, "en": text}


def add_params(spec: UserFieldSpec) -> dict[str, Any]:
    name = spec.code[len(UF_PREFIX) :] if spec.code.upper().startswith(UF_PREFIX) else spec.code
    fields: dict[str, Any] = {
        "FIELD_NAME": name,
        "USER_TYPE_ID": spec.user_type,
        "XML_ID": spec.code,
        "EDIT_FORM_LABEL": _label(spec.label),
        "LIST_COLUMN_LABEL": _label(spec.label),
        "LIST_FILTER_LABEL": _label(spec.label),
        "SHOW_FILTER": "Y",
    }
    if spec.options:
        fields["LIST"] = [
            {"VALUE": value, "SORT": (index + 1) * 10, "DEF": "N"} for index, value in enumerate(spec.options)
        ]
    return {"fields": fields}


def _options(row: dict[str, Any]) -> dict[str, int]:
    found: dict[str, int] = {}
    for item in row.get("LIST") or []:
        if isinstance(item, dict) and item.get("VALUE") is not None and item.get("ID") is not None:
            found[str(item["VALUE"])] = int(item["ID"])
    return found


def ensure_user_fields(
    b24: B24Client, entity: str, specs: Sequence[UserFieldSpec], *, dry_run: bool
) -> tuple[dict[str, dict[str, int]], list[SetupProblem | str]]:
    """Create missing fields; returns {code: {option value: option id}} for enumerations."""
    where = f"Bitrix24 {entity} user fields"
    existing = {
        str(row.get("FIELD_NAME")).upper(): row
        for row in b24.list_all(f"crm.{entity}.userfield.list", {"filter": {}})
    }
    results: list[SetupProblem | str] = []
    options: dict[str, dict[str, int]] = {}
    for spec in specs:
        row = existing.get(spec.code.upper())
        if row is None:
            results.append(
                f"{'would create' if dry_run else 'created'} {entity} user field {spec.code} "
                f"«{spec.label}» ({spec.user_type})"
            )
            if dry_run:
                continue
            created_id = b24.call(f"crm.{entity}.userfield.add", add_params(spec)).result
            row = b24.call(f"crm.{entity}.userfield.get", {"id": created_id}).result
        elif str(row.get("USER_TYPE_ID")) != spec.user_type:
            results.append(
                SetupProblem(
                    where,
                    f"{spec.code} is of type {row.get('USER_TYPE_ID')}, the flows write {spec.user_type}",
                    "delete the field in Bitrix24 (or configure another code) and run setup again",
                )
            )
            continue
        if spec.options:
            found = _options(row)
            missing = [value for value in spec.options if value not in found]
            if missing:
                results.append(
                    SetupProblem(
                        where,
                        f"{spec.code} has no list value(s) {', '.join(repr(m) for m in missing)}",
                        "add them to the field's list in Bitrix24 and run setup again",
                    )
                )
            options[spec.code] = {value: found[value] for value in spec.options if value in found}
    return options, results
