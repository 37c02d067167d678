"""P1: initial load of N products into a rate-limited Bitrix24 emulator (standard plan, 50 / 2 per s).

    python -m bench.catalog_load [--scale 10000] [--speed 10]

Both emulators and moto run in a child process (their CPU does not compete with the flow's).
`--speed k` runs the emulator's leaky bucket *and* our client's limiter on a clock k times faster
than real (the emulator has no accelerated mode of its own, so the bench swaps in a bucket with a
scaled clock); figures are then extrapolated to the real 2 requests/s:
time ≈ max((requests − 50 burst) / 2, processing time without rate waits). `--speed 1` measures at
the real rate. The same products are then loaded by fast_bitrix24 (its own batching and
throttling, also k× faster) into a fresh emulator, and both are compared with the ceiling
2 req/s × 50 commands ÷ commands per product. Writes bench/results/catalog_load.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx

from bridge.b24.client import B24Client
from bridge.b24.ratelimit import LocalBucket
from bridge.catalog.model import NOMENCLATURE
from bridge.catalog.nomenclature import sync_nomenclature
from bridge.catalog.resolved import ResolvedStore
from bridge.catalog.setup import ensure_resolved
from bridge.deps import Ports
from bridge.links.store import LinkStore
from bridge.onec.client import ODataClient
from bridge.settings import Mapping

RESULTS = Path(__file__).parent / "results"
WEBHOOK = "/rest/1/sandbox/"
ODATA = "/unf/odata/standard.odata/"
BURST, PER_SECOND = 50, 2.0
FOLDERS = 20  # 4 top groups × 4 subgroups + 4 more at the top


def item_ref(index: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"bench-item-{index}"))


def folder_ref(index: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"bench-folder-{index}"))


# ---- the child process: moto + both emulators -----------------------------------------------


def _populate_onec(state: Any, count: int) -> None:
    from sandbox.onec.actions import stock_record
    from sandbox.onec.seed import STOCK_PERIOD, STOCK_RECORDER_TYPE, seed_ref

    sets = state.model.sets
    for index in range(FOLDERS):
        body: dict[str, Any] = {"Description": f"Группа {index}", "IsFolder": True}
        if 4 <= index < 20 and index % 5:
            body["Parent_Key"] = folder_ref(index - index % 5)
        state.writer.create(sets[NOMENCLATURE], body, ref=folder_ref(index))
    kind = seed_ref("Catalog_ВидыЦен", "Оптовая")
    main = seed_ref("Catalog_СтруктурныеЕдиницы", "Основной склад")
    prices = state.store.records("InformationRegister_ЦеныНоменклатуры")
    for index in range(count):
        ref = item_ref(index)
        state.writer.create(
            sets[NOMENCLATURE],
            {
                # An explicit Code: the emulator's next-code scan is O(n) per object.
                "Code": f"B{index:010d}",
                "Description": f"Товар {index}",
                "НаименованиеПолное": f"Товар номер {index}",
                "Артикул": f"A-{index:06d}",
                "Parent_Key": folder_ref(index % FOLDERS),
                "ТипНоменклатуры": "Запас",
            },
            ref=ref,
        )
        prices.append(
            {
                "Period": "2024-01-01T00:00:00",
                "ВидЦен_Key": kind,
                "Номенклатура_Key": ref,
                "Характеристика_Key": "00000000-0000-0000-0000-000000000000",
                "Цена": 100.0 + index % 97,
                "Актуальность": True,
            }
        )
        state.store.stock_records.append(
            stock_record(
                seed_ref("Document_ОприходованиеЗапасов", "Начальные остатки"),
                STOCK_RECORDER_TYPE,
                STOCK_PERIOD,
                index + 1000,
                "Receipt",
                Номенклатура_Key=ref,
                СтруктурнаяЕдиница_Key=main,
                Количество=float(index % 50 + 1),
            )
        )


def _populate_b24(portal: Any, count: int, iblock_id: int = 23) -> None:
    """Products 1..count already linked (for the stock bench), as an earlier load left them."""
    table = portal.table("products")
    for index in range(count):
        product_id = index + 1
        table.put(
            product_id,
            {
                "id": product_id,
                "iblockId": iblock_id,
                "name": f"Товар {index}",
                "xmlId": item_ref(index),
                "active": "Y",
                "quantity": index % 50 + 1,
                "type": 1,
            },
        )
    table.next_id = count + 1


def _serve(conn: Any, items: int, speed: float, b24_products: int) -> None:
    from sandbox.b24 import create_app as create_b24
    from sandbox.b24.config import B24EmulatorConfig
    from sandbox.b24.limits import LeakyBucket
    from sandbox.moto_server import start_moto
    from sandbox.onec import create_app as create_onec
    from sandbox.onec.config import OneCEmulatorConfig
    from sandbox.serve import free_port, serve_in_thread

    _, moto_url = start_moto()
    b24_app = create_b24(B24EmulatorConfig(rate_limit_enabled=True, plan="standard"))
    emulator = b24_app.state.emulator
    started = time.monotonic()
    emulator.bucket = LeakyBucket(
        BURST, PER_SECOND, clock=lambda: started + (time.monotonic() - started) * speed
    )
    _populate_b24(emulator.portal, b24_products)
    port = free_port("127.0.0.1")
    onec_app = create_onec(OneCEmulatorConfig(port=port, journal_limit=1_000_000))
    _populate_onec(onec_app.state.base, items)
    b24 = serve_in_thread(b24_app, "127.0.0.1", None)
    onec = serve_in_thread(onec_app, "127.0.0.1", port)
    conn.send({"moto": moto_url, "b24": b24.url, "onec": onec.url})
    conn.recv()


@dataclass
class World:
    moto: str
    b24: str
    onec: str
    speed: float
    waited_s: float = 0.0

    def limiter(self) -> LocalBucket:
        started = time.monotonic()

        def sleep(seconds: float) -> None:
            self.waited_s += seconds / self.speed
            time.sleep(seconds / self.speed)

        return LocalBucket(
            BURST, PER_SECOND, clock=lambda: started + (time.monotonic() - started) * self.speed, sleep=sleep
        )

    def ports(self, table: str) -> Ports:
        db = boto3.client("dynamodb", endpoint_url=self.moto, region_name="eu-central-1")
        return Ports(
            b24=B24Client(self.b24 + WEBHOOK, limiter=self.limiter(), max_attempts=6),
            onec=ODataClient(self.onec + ODATA, "odata", "odata", page_size=1000),
            links=LinkStore(table, db),
            mapping=Mapping(),
        )

    def table(self) -> tuple[str, Any]:
        from sandbox.template import create_table_from_template

        db = boto3.client("dynamodb", endpoint_url=self.moto, region_name="eu-central-1")
        name = f"Bench-{uuid.uuid4().hex[:6]}"
        create_table_from_template(db, "SyncTable", name)
        return name, db

    def b24_calls(self) -> list[dict[str, Any]]:
        return list(httpx.get(f"{self.b24}/_sandbox/calls", timeout=120).json()["calls"])

    def onec_calls(self) -> list[dict[str, Any]]:
        return list(httpx.get(f"{self.onec}/_sandbox/calls", timeout=120).json()["calls"])

    def clear_journals(self) -> None:
        httpx.delete(f"{self.b24}/_sandbox/calls").raise_for_status()
        httpx.delete(f"{self.onec}/_sandbox/calls").raise_for_status()


@contextmanager
def world(items: int, speed: float, b24_products: int = 0) -> Iterator[World]:
    import os

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    parent, child = multiprocessing.get_context("fork").Pipe()
    process = multiprocessing.get_context("fork").Process(
        target=_serve, args=(child, items, speed, b24_products), daemon=True
    )
    process.start()
    urls = parent.recv()
    try:
        yield World(urls["moto"], urls["b24"], urls["onec"], speed)
    finally:
        parent.send("stop")
        process.join(5)
        if process.is_alive():
            process.terminate()


def request_figures(calls: list[dict[str, Any]]) -> dict[str, int]:
    top = [c for c in calls if c.get("batch") is None]
    return {
        "requests": len(top),
        "commands": sum(1 for c in calls if c.get("batch") is not None)
        + sum(1 for c in top if c["method"] != "batch"),
        "http_503": sum(1 for c in top if c.get("status") == 503),
    }


def extrapolated_s(requests: int, processing_s: float) -> float:
    """Time at the real 2 req/s once the 50-request burst is spent (a sustained load)."""
    return max(requests / PER_SECOND, processing_s)


# ---- our flow ---------------------------------------------------------------------------------


def run_flow(items: int, speed: float, progress: Callable[[str], None]) -> dict[str, Any]:
    with world(items, speed) as env:
        table, _db = env.table()
        ports = env.ports(table)
        resolved = ensure_resolved(ports, ResolvedStore(ports.links))
        env.clear_journals()
        env.waited_s = 0.0
        started = time.monotonic()
        report = sync_nomenclature(ports, resolved, sink=progress)
        elapsed = time.monotonic() - started
        figures = request_figures(env.b24_calls())
        products = report.counts["products created"]
        processing = elapsed - env.waited_s
        real = extrapolated_s(figures["requests"], processing)
        return {
            **figures,
            "products": products,
            "failed": report.failed,
            "commands_per_product": round(figures["commands"] / max(products, 1), 3),
            "elapsed_s": round(elapsed, 1),
            "rate_waits_s": round(env.waited_s, 1),
            "processing_s": round(processing, 1),
            "extrapolated_real_s": round(real, 1),
            "products_per_s_real": round(products / real, 1) if real else None,
            "onec_requests": len(env.onec_calls()),
        }


# ---- fast_bitrix24 ----------------------------------------------------------------------------


def run_fast_bitrix24(items: int, speed: float) -> dict[str, Any]:
    from fast_bitrix24 import BitrixAsync

    with world(items, speed) as env:
        fields = [
            {
                "fields": {
                    "iblockId": 23,
                    "name": f"Товар {i}",
                    "xmlId": item_ref(i),
                    "code": f"A-{i:06d}",
                    "detailText": f"Товар номер {i}",
                    "quantity": i % 50 + 1,
                }
            }
            for i in range(items)
        ]
        env.clear_journals()

        async def load() -> int:
            bitrix = BitrixAsync(
                env.b24 + WEBHOOK,
                verbose=False,
                request_pool_size=BURST,
                requests_per_second=PER_SECOND * speed,
            )
            created = await bitrix.call("catalog.product.add", fields)
            ids = [int(row["element"]["id"] if "element" in row else row["id"]) for row in created]
            prices = [
                {
                    "fields": {
                        "productId": pid,
                        "catalogGroupId": 1,
                        "price": 100.0 + i % 97,
                        "currency": "RUB",
                    }
                }
                for i, pid in enumerate(ids)
            ]
            await bitrix.call("catalog.price.add", prices)
            return len(ids)

        started = time.monotonic()
        error = None
        try:
            products = asyncio.run(load())
        except Exception as exc:  # the comparison reports a failure instead of aborting the bench
            products, error = 0, f"{type(exc).__name__}: {exc}"[:300]
        elapsed = time.monotonic() - started
        figures = request_figures(env.b24_calls())
        real_products = len(httpx.get(f"{env.b24}/_sandbox/tables/products", timeout=120).json())
        real = extrapolated_s(figures["requests"], 0.0)
        return {
            **figures,
            "products": real_products,
            "error": error,
            "commands_per_product": round(figures["commands"] / max(real_products, 1), 3),
            "elapsed_s": round(elapsed, 1),
            "extrapolated_real_s": round(real, 1),
            "products_per_s_real": round(real_products / real, 1) if real else None,
            "returned": products,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=10_000, help="products to load (default 10 000)")
    parser.add_argument("--speed", type=float, default=10.0, help="limiter clock speed-up (1 = real rate)")
    parser.add_argument("--skip-fast-bitrix24", action="store_true")
    args = parser.parse_args()
    print(
        f"P1: initial load of {args.scale} products, standard plan 50/2 req/s, limiter clock ×{args.speed:g}"
    )
    ours = run_flow(args.scale, args.speed, lambda line: print("  " + line, flush=True))
    print(f"  ours: {json.dumps(ours, ensure_ascii=False)}")
    theirs = None if args.skip_fast_bitrix24 else run_fast_bitrix24(args.scale, args.speed)
    if theirs is not None:
        print(f"  fast_bitrix24: {json.dumps(theirs, ensure_ascii=False)}")
    ceiling = PER_SECOND * 50 / ours["commands_per_product"] if ours["commands_per_product"] else None
    result = {
        "bench": "P1 catalog initial load",
        "scale": args.scale,
        "speed": args.speed,
        "plan": {"burst": BURST, "per_second": PER_SECOND},
        "ours": ours,
        "fast_bitrix24": theirs,
        "ceiling_products_per_s": round(ceiling, 1) if ceiling else None,
    }
    print(
        f"  ceiling: 2 req/s × 50 ÷ {ours['commands_per_product']} = "
        f"{result['ceiling_products_per_s']} products/s"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "catalog_load.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), "utf-8")


if __name__ == "__main__":
    main()
