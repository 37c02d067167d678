"""The deal acceptance tests' world: one local stack, a clean world per test, a deal as a
manager makes it and the order it becomes."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any, NamedTuple

import httpx

from bridge.setup import SetupReport
from sandbox.local import LocalStack, LocalStackConfig, emulators
from sandbox.world import onec
from sandbox.world.deals import clear_table, run_setup
from sandbox.world.rest import B24Rest
from tests.harness import onec as harness_onec
from tests.harness.waiting import eventually


def start_stack(
    moto_endpoint: str, *, prefix: str = "d", extra_env: dict[str, str] | None = None
) -> Iterator[LocalStack]:
    """A local stack on free ports without schedules; `prefix` starts its resources' names and
    `extra_env` is added to every function's environment."""
    config = LocalStackConfig.ephemeral(
        moto_url=moto_endpoint,
        schedules=False,
        prefix=f"{prefix}{uuid.uuid4().hex[:6]}-",
        extra_env=extra_env or {},
    )
    with LocalStack(config) as stack:
        yield stack


def bare(stack: LocalStack) -> None:
    """Both systems as a fresh deploy finds them: emulators reset with the events bound, SyncTable
    empty, nothing set up."""
    assert stack.b24 is not None
    assert stack.onec is not None
    httpx.post(stack.b24.url + "/_sandbox/reset").raise_for_status()
    httpx.post(stack.onec.url + "/_sandbox/reset").raise_for_status()
    emulators.bind_b24_events(stack.b24_webhook_url, stack.api_url + "/b24/events")
    clear_table(stack.client("dynamodb"), stack.model.tables["SyncTable"].name)


def fresh(stack: LocalStack) -> SetupReport:
    """A bare world (`bare`) after setup has run."""
    bare(stack)
    report = run_setup(stack)
    deals = next(step for step in report.steps if step.name == "deals")
    assert not deals.problems, report.lines()
    return report


def onec_get(stack: LocalStack, path: str, **params: str) -> Any:
    return onec.get(stack.onec_base_url, path, **params)


def seed(stack: LocalStack) -> dict[str, dict[str, str]]:
    assert stack.onec is not None
    return onec.seed(stack.onec.url)


def orders_for(stack: LocalStack, deal_id: int) -> list[dict[str, Any]]:
    assert stack.onec is not None
    return harness_onec.orders_for(stack.onec_base_url, stack.onec.url, deal_id)


def deal_with_new_company(stack: LocalStack, rest: B24Rest, *, quantity: int = 10, comments: str = "") -> int:
    bolt = seed(stack)["Catalog_Номенклатура"]["Болт М10х50"]
    product = rest.product("Болт М10х50", bolt)
    company, contact = rest.company_with_contact("Гамма ООО", "7712345678", "771201001")
    row = rest.goods_row(product, "Болт М10х50", quantity)
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


class SyncedDeal(NamedTuple):
    rest: B24Rest
    deal_id: int
    order: dict[str, Any]


def fresh_synced_deal(stack: LocalStack, *, comments: str = "") -> SyncedDeal:
    """A fresh world (`fresh`) holding one manager's deal whose 1C order has settled."""
    fresh(stack)
    rest = B24Rest(stack.b24_webhook_url)
    deal_id = deal_with_new_company(stack, rest, comments=comments)
    return SyncedDeal(rest, deal_id, settled_order(stack, deal_id))


def dead_letter_url(stack: LocalStack) -> str:
    """The events queue's dead-letter queue, found as an operator would: by its redrive policy."""
    sqs = stack.client("sqs")
    queue = stack.function_variables("QueueWorkerFunction")["BRIDGE_QUEUE_URL"]
    redrive = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["RedrivePolicy"])["Attributes"]
    name = json.loads(redrive["RedrivePolicy"])["deadLetterTargetArn"].rsplit(":", 1)[-1]
    return str(sqs.get_queue_url(QueueName=name)["QueueUrl"])
