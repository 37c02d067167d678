"""Render time of the «1С» deal tab: `python -m bench.deal_tab [--opens N]`.

The whole local stack (the app's Lambda, B24AppFunction, behind the local HTTP API; both emulators;
moto). The scene is the browser test's (sandbox/world/deal_tab.py): the app installed through its
install route, a paid deal made by the deal flow, stock in two warehouses. Each open is what the
emulator's deal card does in a browser: a fresh placement request (a new token for the manager)
taken from the card's iframe, POSTed to `/b24/app/deal-tab`; the clock runs from the POST to the
last byte of the page. Fetching the frame is not timed (that is the portal's own work).

Measured, on two stacks started without prewarm (as functions that have not run for a while):
- the function's cold start: the first request to it (an empty POST, answered 400 once imported);
- the first open after install (warm container, Bitrix24 bucket as the set-up left it);
- warm opens **paced** as managers open tabs (each open waits until the shared Bitrix24 bucket has
  refilled the calls one open spends, 2/s on the standard plan; the wait is not timed): p50/p95/max,
  with the 1C stock refresh (what a manager gets) and, on the second stack, with
  `BRIDGE_DEAL_TAB_STOCK_REFRESH=false` (1C's balances shown, the catalog not written);
- warm opens **back to back** with the refresh: what the tab costs when opens outrun the budget;
- Bitrix24 and 1C calls per open, from the emulators' journals.

Results: bench/results/deal_tab.json; docs/performance.md "Deal tab".
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

RESULTS_DIR = Path(__file__).parent / "results"
PER_SECOND = 2.0  # the standard plan's refill of the shared Bitrix24 bucket


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered)) - 1))]


def _summary(values: list[float]) -> dict[str, Any]:
    return {
        "n": len(values),
        "p50_ms": round(statistics.median(values) * 1000, 1),
        "p95_ms": round(_percentile(values, 0.95) * 1000, 1),
        "max_ms": round(max(values) * 1000, 1),
    }


def _b24_cursor(b24_url: str) -> int:
    return int(httpx.get(f"{b24_url}/_sandbox/calls", timeout=30).json()["cursor"])


def _onec_seq(onec_url: str) -> int:
    return int(
        httpx.get(f"{onec_url}/_sandbox/calls", params={"since": 10**9}, timeout=30).json()["last_seq"]
    )


def _open(scene: Any) -> float:
    from sandbox.world.deal_tab import placement_request

    action, fields = placement_request(scene)
    started = time.perf_counter()
    response = httpx.post(action, data=fields, timeout=120)
    elapsed = time.perf_counter() - started
    if response.status_code != 200 or 'id="order"' not in response.text:
        raise SystemExit(f"the tab did not render: HTTP {response.status_code} {response.text[:300]}")
    return elapsed


def _series(scene: Any, opens: int, pace_s: float) -> list[float]:
    figures = []
    for _ in range(opens):
        time.sleep(pace_s)  # the bucket refills; not part of the figure
        figures.append(_open(scene))
    return figures


def _stack(moto_url: str, opens: int, *, refresh: bool) -> dict[str, Any]:
    from sandbox.local import LocalStack, LocalStackConfig
    from sandbox.world.deal_tab import install_app, paid_deal, warm
    from sandbox.world.deals import run_setup

    config = LocalStackConfig.ephemeral(
        moto_url=moto_url,
        schedules=False,
        prewarm=False,
        prefix=f"t{uuid.uuid4().hex[:6]}-",
        extra_env={} if refresh else {"BRIDGE_DEAL_TAB_STOCK_REFRESH": "false"},
    )
    with LocalStack(config) as stack:
        assert stack.onec is not None
        report = run_setup(stack)
        if not report.ok:
            raise SystemExit("\n".join(report.lines()))
        started = time.perf_counter()
        warm(stack)
        cold_s = time.perf_counter() - started
        scene = paid_deal(stack, install_app(stack))
        b24_before = _b24_cursor(scene.b24_url)
        first = _open(scene)
        # An upper bound (the deal flow's last write-backs may still be landing): it only sets the
        # pause between paced opens, so a high figure makes the pauses longer, never the figures.
        pace_s = (_b24_cursor(scene.b24_url) - b24_before) / PER_SECOND + 0.5
        b24_before, onec_before = _b24_cursor(scene.b24_url), _onec_seq(stack.onec.url)
        paced = _series(scene, opens, pace_s)
        figures: dict[str, Any] = {
            "cold_start_ms": round(cold_s * 1000, 1),
            "first_open_ms": round(first * 1000, 1),
            "b24_calls_per_open": round((_b24_cursor(scene.b24_url) - b24_before) / opens, 1),
            "onec_requests_per_open": round((_onec_seq(stack.onec.url) - onec_before) / opens, 1),
            "pace_s": round(pace_s, 1),
            "paced": _summary(paced),
        }
        if refresh:
            figures["back_to_back"] = _summary(_series(scene, opens, 0.0))
        return figures


def run(opens: int = 20) -> dict[str, Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-central-1")
    from sandbox.moto_server import start_moto

    server, moto_url = start_moto()
    try:
        with_refresh = _stack(moto_url, opens, refresh=True)
        without_refresh = _stack(moto_url, opens, refresh=False)
    finally:
        server.stop()
    result = {
        "file": "deal_tab.json",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU, {platform.system()} {platform.release()}",
        "load_avg_1m_at_end": round(os.getloadavg()[0], 1),
        "opens": opens,
        "with_refresh": with_refresh,
        "without_refresh": without_refresh,
    }
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "deal_tab.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=2) + "\n", "utf-8"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    quick = os.environ.get("BENCH_QUICK") == "1"
    parser.add_argument("--opens", type=int, default=8 if quick else 20)
    args = parser.parse_args()
    print(json.dumps(run(args.opens), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
