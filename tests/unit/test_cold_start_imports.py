"""P5 (issue 15): what each Lambda loads at init, pinned without timing.

Each function's `app` module is imported in a fresh interpreter, as Lambda does during init, and
`sys.modules` is read. A function loads its own flow only; nothing loads pydantic-settings (dropped
for import time); no function loads Powertools' HTTP resolver (bridge.handlers has its own); the webhook
receiver, which must answer Bitrix24 fast from a cold start, loads no flow, no HTTP client, no
boto3 and not the mapping models. Only the receiver loads its request models. The first AWS call
of a function loads botocore, not boto3; the queue worker loads boto3 at init on purpose
(docs/performance.md P5: init + first record cost the same either way).
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


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BRIDGE_", "POWERTOOLS_", "AWS_"))}
    env |= {
        "AWS_REGION": "eu-central-1",
        "POWERTOOLS_SERVICE_NAME": "unf-b24-bridge",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "BRIDGE_TABLE_NAME": "SyncTable",
        "PYTHONPATH": str(ROOT / "shared"),
    }
    return env


def _loaded(function: str) -> set[str]:
    answer = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=ROOT / "functions" / function,
        env=_env(),
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


@pytest.mark.parametrize("function", [f for f in _functions() if f != "b24_events_receiver"])
def test_only_the_receiver_loads_the_webhook_request_models(function: str) -> None:
    loaded = _loaded(function)
    for receiver_only in ("bridge.pipeline.receiver", "bridge.pipeline.models"):
        assert receiver_only not in loaded, f"{function} imports {receiver_only} at init"


def test_the_queue_worker_loads_boto3_at_init_not_on_its_first_record() -> None:
    # The decision in docs/performance.md P5: Powertools' idempotency needs boto3 for the first
    # record anyway; paid in init, it does not eat the first batch's time budget.
    loaded = _loaded("queue_worker")
    assert "boto3" in loaded
    assert "aws_lambda_powertools.utilities.idempotency" in loaded


# The first AWS calls of a function: clients for every service the bridge uses and one secret read,
# answered by botocore's Stubber (no socket). The answer and the loaded modules are printed.
_FIRST_AWS_USE = """
import json, sys
from bridge import aws
for make in (aws.dynamodb_client, aws.sqs_client, aws.ssm_client, aws.lambda_client):
    make(None)
from botocore.stub import Stubber
stub = Stubber(aws.secretsmanager_client(None))
answer = {"Name": "bridge", "SecretString": '{"k": "v"}'}
stub.add_response("get_secret_value", answer, {"SecretId": "bridge"})
with stub:
    value = aws.read_secret("bridge", None)
print(json.dumps({"value": value, "modules": sorted(sys.modules)}))
"""


def test_the_first_aws_calls_load_botocore_not_boto3() -> None:
    env = _env() | {
        "AWS_DEFAULT_REGION": "eu-central-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    answer = subprocess.run(
        [sys.executable, "-c", _FIRST_AWS_USE],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    seen = json.loads(answer.stdout.splitlines()[-1])
    assert seen["value"] == '{"k": "v"}'  # the SecretString, as Powertools' provider returned it
    loaded = set(seen["modules"])
    assert "botocore.session" in loaded
    for unused in ("boto3", "s3transfer", "aws_lambda_powertools.utilities.parameters"):
        assert not _under(loaded, unused), f"the first AWS calls import {unused}"
