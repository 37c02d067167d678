"""The payments acceptance tests' stack: the packaged mapping with or without a business process,
a local stack without timers, one scheduled run, and a reset world."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import httpx

from sandbox.local.stack import LocalStack, LocalStackConfig
from sandbox.world.deals import clear_table
from sandbox.world.payments import PaymentsWorld, origin


def mapping_file(directory: Path, *, bizproc_template_id: int | None = None) -> Path:
    """The packaged default mapping, with a business-process template configured for the registry
    (None: the default registry, the list setup creates)."""
    text = resources.files("bridge.config").joinpath("mapping.default.toml").read_text("utf-8")
    if bizproc_template_id is not None:
        text = text.replace("# bizproc_template_id = 12", f"bizproc_template_id = {bizproc_template_id}")
    path = directory / ("mapping.payments.toml" if bizproc_template_id else "mapping.payments-list.toml")
    path.write_text(text, "utf-8")
    return path


def start_stack(moto_url: str, prefix: str, directory: Path) -> LocalStack:
    """A local stack for the payments tests: no timers (runs are invoked), no SQS pollers."""
    config = LocalStackConfig.ephemeral(
        moto_url=moto_url,
        prefix=prefix,
        schedules=False,
        pollers=False,
        prewarm=False,
        extra_env={"BRIDGE_MAPPING_FILE": str(mapping_file(directory))},
    )
    return LocalStack(config).start()


def invoke_poll(stack: LocalStack) -> dict[str, Any]:
    """One scheduled run, as EventBridge Scheduler would start it."""
    answer = httpx.post(f"{stack.api_url}/_local/invoke/PaymentsPollFunction", content=b"", timeout=120)
    answer.raise_for_status()
    report: dict[str, Any] = answer.json()
    if answer.headers.get("x-amz-function-error"):
        raise RuntimeError(f"PaymentsPollFunction failed: {report}")
    return report


def reset_world(world: PaymentsWorld) -> None:
    """Fresh emulators and an empty SyncTable (deal ids restart at 1 after a reset, so old links go)."""
    httpx.post(f"{origin(world.b24_webhook_url)}/_sandbox/reset", timeout=10)
    httpx.post(f"{origin(world.onec_base_url)}/_sandbox/reset", timeout=10)
    clear_table(world.dynamodb, world.table_name)
