"""The Tracer a function gets (issue 15, P5): X-Ray where tracing is on, nothing loaded where it is off.

Each case runs in a fresh interpreter: which modules get imported, and Powertools' Tracer keeps its
provider in class state, so neither can be observed inside the test process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SHARED = Path(__file__).parents[2] / "shared"

_PROBE = """
import json, sys
from bridge.observability import tracer

@tracer.capture_lambda_handler
def handler(event, context):
    return {"answer": event["question"] * 2}

answer = handler({"question": 21}, None)
patched = []
if "aws_xray_sdk.core" in sys.modules:
    from aws_xray_sdk.core.patcher import _PATCHED_MODULES
    patched = sorted(_PATCHED_MODULES)
print(json.dumps({
    "answer": answer,
    "disabled": bool(tracer.disabled),
    "provider": type(tracer.provider).__name__,
    "xray_loaded": "aws_xray_sdk.core" in sys.modules,
    "boto3_loaded": "boto3" in sys.modules,
    "patched": patched,
}))
"""


def _run(**env: str) -> dict[str, object]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "LAMBDA_", "AWS_SAM"))}
    answer = subprocess.run(
        [sys.executable, "-c", _PROBE],
        env=base | {"PYTHONPATH": str(SHARED), "AWS_REGION": "eu-central-1"} | env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result: dict[str, object] = json.loads(answer.stdout.strip().splitlines()[-1])
    return result


def test_tracing_disabled_by_env_never_loads_the_xray_sdk_or_boto3() -> None:
    result = _run(LAMBDA_TASK_ROOT="/var/task", POWERTOOLS_TRACE_DISABLED="true")
    assert result["answer"] == {"answer": 42}
    assert result["disabled"] is True
    assert result["provider"] == "NoTracingProvider"
    assert result["xray_loaded"] is False
    assert result["boto3_loaded"] is False


def test_outside_lambda_tracing_is_off_as_powertools_decides() -> None:
    result = _run()
    assert result["answer"] == {"answer": 42}
    assert result["disabled"] is True
    assert result["xray_loaded"] is False


def test_in_lambda_with_tracing_on_botocore_and_httpx_calls_are_traced() -> None:
    result = _run(LAMBDA_TASK_ROOT="/var/task")
    assert result["answer"] == {"answer": 42}
    assert result["disabled"] is False
    assert result["xray_loaded"] is True
    assert str(result["provider"]).endswith("XRayRecorder")
    assert result["patched"] == ["botocore", "httpx"]
