"""Render time of the «1С» deal tab: `python -m bench.deal_tab [--opens N]`.

The whole local stack (the app's Lambda, B24AppFunction, behind the local HTTP API; both emulators;
moto). The scene is the browser test's (sandbox/world/deal_tab.py): the app installed through its
install route, a paid deal made by the deal flow, stock in two warehouses. Each open is what the
emulator's deal card does in a browser: a fresh placement request (a new token for the manager)
taken from the card's iframe, POSTed to `/b24/app/deal-tab`; the clock runs from the POST to the
last byte of the page. Fetching the frame is not timed (that is the portal's own work).

Measured:
- the install request, whose cold start of the container is in it (the stack starts without
  prewarm), and the first open after it (warm container, Bitrix24 bucket as the set-up left it);
- warm opens **paced** as managers open tabs (each open waits until the shared Bitrix24 bucket has
  refilled the calls one open spends, 2/s on the standard plan; the wait is not timed): p50/p95/max
  with the 1C stock refresh, which is what a manager gets;
- warm opens **back to back**: what the tab costs when opens outrun the shared rate budget;
- the same route in this process (the ASGI app itself, same emulators, same SyncTable), paced, with
  the refresh and with `ports.refresh_stock` replaced by a no-op: what the refresh costs;
- Bitrix24 and 1C calls per open, from the emulators' journals.

Results: bench/results/deal_tab.json; docs/performance.md "Deal tab".
"""

from __future__ import annotations

import argparse
import dataclasses
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
FUNCTION = "B24AppFunction"
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


def _open(scene: Any, post: Any) -> float:
    from sandbox.world.deal_tab import placement_request

    action, fields = placement_request(scene)
    started = time.perf_counter()
    response = post(action, fields)
    elapsed = time.perf_counter() - started
    if response.status_code != 200 or 'id="order"' not in response.text:
        raise SystemExit(f"the tab did not render: HTTP {response.status_code} {response.text[:300]}")
    return elapsed


def _series(scene: Any, post: Any, opens: int, pace_s: float) -> list[float]:
    figures = []
    for _ in range(opens):
        time.sleep(pace_s)  # the bucket refills; not part of the figure
        figures.append(_open(scene, post))
    return figures


def _in_process(stack: Any, scene: Any, opens: int, pace_s: float) -> dict[str, Any]:
    """The same ASGI app in this process, with and without the stock refresh."""
    from starlette.testclient import TestClient

    from bridge import deps, handlers, settings
    from bridge.deal_tab.web import app

    saved = dict(os.environ)
    os.environ.update(stack.function_variables(FUNCTION))
    settings.reset_caches()
    deps.reset()
    try:
        client = TestClient(app)
        real = deps.default_ports()
        quiet = dataclasses.replace(real, refresh_stock=lambda _ids, _ports: None)

        def post(action: str, fields: dict[str, str]) -> httpx.Response:
            # The action's host is the stack's; here the path and query go to the app itself.
            target = httpx.URL(action)
            answer: httpx.Response = client.post(f"{target.path}?{target.query.decode()}", data=fields)
            return answer

        figures: dict[str, Any] = {}
        for name, ports in (("with_refresh", real), ("without_refresh", quiet)):
            with handlers.overridden({deps.default_ports: ports}):
                _open(scene, post)  # the first open here warms this process's clients
                figures[name] = _summary(_series(scene, post, opens, pace_s))
        return figures
    finally:
        os.environ.clear()
        os.environ.update(saved)
        settings.reset_caches()
        deps.reset()


def run(opens: int = 30) -> dict[str, Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-central-1")
    from sandbox.local import LocalStack, LocalStackConfig
    from sandbox.moto_server import start_moto
    from sandbox.world.deal_tab import install_app, paid_deal
    from sandbox.world.deals import run_setup

    server, moto_url = start_moto()
    config = LocalStackConfig.ephemeral(
        moto_url=moto_url, schedules=False, prewarm=False, prefix=f"t{uuid.uuid4().hex[:6]}-"
    )
    try:
        with LocalStack(config) as stack:
            assert stack.onec is not None
            report = run_setup(stack)
            if not report.ok:
                raise SystemExit("\n".join(report.lines()))
            # The install request is the app's first request: the container's cold start is in it.
            started = time.perf_counter()
            app = install_app(stack)
            install_s = time.perf_counter() - started
            scene = paid_deal(stack, app)

            def post(action: str, fields: dict[str, str]) -> httpx.Response:
                return httpx.post(action, data=fields, timeout=120)

            b24_before, onec_before = _b24_cursor(scene.b24_url), _onec_seq(stack.onec.url)
            first = _open(scene, post)
            b24_calls = _b24_cursor(scene.b24_url) - b24_before
            onec_calls = _onec_seq(stack.onec.url) - onec_before
            pace_s = b24_calls / PER_SECOND + 0.5
            paced = _series(scene, post, opens, pace_s)
            back_to_back = _series(scene, post, opens, 0.0)
            local = _in_process(stack, scene, opens, pace_s)
    finally:
        server.stop()
    result = {
        "file": "deal_tab.json",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU, {platform.system()} {platform.release()}",
        "load_avg_1m_at_end": round(os.getloadavg()[0], 1),
        "opens": opens,
        "stack_install_cold_ms": round(install_s * 1000, 1),
        "stack_first_open_ms": round(first * 1000, 1),
        "b24_calls_per_open": b24_calls,
        "onec_requests_per_open": onec_calls,
        "pace_s": round(pace_s, 1),
        "stack_paced_with_refresh": _summary(paced),
        "stack_back_to_back_with_refresh": _summary(back_to_back),
        "in_process": local,
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
