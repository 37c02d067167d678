"""Cost of the payments poll: one idle run and one run with 1 new payment among 10 000 orders.

`python -m bench.payments_poll [--orders N]` starts both emulators and moto in-process, seeds N
customer orders dated inside the window (only a few linked to deals, as in life most orders in a
30-day window have no new payment), lets a first run build the manifests, then measures:

- idle: nothing changed since the last run;
- idle with older open orders: as idle, plus `--old-open-orders` linked open orders dated before
  the window, which stay watched by their refs (issue 10);
- one payment: one bank receipt posted against one linked order.

Figures: 1C OData requests and Bitrix24 REST calls (from the emulators' journals), SyncTable
requests are not counted, wall time of the run on this machine. Written to
bench/results/payments_poll.json.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx

from bridge.config.mapping import Mapping
from bridge.config.payments import PaymentsMapping, RegistryOptions
from bridge.domain.onec_sets import ORDERS as ORDER_SET
from bridge.payments.manifest import OPEN_ORDERS_MANIFEST, OPEN_ORDERS_SEEDED
from bridge.payments.poller import poll
from bridge.payments.recompute import PaymentsContext
from bridge.payments.resolved import resolved_config
from sandbox.b24.app import create_app as b24_app
from sandbox.moto_server import start_moto
from sandbox.onec.app import create_app as onec_app
from sandbox.onec.config import OneCEmulatorConfig
from sandbox.serve import serve_in_thread
from sandbox.template import create_table_from_template
from sandbox.world.payments import BIZPROC_TEMPLATE_ID, PaymentsWorld

RESULTS = Path(__file__).parent / "results" / "payments_poll.json"
REGION = "eu-central-1"


def _onec_calls(world: PaymentsWorld, since: int) -> tuple[int, int]:
    answer = httpx.get(
        f"{world.onec_base_url.split('/unf/')[0]}/_sandbox/calls?since={since}", timeout=30
    ).json()
    return len(answer["calls"]), int(answer["last_seq"])


def _measure(world: PaymentsWorld, ctx: PaymentsContext) -> dict[str, Any]:
    _, onec_seq = _onec_calls(world, 10**12)
    b24_cursor = world.b24_cursor()
    started = time.perf_counter()
    report = poll(ctx)
    wall = time.perf_counter() - started
    onec_count, _ = _onec_calls(world, onec_seq)
    b24 = world.b24_calls(b24_cursor)
    return {
        "onec_requests": onec_count,
        "b24_http_calls": len([c for c in b24 if "batch_key" not in c]),
        "b24_methods": sorted(c["method"] for c in b24 if c["method"] != "batch"),
        "wall_s": round(wall, 3),
        "orders_recomputed": len(report.outcomes),
    }


def _seed_orders(app: Any, template_ref: str, count: int) -> None:
    store = app.state.base.store
    original = store.get(ORDER_SET, template_ref)
    for index in range(count):
        clone = copy.deepcopy(original)
        clone["Ref_Key"] = str(uuid.uuid4())
        clone["Number"] = f"B{index:010d}"
        store.put(ORDER_SET, clone)


def _seed_old_open_orders(app: Any, world: PaymentsWorld, template_ref: str, count: int) -> None:
    """Linked orders dated 60 days back and still open: watched by their refs every run."""
    store = app.state.base.store
    original = store.get(ORDER_SET, template_ref)
    old_date = (datetime.now(UTC) + timedelta(hours=3) - timedelta(days=60)).strftime("%Y-%m-%dT%H:%M:%S")
    for index in range(count):
        clone = copy.deepcopy(original)
        clone["Ref_Key"] = str(uuid.uuid4())
        clone["Number"] = f"O{index:010d}"
        clone["Date"] = old_date
        store.put(ORDER_SET, clone)
        world.link(100_000 + index, clone["Ref_Key"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--old-open-orders", type=int, default=200)
    args = parser.parse_args()

    moto, moto_url = start_moto()
    onec = onec_app(OneCEmulatorConfig(journal_limit=200_000))
    b24_server, onec_server = serve_in_thread(b24_app(), port=None), serve_in_thread(onec, port=None)
    try:
        dynamodb = boto3.client(
            "dynamodb",
            endpoint_url=moto_url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        table = f"bench-payments-{uuid.uuid4().hex[:6]}"
        create_table_from_template(dynamodb, "SyncTable", table)
        # A fresh burst of 10 000 unlinked orders would otherwise be re-checked for links for 10 minutes.
        options = PaymentsMapping(
            registry=RegistryOptions(bizproc_template_id=BIZPROC_TEMPLATE_ID), unlinked_recheck_minutes=0
        )
        world = PaymentsWorld(
            f"{b24_server.url}/rest/1/sandbox/",
            f"{onec_server.url}/unf/odata/standard.odata/",
            table,
            dynamodb,
            Mapping(payments=options),
        )
        world.setup()
        ports = world.ports()
        ctx = PaymentsContext(
            ports=ports,
            options=options,
            resolved=resolved_config(ports.store),
            portal_url="https://portal.example",
        )
        deal_id = world.new_deal("Бенчмарк", assigned=3, stage="PREPAYMENT_INVOICE")
        order_ref = world.new_order()
        world.link(deal_id, order_ref)
        _seed_orders(onec, order_ref, args.orders - 1)

        started = time.perf_counter()
        poll(ctx)  # builds the manifests
        first_run_s = time.perf_counter() - started

        idle = [_measure(world, ctx) for _ in range(args.repeats)]
        _seed_old_open_orders(onec, world, order_ref, args.old_open_orders)
        # As if the flow started now with these old orders: its first run looks for them once.
        ports.store.manifests.put_entries(OPEN_ORDERS_MANIFEST, {}, [OPEN_ORDERS_SEEDED])
        first_with_old = _measure(world, ctx)
        with_old = [_measure(world, ctx) for _ in range(args.repeats)]
        paid = []
        for _ in range(args.repeats):
            world.pay(order_ref, 10)
            paid.append(_measure(world, ctx))

        result = {
            "orders_in_window": args.orders,
            "first_run_s": round(first_run_s, 2),
            "idle_poll": {**idle[-1], "wall_s_median": statistics.median(r["wall_s"] for r in idle)},
            "old_open_orders_watched": args.old_open_orders,
            "first_run_finding_old_open_orders": first_with_old,
            "idle_poll_with_old_open_orders": {
                **with_old[-1],
                "wall_s_median": statistics.median(r["wall_s"] for r in with_old),
            },
            "poll_with_one_new_payment": {
                **paid[-1],
                "wall_s_median": statistics.median(r["wall_s"] for r in paid),
            },
            "note": "SyncTable (moto server) requests not counted; wall time on the sandbox machine",
        }
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", "utf-8")
        print(json.dumps(result, ensure_ascii=False, indent=2))
    finally:
        b24_server.stop()
        onec_server.stop()
        moto.stop()


if __name__ == "__main__":
    main()
