"""Parties walk for the demo: a counterparty travels 1C → Bitrix24, a company Bitrix24 → 1C."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

from sandbox.world.rest import B24Rest

if TYPE_CHECKING:
    from sandbox.local.stack import LocalStack

FUNCTION = "PartiesSyncFunction"


def _onec(
    http: httpx.Client, stack: LocalStack, method: str, path: str, body: Any = None, **options: str
) -> Any:
    query = "&".join(f"{k}={v.replace(' ', '%20')}" for k, v in {"$format": "json", **options}.items())
    response = http.request(
        method, f"{stack.onec_base_url}{path}?{query}", json=body, auth=("odata", "odata")
    )
    response.raise_for_status()
    data = response.json()
    return data.get("value", data)


INVOKE_TIMEOUT_S = 300.0


def _wait(probe: Callable[[], Any], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.5)
    return None


def run(stack: LocalStack, say: Callable[[str], None]) -> None:
    if FUNCTION not in stack.model.functions:
        say(f"parties: {FUNCTION} is not in the template yet (see .work/template-parties.yaml); skipped")
        return
    rest = B24Rest(stack.b24_webhook_url)
    # A run is synchronous and its first one loads every seeded counterparty through the paced
    # Bitrix24 bucket: give it the function's own budget, not an HTTP default (a busy machine is slow).
    with httpx.Client(timeout=INVOKE_TIMEOUT_S) as http:
        invoke = f"{stack.api_url}/_local/invoke/{FUNCTION}"
        http.post(invoke, content=b"")  # the first load: the seeded directories
        _onec(
            http,
            stack,
            "POST",
            "Catalog_Контрагенты",
            {
                "Description": "Демо-Покупатель ООО",
                "ВидКонтрагента": "ЮридическоеЛицо",
                "ИНН": "7700000777",
                "КПП": "770001001",
                "Покупатель": True,
                "Комментарий": "создан в 1С",
            },
        )
        say("1C: counterparty «Демо-Покупатель ООО» (ИНН 7700000777, Покупатель) created")
        result = http.post(invoke, content=b"").json()
        say(f"schedule {FUNCTION}: {len(result.get('outcomes', {}))} object(s) looked at")
        companies = rest.call("crm.company.list", {"filter": {"TITLE": "Демо-Покупатель ООО"}})
        for company in companies:
            [requisite] = rest.call(
                "crm.requisite.list",
                {"filter": {"ENTITY_TYPE_ID": 4, "ENTITY_ID": company["ID"]}},
            )
            say(
                f"Bitrix24: company #{company['ID']} {company['TITLE']!r} type {company['COMPANY_TYPE']}, "
                f"requisite ИНН {requisite['RQ_INN']} КПП {requisite['RQ_KPP']}"
            )
        company_id = rest.call(
            "crm.company.add",
            {"fields": {"TITLE": "Демо-Поставщик", "COMPANY_TYPE": "SUPPLIER"}},
        )
        rest.call(
            "crm.requisite.add",
            {
                "fields": {
                    "ENTITY_TYPE_ID": 4,
                    "ENTITY_ID": company_id,
                    "PRESET_ID": 1,
                    "NAME": "Демо",
                    "RQ_INN": "7700000888",
                }
            },
        )
        rest.call(
            "crm.contact.add",
            {"fields": {"NAME": "Инна", "LAST_NAME": "Демина", "COMPANY_ID": company_id}},
        )
        say(f"Bitrix24: manager created company #{company_id} «Демо-Поставщик» with contact «Демина Инна»")
        row = _wait(
            lambda: _onec(http, stack, "GET", "Catalog_Контрагенты", **{"$filter": "ИНН eq '7700000888'"})
        )
        person = _wait(
            lambda: _onec(
                http, stack, "GET", "Catalog_КонтактныеЛица", **{"$filter": "Description eq 'Демина Инна'"}
            )
        )
        if row:
            say(
                f"1C: counterparty {row[0]['Description']!r} Поставщик={row[0]['Поставщик']} "
                f"in folder {row[0]['Parent_Key']}"
            )
        else:
            say("1C: the Bitrix24 company did not arrive (is the events route bound?)")
        if person:
            say(f"1C: contact person {person[0]['Description']!r} of {person[0]['Owner_Key']}")
