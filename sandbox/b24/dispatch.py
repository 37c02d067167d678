"""Run one REST method: lookup, injected faults, operating budget, handler, `time` accounting."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from sandbox.b24 import envelope, errors
from sandbox.b24.apps import AppRegistry, AuthContext, check_granted
from sandbox.b24.config import DEFAULT_METHOD_COSTS
from sandbox.b24.limits import OperatingLedger
from sandbox.b24.registry import METHODS, Call, PendingEvent, Result, as_result
from sandbox.b24.state import Portal

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    method: str
    status: int
    result: Result | None
    error: errors.B24Error | None
    time: dict[str, Any]

    def body(self) -> dict[str, Any]:
        if self.error is not None:
            return self.error.body()
        assert self.result is not None
        return envelope.success(self.result, self.time)


class Dispatcher:
    def __init__(self, portal: Portal, ledger: OperatingLedger) -> None:
        self.portal = portal
        self.ledger = ledger
        self.operating_enabled = portal.config.operating_limit_enabled
        self.apps = AppRegistry()

    def cost_of(self, method: str) -> float:
        """Simulated server time of one call; only while the operating limit is on."""
        if not self.operating_enabled:
            return 0.0
        costs = DEFAULT_METHOD_COSTS | {k.lower(): v for k, v in self.portal.config.method_costs.items()}
        return float(costs.get(method, self.portal.config.default_method_cost))

    def run(
        self,
        method_name: str,
        raw: dict[str, Any],
        events: list[PendingEvent],
        *,
        in_batch: bool = False,
        sub_calls: list[dict[str, Any]] | None = None,
        auth: AuthContext | None = None,
    ) -> Outcome:
        method = method_name.strip().lower()
        start = time.time()
        result: Result | None = None
        error: errors.B24Error | None = None
        try:
            result = self._invoke(
                method, raw, events, in_batch, sub_calls if sub_calls is not None else [], auth
            )
        except errors.B24Error as exc:
            error = exc
        except Exception:
            log.exception("emulated method %s crashed", method)
            error = errors.B24Error("INTERNAL_SERVER_ERROR", "Internal server error", 500)
        finish = time.time()
        billed = (finish - start) + (self.cost_of(method) if error is None else 0.0)
        if error is None or error.code not in ("ERROR_METHOD_NOT_FOUND", "OPERATION_TIME_LIMIT"):
            self.ledger.bill(method, billed)
        operating, reset_at = self.ledger.used(method)
        tz = self.portal.config.tz
        stamp = envelope.time_object(start, max(finish, start + billed), billed, operating, reset_at, tz)
        status = error.status if error else 200
        return Outcome(method, status, result, error, stamp)

    def _invoke(
        self,
        method: str,
        raw: dict[str, Any],
        events: list[PendingEvent],
        in_batch: bool,
        sub_calls: list[dict[str, Any]],
        auth: AuthContext | None = None,
    ) -> Result:
        handler = METHODS.get(method)
        if handler is None:
            raise errors.method_not_found()
        if in_batch and method == "batch":
            raise errors.batch_method_not_allowed()
        if auth is not None:
            self.apps.check_scope(auth, method)
        elif (granted := self.portal.settings.get("webhook_scopes")) is not None:
            check_granted(set(granted), method)
        fault = self.portal.take_fault(method)
        if fault is not None:
            raise errors.B24Error(fault.error, fault.description, fault.status)
        if self.operating_enabled and method != "batch":
            used, _ = self.ledger.used(method)
            if used > self.portal.config.operating_budget_seconds:
                raise errors.operation_time_limit()
        user_id = auth.user_id if auth is not None else self.portal.config.webhook_user_id
        call = Call(method, raw, self.portal, user_id, in_batch=in_batch, dispatcher=self, auth=auth)
        with self.portal.lock:
            value = as_result(handler(call))
        # Events only leave once the change committed; a failed call emits nothing.
        events.extend(call.events)
        sub_calls.extend(call.sub_calls)
        return value
