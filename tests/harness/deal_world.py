"""The in-process deal world of the integration tests (`sandbox.world.deals.World`): setup on a
reset world, 1C reads, and a deal as a manager makes it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from bridge.ports import Ports
from bridge.setup import run_steps
from sandbox.world import onec as onec_reads
from sandbox.world.deals import World, linked_product
from sandbox.world.rest import B24Rest
from tests.harness import onec as harness_onec

type Step = tuple[str, Callable[..., Any]]


def ready(world: World, *steps: Step) -> World:
    """Fresh emulators and table, then the named setup steps (they must succeed)."""
    world.reset()
    report = run_steps(list(steps), ports(world), dry_run=False)
    assert report.ok, report.lines()
    return world


def ports(world: World) -> Ports:
    assert world.ports is not None
    return world.ports


def onec(world: World, path: str, **params: str) -> Any:
    return onec_reads.get(world.onec_url, path, **params)


def seed(world: World) -> dict[str, dict[str, str]]:
    assert world.onec is not None
    return onec_reads.seed(world.onec.url)


def orders_for(world: World, deal_id: int) -> list[dict[str, Any]]:
    assert world.onec is not None
    return harness_onec.orders_for(world.onec_url, world.onec.url, deal_id)


def new_deal(world: World, *, quantity: int = 10, product: str = "Болт М10х50", linked: bool = True) -> int:
    rest = B24Rest(world.b24_webhook_url)
    nomenclature = seed(world)["Catalog_Номенклатура"][product]
    if linked:
        product_id = linked_product(rest, ports(world).store.links, product, nomenclature, "catalog")
    else:
        product_id = rest.product(product, nomenclature)
    return deal_at_trigger(
        rest, product_id, product, quantity, title="Заказ болтов", comments="Доставка [B]до 10:00[/B]"
    )


def deal_at_trigger(
    rest: B24Rest,
    product_id: int,
    product: str,
    quantity: int,
    *,
    title: str,
    company: tuple[str, str, str] = ("Гамма ООО", "7712345678", "771201001"),
    comments: str = "",
) -> int:
    """A deal in «Продажа материала» for a new company and contact, with one product row."""
    firm, contact = rest.company_with_contact(*company)
    return rest.deal(
        title,
        rest.stage_id("Продажи", "Продажа материала"),
        firm,
        contact,
        [rest.goods_row(product_id, product, quantity)],
        comments,
    )


def onec_seq(world: World) -> int:
    """The 1C emulator's journal position: calls after it are the ones `onec_calls` returns."""
    assert world.onec is not None
    return int(httpx.get(f"{world.onec.url}/_sandbox/calls", timeout=10).json()["last_seq"])


def onec_calls(world: World, since: int) -> list[str]:
    """The 1C calls made after `since`, as "METHOD path" lines."""
    assert world.onec is not None
    answer = httpx.get(f"{world.onec.url}/_sandbox/calls", params={"since": since}, timeout=10).json()
    return [f"{c['method']} {c['path']}" for c in answer["calls"]]
