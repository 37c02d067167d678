"""P5 (issue 15): what each Lambda loads at init, pinned without timing.

Each function's `app` module is imported in a fresh interpreter, as Lambda does during init, and
`sys.modules` is read. A function loads its own flow only; nothing loads pydantic-settings (dropped
for import time); no function loads Powertools' HTTP resolver (bridge.handlers has its own); the webhook
receiver, which must answer Bitrix24 fast from a cold start, loads no flow, no HTTP client, no
boto3 and not the mapping models.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FLOWS = ("bridge.catalog", "bridge.deals", "bridge.payments", "bridge.parties")
OWN_HTTP_STACK = {"b24_app"}  # the «1С» tab: an ASGI app of its own, not bridge.handlers
# The flow packages each function may load at init (its own work); every other flow is a leak.
OWN_FLOWS: dict[str, set[str]] = {
    "b24_events_receiver": set(),
    "catalog_sync": {"bridge.catalog"},
    "stock_sync": {"bridge.catalog"},
    "stock_refresh": {"bridge.catalog"},
    "deal_sweep": {"bridge.deals"},
    "payments_poll": {"bridge.payments"},
    "onec_events": {"bridge.payments"},
    "parties_sync": {"bridge.parties"},
    "queue_worker": set(),
    "setup": set(FLOWS),  # runs every flow's setup step
    # The «1С» tab shows the order (deals), its receipts (payments) and stock (catalog); resync
    # runs the repair path, and with it the parties flow, only when the button is pressed.
    "b24_app": {"bridge.catalog", "bridge.deals", "bridge.payments"},
}
_PROBE = "import json, sys; import app; print(json.dumps(sorted(sys.modules)))"


def _functions() -> list[str]:
    return sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").exists())


def _loaded(function: str) -> set[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BRIDGE_", "POWERTOOLS_", "AWS_"))}
    env |= {
        "AWS_REGION": "eu-central-1",
        "POWERTOOLS_SERVICE_NAME": "unf-b24-bridge",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "BRIDGE_TABLE_NAME": "SyncTable",
        "PYTHONPATH": str(ROOT / "shared"),
    }
    answer = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=ROOT / "functions" / function,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return set(json.loads(answer.stdout.splitlines()[-1]))


def _under(modules: set[str], package: str) -> bool:
    return package in modules or any(m.startswith(package + ".") for m in modules)


@pytest.mark.parametrize("function", _functions())
def test_a_function_loads_its_own_flow_only(function: str) -> None:
    loaded = _loaded(function)
    own = OWN_FLOWS.get(function, set())
    leaked = [flow for flow in FLOWS if flow not in own and _under(loaded, flow)]
    assert not leaked, f"{function} imports other flows at init: {leaked}"
    assert not _under(loaded, "pydantic_settings"), f"{function} imports pydantic-settings"
    if function not in OWN_HTTP_STACK:
        assert not _under(loaded, "aws_lambda_powertools.event_handler"), (
            f"{function} imports Powertools' HTTP resolver"
        )


def test_the_webhook_receiver_loads_no_client_no_boto3_no_mapping() -> None:
    loaded = _loaded("b24_events_receiver")
    for heavy in (
        "httpx",
        "boto3",
        "bridge.config.mapping",
        "bridge.b24.client",
        "bridge.onec",
        "bridge.store",
    ):
        assert not _under(loaded, heavy), f"the receiver imports {heavy} at init"
