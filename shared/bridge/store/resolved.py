"""Resolved configuration in SyncTable: item pk `CONFIG#<flow>`, sk `RESOLVED`, JSON in `value`.

Setup resolves the configured names to ids and writes them here; flows read them at run time
through `ResolvedConfig[T]`, typed by the flow's own pydantic model. One policy for every flow:

- read once per run or event (one consistent GetItem), never kept across invocations: a re-run of
  setup takes effect with the next event, without a redeploy, and nothing can serve ids from
  before a reset (the sandbox and the tests reset SyncTable and set up again);
- missing, unreadable or outdated → `SetupMissing` (transient: the work waits) naming the flow
  and the fix (run setup), logged and counted as the `SetupMissing` metric. A Lambda never runs
  setup itself: setup is a deploy step (docs/architecture.md, "Setup runs before the flows").
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ValidationError

from bridge.errors import SetupMissing
from bridge.observability import logger, metrics
from bridge.store.items import CONFIG_SK, config_pk, key
from bridge.store.table import Table, text

SETUP_COMMAND = "python -m bridge setup"


class ConfigItems:
    """The raw `CONFIG#<flow>` items."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def get(self, flow: str) -> dict[str, Any] | None:
        """What setup stored for `flow`; None before setup."""
        attributes = self._table.get(config_pk(flow), CONFIG_SK)
        if attributes is None:
            return None
        value: dict[str, Any] = json.loads(attributes["value"]["S"])
        return value

    def put(self, flow: str, value: Mapping[str, Any]) -> None:
        self._table.put(
            {
                **key(config_pk(flow), CONFIG_SK),
                "value": text(json.dumps(value, ensure_ascii=False, sort_keys=True)),
                "updated_at": {"N": str(int(self._table.clock()))},
            }
        )


@dataclass(frozen=True)
class ResolvedConfig[T: BaseModel]:
    """One flow's resolved configuration, typed by `model`; written by setup, read by the flow.
    `outdated` tells a stored value that an older setup wrote and the flow cannot use."""

    items: ConfigItems
    flow: str
    model: type[T]
    outdated: Callable[[Mapping[str, Any]], bool] | None = None

    def load(self) -> T:
        """The stored value; `SetupMissing` when setup has not run or must run again."""
        raw = self.items.get(self.flow)
        if raw is None:
            raise self._missing("no resolved configuration")
        if self.outdated is not None and self.outdated(raw):
            raise self._missing("resolved configuration stored by an older setup")
        try:
            return self.model.model_validate(raw)
        except ValidationError as error:
            raise self._missing(f"stored configuration is unreadable ({error})") from None

    def find(self) -> T | None:
        """The stored value, or None when there is none or it is unreadable (setup, tests)."""
        raw = self.items.get(self.flow)
        if raw is None:
            return None
        try:
            return self.model.model_validate(raw)
        except ValidationError:
            return None

    def save(self, value: T) -> None:
        self.items.put(self.flow, value.model_dump(mode="json"))

    def _missing(self, problem: str) -> SetupMissing:
        message = (
            f"{self.flow} flow: {problem} ({config_pk(self.flow)}) in SyncTable — "
            f"run setup: `{SETUP_COMMAND}` (the deploy step does it)"
        )
        logger.error(message, extra={"step": "resolved-config", "flow": self.flow})
        metrics.add_metric(name="SetupMissing", unit=MetricUnit.Count, value=1)
        return SetupMissing(message)
