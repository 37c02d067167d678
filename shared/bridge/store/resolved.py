"""Resolved configuration in SyncTable: item pk `CONFIG#<flow>`, sk `RESOLVED`, JSON in `value`.

Setup resolves the configured names to ids and writes them here; flows read them at run time
through `ResolvedConfig[T]`, typed by the flow's own pydantic model. One policy for every flow:

- cached per process (per store) for `CACHE_TTL_S`, so a re-run of setup takes effect without a
  redeploy; a save through the same store takes effect at once;
- missing, unreadable or outdated → `ConfigurationError` naming the flow and the fix (run setup), logged
  and counted as `SetupMissing`. A Lambda never runs setup itself: setup is a deploy step
  (docs/architecture.md, "Setup runs before the flows").
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from threading import Lock
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ValidationError

from bridge.errors import ConfigurationError
from bridge.observability import logger, metrics
from bridge.store.items import CONFIG_SK, config_pk, key
from bridge.store.table import Table, text

CACHE_TTL_S = 300.0
SETUP_COMMAND = "python -m bridge setup"


class ConfigItems:
    """The raw `CONFIG#<flow>` items, with the per-process cache every typed view shares."""

    def __init__(self, table: Table, max_age_s: float = CACHE_TTL_S) -> None:
        self._table = table
        self._max_age_s = max_age_s
        self._cache: dict[str, tuple[float, BaseModel]] = {}
        self._lock = Lock()

    def get(self, flow: str) -> dict[str, Any] | None:
        """What setup stored for `flow`, uncached; None before setup."""
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
        with self._lock:
            self._cache.pop(flow, None)

    def cached(self, flow: str) -> BaseModel | None:
        with self._lock:
            entry = self._cache.get(flow)
        if entry is None or time.monotonic() - entry[0] >= self._max_age_s:
            return None
        return entry[1]

    def remember(self, flow: str, value: BaseModel) -> None:
        with self._lock:
            self._cache[flow] = (time.monotonic(), value)

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()


@dataclass(frozen=True)
class ResolvedConfig[T: BaseModel]:
    """One flow's resolved configuration, typed by `model`; written by setup, read by the flow.
    `outdated` tells a stored value that an older setup wrote and the flow cannot use."""

    items: ConfigItems
    flow: str
    model: type[T]
    outdated: Callable[[Mapping[str, Any]], bool] | None = None

    def load(self) -> T:
        """The stored value (cached); `ConfigurationError` when setup has not run or must run again."""
        cached = self.items.cached(self.flow)
        if isinstance(cached, self.model):
            return cached
        raw = self.items.get(self.flow)
        if raw is None:
            raise self._missing("no resolved configuration")
        if self.outdated is not None and self.outdated(raw):
            raise self._missing("resolved configuration stored by an older setup")
        try:
            value = self.model.model_validate(raw)
        except ValidationError as error:
            raise self._missing(f"stored configuration is unreadable ({error})") from None
        self.items.remember(self.flow, value)
        return value

    def find(self) -> T | None:
        """The stored value, uncached, or None (setup itself, to compare with what it resolves)."""
        raw = self.items.get(self.flow)
        if raw is None:
            return None
        try:
            return self.model.model_validate(raw)
        except ValidationError:
            return None

    def save(self, value: T) -> None:
        self.items.put(self.flow, value.model_dump(mode="json"))

    def _missing(self, problem: str) -> ConfigurationError:
        message = (
            f"{self.flow} flow: {problem} ({config_pk(self.flow)}) in SyncTable — "
            f"run setup: `{SETUP_COMMAND}` (the deploy step does it)"
        )
        logger.error(message, extra={"step": "resolved-config", "flow": self.flow})
        metrics.add_metric(name="SetupMissing", unit=MetricUnit.Count, value=1)
        return ConfigurationError(message)
