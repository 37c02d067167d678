"""Goal 2: the 10 000-product first load under Bitrix24's operating-time limit, and 50 000 projected.

    python -m bench.operating_time [--scale 10000] [--speed 4] [--skip-fast-bitrix24]

The emulator runs with both limits on: the standard plan's bucket (50, 2/s) and the per-method
budget of 480 s of server time per 10 minutes, charged per call by its default method costs
(sandbox/b24/config.py: catalog.product.add 0.06 s, catalog.price.add 0.05 s — a flat-out
10 000 load bills 600 s and 500 s). The bucket, the operating ledger and both clients run on one
clock `--speed` times faster than real, so the 10-minute window passes in 600 ÷ speed seconds.

Reported: blocked calls (429 OPERATION_TIME_LIMIT, top level and inside batches), the time on the
shared clock ("portal time": what a real run would take, waits included; local processing counts
`speed` times over, so it is an upper bound) and the wall time. The 50 000 figure is projected
from the operating time per product the emulator's costs bill: the window lets `0.9 × 480 s`
through per method per 10 minutes (our client's headroom), so with B the busiest method's total
and R the rate-bound time, time ≈ (⌈B ÷ 432⌉ − 1) × 600 s + R × (what is left for the last
window) ÷ B, and never less than R. Writes bench/results/operating_time.json.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from typing import Any

import httpx

from bench.catalog_load import (
    BURST,
    PER_SECOND,
    RESULTS,
    machine,
    quick,
    request_figures,
    run_fast_bitrix24,
    world,
)
from bridge.b24.operating import WINDOW_S
from bridge.catalog.nomenclature import sync_nomenclature
from bridge.catalog.resolved import resolved_config
from bridge.catalog.setup import setup as catalog_setup

BUDGET_S, HEADROOM = 480.0, 0.9


def operating_by_method(calls: list[dict[str, Any]], costs: dict[str, float]) -> dict[str, float]:
    """Server seconds billed per method, from the journal and the emulator's costs."""
    billed: dict[str, float] = {}
    for call in calls:
        if call["method"] == "batch" or call.get("error"):
            continue
        billed[call["method"]] = billed.get(call["method"], 0.0) + costs.get(call["method"], 0.0)
    return billed


def projected_s(products: int, per_product: dict[str, float], requests_per_product: float) -> float:
    """Wall time of a first load of `products` paced under the budget (see the module docstring)."""
    allowed = BUDGET_S * HEADROOM
    busiest = max(per_product.values(), default=0.0) * products
    rate_bound = max(0.0, requests_per_product * products - BURST) / PER_SECOND
    if busiest <= allowed:
        return rate_bound
    windows = math.ceil(busiest / allowed) - 1  # windows filled and waited out before the last share
    last_share = busiest - windows * allowed
    return max(rate_bound, windows * WINDOW_S + last_share / busiest * rate_bound)


def run_ours(scale: int, speed: float) -> dict[str, Any]:
    with world(scale, speed, operating=True) as env:
        table, _db = env.table()
        ports = env.ports(table)
        catalog_setup(ports, dry_run=False)
        resolved = resolved_config(ports.store).load()
        env.clear_journals()
        env.waited_s = 0.0
        clock_start, started = env.clock(), time.monotonic()
        report = sync_nomenclature(ports, resolved)
        elapsed = time.monotonic() - started
        portal_s = env.clock() - clock_start
        calls = env.b24_calls()
        costs = httpx.get(f"{env.b24}/_sandbox/rate-limit", timeout=30).json().get("method_costs") or {}
        products = report.counts["products created"]
        return {
            **request_figures(calls),
            "products": products,
            "failed": report.failed,
            "elapsed_s": round(elapsed, 1),
            "portal_time_s": round(portal_s, 1),
            "waits_portal_s": round(env.waited_s * speed, 1),
            "calls": calls,
            "costs": costs,
        }


def main(argv: list[str] | None = None) -> None:
    from sandbox.b24.config import DEFAULT_METHOD_COSTS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=10_000)
    parser.add_argument("--speed", type=float, default=None, help="clock speed-up (default 4, quick 8)")
    parser.add_argument("--skip-fast-bitrix24", action="store_true")
    args = parser.parse_args(argv if argv is not None else [])
    speed = args.speed if args.speed is not None else (8.0 if quick() else 4.0)
    print(
        f"Operating time: {args.scale} products, bucket 50 / 2 req/s + 480 s per method per 10 min, "
        f"clock ×{speed:g}",
        flush=True,
    )
    ours = run_ours(args.scale, speed)
    calls, _ = ours.pop("calls"), ours.pop("costs")
    costs = DEFAULT_METHOD_COSTS
    billed = operating_by_method(calls, costs)
    per_product = {m: s / max(ours["products"], 1) for m, s in billed.items() if m.startswith("catalog.")}
    requests_per_product = ours["requests"] / max(ours["products"], 1)
    projection = projected_s(50_000, per_product, requests_per_product)
    ours["operating_s_by_method"] = {m: round(s, 1) for m, s in billed.items()}
    print(
        f"  ours {args.scale}: {ours['blocked_429']} blocked calls, {ours['requests']} requests, "
        f"{ours['http_503']} × 503, portal time {ours['portal_time_s']:.0f} s "
        f"(model {projected_s(ours['products'], per_product, requests_per_product):.0f} s), "
        f"wall {ours['elapsed_s']:.0f} s at ×{speed:g}",
        flush=True,
    )
    print(
        f"  ours 50000 projected: {projection:.0f} s ({projection / 60:.0f} min), 0 blocked by construction"
    )
    theirs = None
    if not args.skip_fast_bitrix24:
        theirs = run_fast_bitrix24(args.scale, speed, operating=True)
        print(
            f"  fast_bitrix24 {args.scale}: {theirs['blocked_429']} blocked calls, "
            f"{theirs['products']} products, {theirs['prices']} prices, "
            f"{theirs['elapsed_s']:.0f} s wall, error: {theirs['error']}",
            flush=True,
        )
    result = {
        "bench": "operating-time limit, first load",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine(),
        "speed": speed,
        "budget_s": BUDGET_S,
        "headroom": HEADROOM,
        "method_costs": costs,
        "ours": ours,
        "projected_50000_s": round(projection),
        "fast_bitrix24": theirs,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "operating_time.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), "utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
