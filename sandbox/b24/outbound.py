"""Outbound event delivery: form-encoded POSTs to bound handlers and outgoing webhooks.

Deliveries happen after the REST response (the app hands events over in a BackgroundTask) on one
worker thread, are never retried and are each recorded. While paused they are held (or dropped,
when paused with `drop`), which lets tests stage "an event that never arrives".
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from datetime import datetime
from typing import Any

import httpx

from bridge.b24.php_query import encode
from sandbox.b24 import clock
from sandbox.b24.registry import PendingEvent
from sandbox.b24.state import Portal

log = logging.getLogger(__name__)


class EventBus:
    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.paused = False
        self.drop_while_paused = False
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._seq = 0

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._run, name="b24-events", daemon=True)
            self._worker.start()

    def stop(self) -> None:
        if self._worker is not None and self._worker.is_alive():
            self._queue.put(None)
            self._worker.join(timeout=10)
        self._worker = None

    def pause(self, drop: bool = False) -> None:
        self.paused, self.drop_while_paused = True, drop

    def resume(self) -> None:
        self.paused = False
        with self.portal.lock:
            held = [d for d in self.portal.deliveries if d["status"] == "held"]
            for delivery in held:
                delivery["status"] = "queued"
        for delivery in held:
            self._queue.put(delivery)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is queued or in flight (tests, `/_sandbox/events?wait=1`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.portal.lock:
                busy = any(d["status"] in ("queued", "sending") for d in self.portal.deliveries)
            if not busy:
                return True
            time.sleep(0.01)
        return False

    # -- publishing --------------------------------------------------------------------------
    def publish(self, events: list[PendingEvent]) -> None:
        if events:
            self.start()
        for event in events:
            self._publish_one(event)

    def _publish_one(self, event: PendingEvent) -> None:
        portal, config = self.portal, self.portal.config
        ts = int(time.time())
        with portal.lock:
            handlers = [h for h in portal.table("event_handlers").values() if h["event"] == event.name]
            for handler in handlers:
                if handler.get("offline"):
                    self._store_offline(event, handler)
                    continue
                payload = {
                    "event": event.name,
                    "event_handler_id": handler["id"],
                    "data": {"FIELDS": event.fields},
                    "ts": ts,
                    "auth": {
                        "domain": config.domain,
                        "client_endpoint": f"https://{config.domain}/rest/",
                        "server_endpoint": "https://oauth.bitrix.info/rest/",
                        "member_id": config.member_id,
                        "application_token": handler.get("application_token") or config.application_token,
                    },
                }
                self._seq += 1
                status = "queued"
                if self.paused:
                    status = "dropped" if self.drop_while_paused else "held"
                delivery = {
                    "id": self._seq,
                    "event": event.name,
                    "handler": handler["handler"],
                    "event_handler_id": handler["id"],
                    "kind": handler.get("kind", "app"),
                    "payload": payload,
                    "status": status,
                    "status_code": None,
                    "error": None,
                    "created": ts,
                }
                portal.deliveries.append(delivery)
                if status == "queued":
                    self._queue.put(delivery)

    def _store_offline(self, event: PendingEvent, handler: dict[str, Any]) -> None:
        table = self.portal.table("offline_events")
        new_id = table.new_id()
        table.put(
            new_id,
            {
                "ID": new_id,
                "TIMESTAMP_X": clock.iso(datetime.now(self.portal.config.tz).replace(microsecond=0)),
                "EVENT_NAME": event.name,
                "EVENT_DATA": {"FIELDS": event.fields},
                "EVENT_ADDITIONAL": {"user_id": int(handler.get("auth_type") or 0)},
                "MESSAGE_ID": f"{new_id:032x}",
                "PROCESS_ID": None,
            },
        )

    # -- worker ------------------------------------------------------------------------------
    def _run(self) -> None:
        with httpx.Client(timeout=self.portal.config.event_timeout_seconds) as client:
            while True:
                delivery = self._queue.get()
                if delivery is None:
                    return
                self._deliver(client, delivery)

    def _deliver(self, client: httpx.Client, delivery: dict[str, Any]) -> None:
        with self.portal.lock:
            delivery["status"] = "sending"
            body = encode(delivery["payload"])
        try:
            response = client.post(
                delivery["handler"],
                content=body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            outcome: dict[str, Any] = {
                "status": "delivered" if response.is_success else "failed",
                "status_code": response.status_code,
            }
        except httpx.HTTPError as exc:
            # Never retried, as on the real portal: the event is lost.
            outcome = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
            log.info("event %s to %s failed: %s", delivery["event"], delivery["handler"], exc)
        with self.portal.lock:
            delivery.update(outcome)
