"""Shared pieces of the deal acceptance tests: one local stack, a clean world per test."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from bridge.setup import SetupReport
from sandbox.demo_steps.deal_world import B24Rest, clear_table, run_setup
from sandbox.local import LocalStack, LocalStackConfig, emulators
from sandbox.onec.testing import url


def start_stack(moto_endpoint: str) -> Iterator[LocalStack]:
    config = LocalStackConfig.ephemeral(
        moto_url=moto_endpoint, schedules=False, prefix=f"d{uuid.uuid4().hex[:6]}-"
    )
    with LocalStack(config) as stack:
        yield stack


def fresh(stack: LocalStack) -> SetupReport:
    """Reset both emulators, re-bind the events, empty SyncTable, run setup."""
    assert stack.b24 is not None
    assert stack.onec is not None
    httpx.post(stack.b24.url + "/_sandbox/reset").raise_for_status()
    httpx.post(stack.onec.url + "/_sandbox/reset").raise_for_status()
    emulators.bind_b24_events(stack.b24_webhook_url, stack.api_url + "/b24/events")
    clear_table(stack.client("dynamodb"), stack.model.tables["SyncTable"].name)
    report = run_setup(stack)
    deals = next(step for step in report.steps if step.name == "deals")
    assert not deals.problems, report.lines()
    return report


def onec_get(stack: LocalStack, path: str, **params: str) -> Any:
    answer = httpx.get(
        stack.onec_base_url + url(path, **{"$format": "json", **params}), auth=("odata", "odata"), timeout=10
    )
    answer.raise_for_status()
    return answer.json()


def seed(stack: LocalStack) -> dict[str, dict[str, str]]:
    assert stack.onec is not None
    data: dict[str, dict[str, str]] = httpx.get(stack.onec.url + "/_sandbox/seed").json()
    return data


def orders_for(stack: LocalStack, deal_id: int) -> list[dict[str, Any]]:
    prop = seed(stack)["ChartOfCharacteristicTypes_ДополнительныеРеквизитыИСведения"]["ID сделки Битрикс24"]
    flt = f"ДополнительныеРеквизиты/any(d: d/Свойство_Key eq guid'{prop}' and d/Значение eq '{deal_id}')"
    rows: list[dict[str, Any]] = onec_get(stack, "Document_ЗаказПокупателя", **{"$filter": flt})["value"]
    return rows


def eventually[T](probe: Callable[[], T | None], timeout: float = 90.0) -> T:
    """Poll until `probe` returns something truthy (the pipeline is asynchronous)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.3)


def deal_with_new_company(stack: LocalStack, rest: B24Rest, *, quantity: int = 10, comments: str = "") -> int:
    bolt = seed(stack)["Catalog_Номенклатура"]["Болт М10х50"]
    product = rest.product("Болт М10х50", bolt)
    company, contact = rest.company_with_contact("Гамма ООО", "7712345678", "771201001")
    row = {
        "PRODUCT_ID": product,
        "PRODUCT_NAME": "Болт М10х50",
        "PRICE": 15,
        "QUANTITY": quantity,
        "MEASURE_CODE": 796,
    }
    return rest.deal(
        "Заказ болтов",
        rest.stage_id("Продажи", "Продажа материала"),
        company,
        contact,
        [row],
        comments=comments,
    )


def settled_order(stack: LocalStack, deal_id: int, rows: int = 1) -> dict[str, Any]:
    """The deal's order once it carries `rows` goods rows and the deal shows its number."""
    rest = B24Rest(stack.b24_webhook_url)

    def probe() -> dict[str, Any] | None:
        found = orders_for(stack, deal_id)
        if len(found) != 1 or len(found[0]["Запасы"]) != rows:
            return None
        deal = rest.call("crm.deal.get", {"id": deal_id})
        return found[0] if deal.get("UF_CRM_1C_ORDER_REF") == found[0]["Ref_Key"] else None

    return eventually(probe)
