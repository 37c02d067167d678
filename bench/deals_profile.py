"""P3, one worker invocation profiled: `python -m bench.deals_profile [--deals 10]`.

In-process, not the whole stack: both emulators (threads), SyncTable on moto, the real queue
worker with the deal flow's coalescing as bridge.deps wires it (the fault tests' world). N deals
wait in «Продажа материала» with new companies; one invocation takes their N move events, a
second one their N echoes (the ONCRMDEALUPDATE our write-back raises). Per invocation it counts,
per deal: DynamoDB calls by operation (claims, links, idempotency records, leases, audit all go
through the one SyncTable client), 1C calls, Bitrix24 requests; and where this thread's CPU goes
(cProfile; the emulators' threads are not profiled).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import time
from collections import Counter
from typing import Any

import httpx

from bench.deals_load import RESULTS_DIR


def _kinds(params: dict[str, Any]) -> list[str]:
    """The SyncTable item kinds a request touches (the pk's prefix: LINK, CLAIM, IDEM, AUDIT…)."""
    items = [
        t.get(k, {})
        for t in params.get("TransactItems", [])
        for k in ("Put", "Update", "Delete", "ConditionCheck")
    ]
    items.append(params)
    kinds = []
    for item in items:
        key = item.get("Key") or item.get("Item") or {}
        pk = key.get("pk", {}).get("S", "")
        if pk:
            kinds.append(pk.split("#", 1)[0])
    return kinds or ["?"]


def _onec_seq(world: Any) -> int:
    return int(httpx.get(f"{world.world.onec.url}/_sandbox/calls").json()["last_seq"])


def _onec_calls(world: Any, since: int) -> Counter[str]:
    calls = httpx.get(f"{world.world.onec.url}/_sandbox/calls", params={"since": since}).json()["calls"]
    return Counter(f"{c['method']} {c['path'].split('(')[0]}" for c in calls)


def _invocation(world: Any, dynamo: Counter[str], label: str, deals: int) -> dict[str, Any]:
    b24_from = int(world.rest.sandbox("/_sandbox/calls")["cursor"])
    onec_from = _onec_seq(world)
    dynamo.clear()
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    invocation = world.invoke_once()
    profile.disable()
    elapsed = time.perf_counter() - started
    if invocation is None or invocation.failed:
        raise RuntimeError(f"{label}: the invocation did not handle every record: {invocation}")
    b24 = world.rest.sandbox(f"/_sandbox/calls?since={b24_from}")["calls"]
    requests = [c for c in b24 if "batch" not in c]
    onec = _onec_calls(world, onec_from)
    text = io.StringIO()
    pstats.Stats(profile, stream=text).sort_stats("cumulative").print_stats("bridge", 25)
    cpu = sum(row[2] for row in pstats.Stats(profile).stats.values())  # type: ignore[attr-defined]
    return {
        "invocation": label,
        "records": len(invocation.records),
        "wall_s": round(elapsed, 3),
        "profiled_wall_s": round(cpu, 3),
        "dynamodb_per_deal": round(sum(dynamo.values()) / deals, 2),
        "dynamodb": dict(dynamo.most_common()),
        "onec_per_deal": round(sum(onec.values()) / deals, 2),
        "onec": dict(onec.most_common()),
        "b24_requests": len(requests),
        "top_cumulative_bridge": [line for line in text.getvalue().splitlines() if "bridge" in line][:25],
    }


def run(deals: int) -> list[dict[str, Any]]:
    from sandbox.moto_server import start_moto
    from tests.harness.faults import FaultWorld

    server, url = start_moto()
    world = FaultWorld(url)
    try:
        world.fresh()
        world.coalesce = True
        dynamo: Counter[str] = Counter()

        def count(event_name: str, params: dict[str, Any], **_: Any) -> None:
            dynamo[f"{event_name.rsplit('.', 1)[-1]} {' + '.join(_kinds(params))}"] += 1

        world.ports.store.table.client.meta.events.register("provide-client-params.dynamodb", count)
        ids = [world.new_deal(f"Профиль {n}", f"79{n:08d}") for n in range(deals)]
        for deal in ids:
            world.event("ONCRMDEALUPDATE", deal)
        moves = _invocation(world, dynamo, "moves", deals)
        for deal in ids:
            world.event("ONCRMDEALUPDATE", deal)
        echoes = _invocation(world, dynamo, "echoes", deals)
        return [moves, echoes]
    finally:
        world.stop()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deals", type=int, default=10)
    args = parser.parse_args()
    results = run(args.deals)
    for result in results:
        print(
            f"deals_profile: {result['invocation']}: {result['records']} records in {result['wall_s']} s "
            f"(profiled {result['profiled_wall_s']} s); per deal: DynamoDB {result['dynamodb_per_deal']} "
            f"{result['dynamodb']}, 1C {result['onec_per_deal']} {result['onec']}; "
            f"Bitrix24 requests {result['b24_requests']}"
        )
    (RESULTS_DIR / "deals_profile.json").write_text(
        json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    print(f"written {RESULTS_DIR / 'deals_profile.json'}")


if __name__ == "__main__":
    main()
