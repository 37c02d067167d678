"""P2: one stock cycle over N linked products with 1 % of the balances changed.

    python -m bench.stock_cycle [--scale 50000] [--changed 0.01] [--speed 1]

Both emulators run in a child process (bench.catalog_load.world): 1C holds N items with stock, the
Bitrix24 emulator (rate limit ON, standard plan) N products as an earlier load left them, and
SyncTable (moto) the manifests that load wrote (segments of many entries each). Measured:
Bitrix24 requests and commands, 1C requests, SyncTable requests by operation, wall time without
rate waits, and the flow's peak Python memory (tracemalloc, this process only).
Writes bench/results/stock_cycle.json.
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from collections import Counter
from typing import Any

from bench.catalog_load import RESULTS, item_ref, request_figures, world
from bridge.catalog.model import MANIFEST_ITEMS, MANIFEST_STOCK, Stored
from bridge.catalog.resolved import CatalogResolved
from bridge.catalog.stock import sync_stock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=50_000)
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument("--speed", type=float, default=1.0, help="limiter clock speed-up (1 = real rate)")
    args = parser.parse_args()
    print(
        f"P2: stock cycle over {args.scale} products, {args.changed:.0%} changed, "
        f"limiter clock ×{args.speed:g}"
    )
    with world(args.scale, args.speed, b24_products=args.scale) as env:
        every = max(int(1 / args.changed), 1)
        table, _db = env.table()
        ports = env.ports(table)
        # What the earlier load and the last cycle wrote: every product, and 1C's quantity except for
        # every `every`-th item, which changed since.
        ports.store.manifests.put_changes(
            {
                MANIFEST_ITEMS: (
                    {item_ref(i): Stored(i + 1, "AAAAAAAAAAA=", "fp").encode() for i in range(args.scale)},
                    (),
                ),
                MANIFEST_STOCK: (
                    {
                        item_ref(i): str(i % 50 + 1 + (1000 if i % every == 0 else 0))
                        for i in range(args.scale)
                    },
                    (),
                ),
            }
        )
        requests: Counter[str] = Counter()
        ports.store.table.client.meta.events.register(
            "before-call.dynamodb.*", lambda model, **_: requests.update([model.name])
        )
        resolved = CatalogResolved(
            iblock_id=23,
            price_type_id=1,
            currency="RUB",
            article_property_id=None,
            article_field="code",
            stock_mode="quantity",
            store_id=None,
            price_kind_ref="00000000-0000-0000-0000-000000000001",
            warehouse_refs=(),
        )
        env.clear_journals()
        env.waited_s = 0.0
        tracemalloc.start()
        started = time.monotonic()
        report = sync_stock(ports, resolved)
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        b24 = request_figures(env.b24_calls())
        onec_calls = env.onec_calls()
        products = httpx_products(env.b24)
        changed_ok = all(products[i + 1]["quantity"] == i % 50 + 1 for i in range(0, args.scale, every))
    result: dict[str, Any] = {
        "bench": "P2 stock cycle",
        "scale": args.scale,
        "changed": report.counts["quantities written"],
        "b24": b24,
        "onec_requests": len(onec_calls),
        "onec_paths": sorted({c["path"].split("(")[0] for c in onec_calls}),
        "wall_s": round(elapsed, 2),
        "rate_waits_s": round(env.waited_s, 2),
        "wall_without_rate_waits_s": round(elapsed - env.waited_s, 2),
        "peak_memory_mb": round(peak / 2**20, 1),
        "synctable_requests": dict(sorted(requests.items())),
        "failed": report.failed,
        "quantities_correct": changed_ok,
    }
    print("  " + json.dumps(result, ensure_ascii=False))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "stock_cycle.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), "utf-8")


def httpx_products(b24_url: str) -> dict[int, dict[str, Any]]:
    import httpx

    rows = httpx.get(f"{b24_url}/_sandbox/tables/products", timeout=300).json()
    return {int(row["id"]): row for row in rows}


if __name__ == "__main__":
    main()
