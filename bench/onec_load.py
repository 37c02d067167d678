"""The load the bridge puts on 1C per hour at the default schedules (docs/admin-1c.md).

`python -m bench.onec_load` starts both emulators and moto, runs `setup`, then runs each scheduled
flow twice (the first run loads what the seed holds) and counts, from the 1C emulator's call
journal, the requests of the second, idle run by HTTP method. Per hour = per run × runs per hour
at the template's schedules. Event-driven work (a deal edited, a won deal, a 1C push) comes on
top and is counted per event from the same journal in the other benchmarks. Written to
bench/results/onec_load.json.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from sandbox.local import emulators
from sandbox.moto_server import start_moto
from sandbox.world.deals import REGION, World, world

RESULTS = Path(__file__).parent / "results" / "onec_load.json"
# template.yaml: PaymentsPollSchedule rate(1 minute), DealSweep rate(5 minutes), catalog
# nomenclature rate(15 minutes), stock rate(5 minutes), PartiesSchedule rate(5 minutes).
RUNS_PER_HOUR = {
    "payments_poll": 60,
    "deal_sweep": 12,
    "catalog_sync": 4,
    "stock_sync": 12,
    "parties_sync": 12,
}


def _env(running: World, moto: str) -> None:
    os.environ.update(
        {
            "BRIDGE_TABLE_NAME": running.table,
            "BRIDGE_AWS_ENDPOINT_URL": moto,
            "BRIDGE_B24_WEBHOOK_URL": running.b24_webhook_url,
            "BRIDGE_B24_APPLICATION_TOKEN": emulators.APPLICATION_TOKEN,
            "BRIDGE_ONEC_BASE_URL": running.onec_url,
            "BRIDGE_ONEC_USER": emulators.ONEC_USER,
            "BRIDGE_ONEC_PASSWORD": emulators.ONEC_PASSWORD,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }
    )
    os.environ.pop("BRIDGE_SECRET_ID", None)
    os.environ.pop("BRIDGE_MAPPING_FILE", None)


def _journal(running: World) -> list[dict[str, Any]]:
    assert running.onec is not None
    return list(httpx.get(f"{running.onec.url}/_sandbox/calls", timeout=30).json()["calls"])


def _clear(running: World) -> None:
    assert running.onec is not None
    httpx.delete(f"{running.onec.url}/_sandbox/calls", timeout=30)


def _flows() -> dict[str, Callable[[], object]]:
    from bridge import deps
    from bridge.catalog.runs import run_nomenclature, run_stock
    from bridge.deals.sweep import sweep
    from bridge.parties.poller import run as run_parties
    from bridge.payments.poller import poll

    ports = deps.default_ports()
    return {
        "payments_poll": lambda: poll(deps.payments_context()),
        "deal_sweep": lambda: sweep(ports, ports.queue),
        "catalog_sync": lambda: run_nomenclature(ports),
        "stock_sync": lambda: run_stock(ports),
        "parties_sync": lambda: run_parties(deps.parties_flow(ports)),
    }


def measure() -> dict[str, Any]:
    server, moto = start_moto()
    try:
        with world(moto) as running:
            _env(running, moto)
            from bridge import deps, operations

            deps.reset()
            setup = operations.run_setup(deps.default_ports())
            assert setup.ok, setup.lines()
            per_run: dict[str, dict[str, int]] = {}
            for name, run in _flows().items():
                run()  # first run: initial load of the seed
                _clear(running)
                run()
                per_run[name] = dict(Counter(c["method"] for c in _journal(running)))
    finally:
        server.stop()
    per_hour: Counter[str] = Counter()
    for name, methods in per_run.items():
        for method, count in methods.items():
            per_hour[method] += count * RUNS_PER_HOUR[name]
    return {
        "idle_requests_per_run": per_run,
        "runs_per_hour": RUNS_PER_HOUR,
        "idle_requests_per_hour": dict(per_hour),
        "note": "second run of each flow on the sandbox seed after setup; writes only on changes",
    }


def main() -> None:
    result = measure()
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
