"""One emulated portal: its state, limits, event bus and the REST entry points (`Emulator.rest`)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox.b24 import errors, transport
from sandbox.b24.config import B24EmulatorConfig
from sandbox.b24.dispatch import Dispatcher
from sandbox.b24.limits import LeakyBucket, OperatingLedger
from sandbox.b24.outbound import EventBus
from sandbox.b24.registry import PendingEvent
from sandbox.b24.seed import seed_portal
from sandbox.b24.state import Portal

log = logging.getLogger(__name__)


class Emulator:
    """Everything one emulated portal owns; exposed as `app.state.emulator` (and `.portal`)."""

    def __init__(self, config: B24EmulatorConfig) -> None:
        self.config = config
        self.portal = Portal(config)
        self.bus = EventBus(self.portal)
        self.ledger = OperatingLedger(config.operating_window_seconds)
        self.bucket = LeakyBucket(*config.bucket)
        self.rate_limit_enabled = config.rate_limit_enabled
        self.dispatcher = Dispatcher(self.portal, self.ledger)
        self.reset()
        if config.snapshot_path and Path(config.snapshot_path).exists():
            self.portal.restore(json.loads(Path(config.snapshot_path).read_text(encoding="utf-8")))

    def reset(self) -> None:
        self.portal.clear()
        if self.config.seed:
            seed_portal(self.portal)
        self.bucket.reset()
        self.ledger.reset()
        self.bus.paused = False
        self.dispatcher.apps.clear()

    def configure_limits(self, body: dict[str, Any]) -> None:
        if "plan" in body:
            self.config.plan = str(body["plan"])
            self.bucket.reconfigure(*self.config.bucket)
        if "enabled" in body:
            self.rate_limit_enabled = bool(body["enabled"])
            self.bucket.reset()
        if "operating_enabled" in body:
            self.dispatcher.operating_enabled = bool(body["operating_enabled"])
        if "operating_budget" in body:
            self.config.operating_budget_seconds = float(body["operating_budget"])
        if "method_costs" in body:
            self.config.method_costs = {str(k): float(v) for k, v in dict(body["method_costs"]).items()}
        if body.get("reset_operating"):
            self.ledger.reset()

    def limits_state(self) -> dict[str, Any]:
        return {
            "enabled": self.rate_limit_enabled,
            "plan": self.config.plan,
            "bucket_size": self.bucket.size,
            "drain_per_second": self.bucket.rate,
            "operating_enabled": self.dispatcher.operating_enabled,
            "operating_budget": self.config.operating_budget_seconds,
            "method_costs": self.config.method_costs,
        }

    def save_snapshot(self) -> None:
        if self.config.snapshot_path:
            Path(self.config.snapshot_path).write_text(
                json.dumps(self.portal.snapshot(), ensure_ascii=False, indent=1), encoding="utf-8"
            )

    # -- REST ---------------------------------------------------------------------------------
    async def rest(self, request: Request) -> Response:
        user_id = request.path_params["user_id"]
        code = request.path_params["code"]
        method = transport.split_method(request.path_params["method"])
        events: list[PendingEvent] = []
        if user_id != str(self.config.webhook_user_id) or code != self.config.webhook_code:
            return self._answer(method.lower(), {}, errors.no_auth())
        if self.rate_limit_enabled and not self.bucket.admit():
            return self._answer(method.lower(), {}, errors.query_limit())
        try:
            params = await transport.read_params(request)
        except errors.B24Error as exc:
            return self._answer(method.lower(), {}, exc)
        sub_calls: list[dict[str, Any]] = []
        outcome = self.dispatcher.run(method, params, events, sub_calls=sub_calls)
        entry = self.portal.record_call(
            {"method": outcome.method, "params": params, "status": outcome.status}
            | ({"error": outcome.error.code} if outcome.error else {})
        )
        for sub in sub_calls:
            self.portal.record_call(sub | {"batch": entry["seq"]})
        return JSONResponse(
            outcome.body(), status_code=outcome.status, background=BackgroundTask(self.bus.publish, events)
        )

    def _answer(self, method: str, params: dict[str, Any], error: errors.B24Error) -> Response:
        self.portal.record_call(
            {"method": method, "params": params, "status": error.status, "error": error.code}
        )
        return JSONResponse(error.body(), status_code=error.status)

    async def oauth_rest(self, request: Request) -> Response:
        """`/rest/{method}` with `auth=<access token>`: the call acts as the token's user and app."""
        method = transport.split_method(request.path_params["method"])
        try:
            params = await transport.read_params(request)
        except errors.B24Error as exc:
            return self._answer(method.lower(), {}, exc)
        token = params.pop("auth", None)
        try:
            auth = self.dispatcher.apps.authenticate(token)
        except errors.B24Error as exc:
            return self._answer(method.lower(), params, exc)
        if self.rate_limit_enabled and not self.bucket.admit():
            return self._answer(method.lower(), params, errors.query_limit())
        events: list[PendingEvent] = []
        sub_calls: list[dict[str, Any]] = []
        outcome = self.dispatcher.run(method, params, events, sub_calls=sub_calls, auth=auth)
        # The journal names the acting app and user, never the token.
        who = {"app_id": auth.app_id, "user_id": auth.user_id}
        entry = self.portal.record_call(
            {"method": outcome.method, "params": params, "status": outcome.status, "auth": who}
            | ({"error": outcome.error.code} if outcome.error else {})
        )
        for sub in sub_calls:
            self.portal.record_call(sub | {"batch": entry["seq"], "auth": who})
        return JSONResponse(
            outcome.body(), status_code=outcome.status, background=BackgroundTask(self.bus.publish, events)
        )
