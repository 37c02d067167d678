"""P1: initial load of N products into a rate-limited Bitrix24 emulator (standard plan, 50 / 2 per s).

    python -m bench.catalog_load [--sizes 1000,3000,10000] [--speed 1] [--quick]

Both emulators run in a child process and moto in another (their CPU does not compete with the
flow's). For each size our flow and fast_bitrix24 load the same products into a fresh emulator
with the same settings, one after the other, and each is timed from its first line of work to its last answer.

`--speed 1` (the default of `make bench`) is the real rate: no extrapolation. `--speed k` runs the
emulator's leaky bucket, our client's limiter and fast_bitrix24's throttle on a clock k times
faster (the quick mode, k = 4): rate-bound time shrinks k-fold, local processing does not, so
only the ratios between runs on the same clock are reported for such runs, never a real-rate
figure. The ceiling is the request floor of the API — 2 commands per priced product (the price
cannot travel with catalog.product.add, docs: "use the methods catalog.price.*"), 50 per batch —
through the bucket: (⌈2N/50⌉ − 50) ÷ 2 s at the real rate, ÷ k on a k× clock.
Writes bench/results/catalog_load.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx

from bridge import deps
from bridge.b24.client import B24Client
from bridge.b24.operating import WINDOW_S
from bridge.b24.ratelimit import SAFETY_MARGIN, LocalBucket
from bridge.catalog.nomenclature import sync_nomenclature
from bridge.catalog.resolved import resolved_config
from bridge.catalog.setup import setup as catalog_setup
from bridge.config.mapping import Mapping
from bridge.domain.onec_sets import NOMENCLATURE
from bridge.onec.client import ODataClient
from bridge.ports import Ports
from bridge.store import SyncStore

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


def scaled_clock(base: float, speed: float) -> Callable[[], float]:
    """A clock running `speed` times faster from `base`; both processes derive the same clock.

    Monotonic (system-wide on Linux, so shared by the forked emulator): this VM's wall clock was
    seen to jump by seconds during a run, which drained both buckets early and made one 3,000
    load finish below the ceiling."""
    return lambda: base + (time.monotonic() - base) * speed


def _serve(
    conn: Any, items: int, speed: float, b24_products: int, operating: bool = False, base: float = 0.0
) -> None:
    from sandbox.b24 import create_app as create_b24
    from sandbox.b24.config import B24EmulatorConfig
    from sandbox.b24.limits import LeakyBucket
    from sandbox.onec import create_app as create_onec
    from sandbox.onec.config import OneCEmulatorConfig
    from sandbox.serve import free_port, serve_in_thread

    b24_app = create_b24(
        B24EmulatorConfig(rate_limit_enabled=True, plan="standard", operating_limit_enabled=operating)
    )
    emulator = b24_app.state.emulator
    clock = scaled_clock(base, speed)
    emulator.bucket = LeakyBucket(BURST, PER_SECOND, clock=clock)
    emulator.ledger.clock = clock
    _populate_b24(emulator.portal, b24_products)
    port = free_port("127.0.0.1")
    onec_app = create_onec(OneCEmulatorConfig(port=port, journal_limit=1_000_000))
    _populate_onec(onec_app.state.base, items)
    b24 = serve_in_thread(b24_app, "127.0.0.1", None)
    onec = serve_in_thread(onec_app, "127.0.0.1", port)
    conn.send({"b24": b24.url, "onec": onec.url})
    conn.recv()


@dataclass
class World:
    moto: str
    b24: str
    onec: str
    speed: float
    base: float
    waited_s: float = 0.0
    first_request_at: float | None = None

    def clock(self) -> float:
        return scaled_clock(self.base, self.speed)()

    def sleep(self, seconds: float) -> None:
        self.waited_s += seconds / self.speed
        time.sleep(seconds / self.speed)

    def limiter(self) -> LocalBucket:
        world = self

        class Timed(LocalBucket):
            def acquire(self, cost: int = 1) -> None:
                super().acquire(cost)
                if world.first_request_at is None:
                    world.first_request_at = time.monotonic()

        return Timed(BURST, PER_SECOND, clock=self.clock, sleep=self.sleep, margin=SAFETY_MARGIN)

    def ports(self, table: str) -> Ports:
        db = boto3.client("dynamodb", endpoint_url=self.moto, region_name="eu-central-1")
        return deps.ports_for(
            B24Client(
                self.b24 + WEBHOOK,
                limiter=self.limiter(),
                max_attempts=6,
                clock=self.clock,
                sleep=self.sleep,
                # A bulk load may wait out the operating window rather than stop and resume.
                max_operating_wait_s=WINDOW_S,
            ),
            ODataClient(self.onec + ODATA, "odata", "odata", page_size=1000),
            SyncStore(table, db),
            Mapping(),
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

    def reset_bucket(self) -> None:
        httpx.post(f"{self.b24}/_sandbox/rate-limit", json={"enabled": True}).raise_for_status()

    def clear_journals(self) -> None:
        httpx.delete(f"{self.b24}/_sandbox/calls").raise_for_status()
        httpx.delete(f"{self.onec}/_sandbox/calls").raise_for_status()


@contextmanager
def world(items: int, speed: float, b24_products: int = 0, operating: bool = False) -> Iterator[World]:
    import os

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    from sandbox.moto_process import moto_in_own_process, serving_in_child

    base = time.monotonic()
    # DynamoDB is not on the Bitrix24 server: moto gets a process of its own, so its CPU does not
    # slow the emulators down (the peer writes no manifests at all).
    with (
        moto_in_own_process() as moto_url,
        serving_in_child(_serve, items, speed, b24_products, operating, base) as urls,
    ):
        yield World(moto_url, urls["b24"], urls["onec"], speed, base)


def request_figures(calls: list[dict[str, Any]]) -> dict[str, int]:
    top = [c for c in calls if c.get("batch") is None]
    return {
        "requests": len(top),
        "commands": sum(1 for c in calls if c.get("batch") is not None)
        + sum(1 for c in top if c["method"] != "batch"),
        "http_503": sum(1 for c in top if c.get("status") == 503),
        "blocked_429": sum(1 for c in calls if c.get("error") == "OPERATION_TIME_LIMIT"),
    }


def ceiling_s(products: int, speed: float) -> float:
    """The API's floor for N priced products through the bucket (burst spent first)."""
    requests = -(-2 * products // 50)
    return max(0.0, (requests - BURST) / PER_SECOND) / speed


# ---- our flow ---------------------------------------------------------------------------------


def run_flow(
    items: int, speed: float, progress: Callable[[str], None], *, operating: bool = False
) -> dict[str, Any]:
    with world(items, speed, operating=operating) as env:
        table, _db = env.table()
        ports = env.ports(table)
        catalog_setup(ports, dry_run=False)
        resolved = resolved_config(ports.store).load()
        setup_requests = request_figures(env.b24_calls())["requests"]
        # Setup runs long before a first load; its requests must not sit in the bucket the load
        # starts with (the peer starts on an empty one): both buckets start empty, as the peer's.
        env.reset_bucket()
        ports = env.ports(table)
        env.clear_journals()
        env.waited_s, env.first_request_at = 0.0, None
        started = time.monotonic()
        report = sync_nomenclature(ports, resolved, sink=progress)
        elapsed = time.monotonic() - started
        figures = request_figures(env.b24_calls())
        products = report.counts["products created"]
        first = env.first_request_at
        return {
            **figures,
            "products": products,
            "failed": report.failed,
            "commands_per_product": round(figures["commands"] / max(products, 1), 3),
            "elapsed_s": round(elapsed, 3),
            "to_first_request_s": round(first - started, 3) if first else None,
            "waits_s": round(env.waited_s, 1),
            "onec_requests": len(env.onec_calls()),
            "setup_requests_before": setup_requests,
        }


# ---- fast_bitrix24 ----------------------------------------------------------------------------


def run_fast_bitrix24(items: int, speed: float, *, operating: bool = False) -> dict[str, Any]:
    """fast_bitrix24 given ready-made fields (no 1C, no manifests): the same products as ours."""
    from fast_bitrix24 import BitrixAsync

    from sandbox.onec.seed import NOMENCLATURE_ITEMS

    with world(items, speed, operating=operating) as env:
        items += len(NOMENCLATURE_ITEMS)  # ours also loads the 1C sandbox's own items
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
        prices = len(httpx.get(f"{env.b24}/_sandbox/tables/prices", timeout=120).json())
        return {
            **figures,
            "products": real_products,
            "prices": prices,
            "error": error,
            "commands_per_product": round(figures["commands"] / max(real_products, 1), 3),
            "elapsed_s": round(elapsed, 3),
            "returned": products,
        }


def quick() -> bool:
    return os.environ.get("BENCH_QUICK", "") not in ("", "0")


def compare(size: int, speed: float, skip_peer: bool = False) -> dict[str, Any]:
    ours = run_flow(size, speed, lambda line: None)
    theirs = None if skip_peer else run_fast_bitrix24(size, speed)
    from sandbox.onec.seed import NOMENCLATURE_ITEMS

    ceiling = ceiling_s(size + len(NOMENCLATURE_ITEMS), speed)
    peer_done = theirs is not None and theirs["error"] is None and theirs["prices"] >= size
    row = {
        "size": size,
        "ours": ours,
        "fast_bitrix24": theirs,
        "ceiling_s": round(ceiling, 2),
        "ours_vs_peer": round(ours["elapsed_s"] / theirs["elapsed_s"], 3) if peer_done and theirs else None,
        # Both sides timed from their first Bitrix24 request: ours without its 1C reads, which the
        # peer, handed its fields, does not make (the goal's other reading, for the customer).
        "ours_from_first_request_vs_peer": round(
            (ours["elapsed_s"] - (ours["to_first_request_s"] or 0.0)) / theirs["elapsed_s"], 3
        )
        if peer_done and theirs
        else None,
        "ours_vs_ceiling": round(ours["elapsed_s"] / ceiling, 3) if ceiling else None,
    }
    peer = (
        f"{theirs['elapsed_s']:.2f} s ({theirs['requests']} req, {theirs['http_503']} × 503)"
        if peer_done and theirs
        else f"did not finish: {theirs['products'] if theirs else 0} products, "
        f"{theirs['prices'] if theirs else 0} prices, {theirs['error'] if theirs else 'skipped'}"
    )
    print(
        f"  P1 {size:>6}: ours {ours['elapsed_s']:.2f} s ({ours['requests']} req, {ours['http_503']} × 503, "
        f"first request after {ours['to_first_request_s']} s) | fast_bitrix24 {peer} | "
        f"ceiling {ceiling:.1f} s | ours/peer {row['ours_vs_peer']} (from the first request "
        f"{row['ours_from_first_request_vs_peer']}) | ours/ceiling {row['ours_vs_ceiling']}",
        flush=True,
    )
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,3000,10000", help="products per run, comma-separated")
    parser.add_argument("--speed", type=float, default=None, help="limiter clock speed-up (1 = real rate)")
    parser.add_argument("--quick", action="store_true", help="clock ×4 (also BENCH_QUICK=1)")
    parser.add_argument("--skip-fast-bitrix24", action="store_true")
    args = parser.parse_args(argv if argv is not None else [])
    speed = args.speed if args.speed is not None else (4.0 if args.quick or quick() else 1.0)
    sizes = [int(size) for size in args.sizes.split(",")]
    print(f"P1: initial load, standard plan 50 / 2 req/s, clock ×{speed:g}, sizes {sizes}", flush=True)
    load_before = os.getloadavg()
    rows = [compare(size, speed, args.skip_fast_bitrix24) for size in sizes]
    result = {
        # 1-minute load average before and after: the machine is shared, the figures depend on it.
        "load_avg": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "bench": "P1 catalog initial load",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine(),
        "speed": speed,
        "plan": {"burst": BURST, "per_second": PER_SECOND, "client_margin": SAFETY_MARGIN},
        "runs": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    name = "catalog_load.json" if speed == 1 else f"catalog_load_x{speed:g}.json"
    (RESULTS / name).write_text(json.dumps(result, ensure_ascii=False, indent=1), "utf-8")


def machine() -> str:
    import platform

    return (
        f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
