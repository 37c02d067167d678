"""Deal → order call budget and latency: `python -m bench.deal_flow [--deals N]`.

In-process flow (`bridge.deals.flow.sync_deal`) over HTTP against both emulators and a moto
SyncTable. Each deal has a new company (INN, KPP) and contact and one catalog-linked product, in
the trigger stage. Calls are counted from the emulators' journals (a Bitrix24 batch counts once,
its sub-commands are not calls); the first deal also pays for the per-process employee directory.
Target (issue 4): ≤ 2 Bitrix24 calls and ≤ 6 1C calls per new deal with a new counterparty.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import httpx

RESULTS = Path(__file__).parent / "results" / "deal_flow.json"


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def run(deals: int = 20) -> dict[str, Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-central-1")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Bench")
    from bridge.catalog.setup import setup as catalog_setup
    from bridge.deals.flow import sync_deal
    from bridge.deals.setup import setup as deal_setup
    from bridge.setup import run_steps
    from sandbox.moto_server import start_moto
    from sandbox.world.deals import World, linked_product
    from sandbox.world.rest import B24Rest

    server, moto_url = start_moto()
    world = World(moto_url).start()
    try:
        assert world.ports is not None
        assert world.b24 is not None
        assert world.onec is not None
        report = run_steps([("deals", deal_setup), ("catalog", catalog_setup)], world.ports, dry_run=False)
        if not report.ok:
            raise SystemExit("\n".join(report.lines()))
        rest = B24Rest(world.b24_webhook_url)
        bolt = httpx.get(world.onec.url + "/_sandbox/seed").json()["Catalog_Номенклатура"]["Болт М10х50"]
        product = linked_product(rest, world.ports.store.links, "Болт М10х50", bolt, "bench")
        stage = rest.stage_id("Продажи", "Продажа материала")
        per_deal: list[dict[str, Any]] = []
        for index in range(deals):
            company, contact = rest.company_with_contact(
                f"Бенч {index} ООО", f"77{index:08d}", "770101001", contact=("Иван", f"Бенчев{index}")
            )
            row = rest.goods_row(product, "Болт М10х50", 2)
            deal_id = rest.deal(f"Бенч {index}", stage, company, contact, [row])
            b24_from = rest.sandbox("/_sandbox/calls")["cursor"]
            onec_from = httpx.get(world.onec.url + "/_sandbox/calls").json()["last_seq"]
            started = time.perf_counter()
            note = sync_deal(deal_id, world.ports)
            elapsed = time.perf_counter() - started
            b24_calls = [
                c["method"]
                for c in rest.sandbox(f"/_sandbox/calls?since={b24_from}")["calls"]
                if "batch" not in c
            ]
            onec_calls = [
                f"{c['method']} {c['path'].split('(')[0]}"
                for c in httpx.get(world.onec.url + "/_sandbox/calls", params={"since": onec_from}).json()[
                    "calls"
                ]
            ]
            per_deal.append(
                {
                    "deal": deal_id,
                    "note": note,
                    "b24": b24_calls,
                    "onec": onec_calls,
                    "seconds": round(elapsed, 4),
                }
            )
        warm = per_deal[1:] or per_deal
        latencies = [d["seconds"] for d in per_deal]
        result = {
            "deals": deals,
            "b24_calls_per_deal": {
                "first": len(per_deal[0]["b24"]),
                "max_warm": max(len(d["b24"]) for d in warm),
            },
            "onec_calls_per_deal": {
                "first": len(per_deal[0]["onec"]),
                "median_warm": statistics.median(len(d["onec"]) for d in warm),
                "max_warm": max(len(d["onec"]) for d in warm),
            },
            "handler_latency_s": {"median": statistics.median(latencies), "p95": _p95(latencies)},
            "target": {"b24": 2, "onec": 6},
            "first_deal_calls": {"b24": per_deal[0]["b24"], "onec": per_deal[0]["onec"]},
            "warm_deal_calls": {"b24": warm[-1]["b24"], "onec": warm[-1]["onec"]},
        }
    finally:
        world.stop()
        server.stop()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deals", type=int, default=20)
    result = run(parser.parse_args().deals)
    b24, onec, latency = (
        result["b24_calls_per_deal"],
        result["onec_calls_per_deal"],
        result["handler_latency_s"],
    )
    print(
        f"deal_flow: Bitrix24 calls per new deal: first {b24['first']}, "
        f"warm max {b24['max_warm']} (target ≤ 2)"
    )
    print(
        f"deal_flow: 1C calls per new deal + new counterparty: first {onec['first']}, "
        f"warm median {onec['median_warm']}, max {onec['max_warm']} (target ≤ 6)"
    )
    print(f"deal_flow: handler latency median {latency['median']:.3f} s, p95 {latency['p95']:.3f} s")
    print(f"deal_flow: warm 1C calls: {', '.join(result['warm_deal_calls']['onec'])}")
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
