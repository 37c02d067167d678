"""`/_sandbox/...`: test-only controls that the real portal does not have."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.b24.config import OutgoingWebhook
from sandbox.b24.seed import add_outgoing_webhook
from sandbox.b24.state import Fault
from sandbox.controls import control

if TYPE_CHECKING:
    from sandbox.b24.emulator import Emulator


async def _json(request: Request) -> dict[str, Any]:
    body = await request.body()
    if not body:
        return {}
    data = await request.json()
    return data if isinstance(data, dict) else {}


def routes(emulator: Emulator) -> list[Route]:
    portal = emulator.portal

    async def credentials(request: Request) -> Response:
        """Issue a new inbound-webhook code (a rotation); the old code gets NO_AUTH_FOUND from now on."""
        body = await _json(request)
        with portal.lock:
            emulator.config.webhook_code = str(body["webhook_code"])
        return JSONResponse({"ok": True})

    async def reset(request: Request) -> Response:
        emulator.reset()
        return JSONResponse({"ok": True})

    async def snapshot_get(request: Request) -> Response:
        return JSONResponse(portal.snapshot())

    async def snapshot_post(request: Request) -> Response:
        portal.restore(await _json(request))
        return JSONResponse({"ok": True})

    async def calls(request: Request) -> Response:
        since = int(request.query_params.get("since", 0) or 0)
        method = request.query_params.get("method")
        with portal.lock:
            rows = [
                c
                for c in portal.journal
                if c["seq"] > since and (not method or c["method"] == method.lower())
            ]
            cursor = portal.journal_seq
        return JSONResponse({"calls": rows, "cursor": cursor})

    async def calls_delete(request: Request) -> Response:
        with portal.lock:
            portal.journal.clear()
        return JSONResponse({"ok": True})

    def table_dump(name: str) -> Callable[[Request], Awaitable[Response]]:
        async def dump(request: Request) -> Response:
            with portal.lock:
                rows = list(portal.table(name).values())
            return JSONResponse(rows)

        return dump

    async def events(request: Request) -> Response:
        if request.query_params.get("wait"):
            emulator.bus.wait_idle()
        with portal.lock:
            rows = list(portal.deliveries)
        return JSONResponse({"paused": emulator.bus.paused, "deliveries": rows})

    async def events_pause(request: Request) -> Response:
        body = await _json(request)
        emulator.bus.pause(drop=bool(body.get("drop", False)))
        return JSONResponse({"paused": True, "drop": emulator.bus.drop_while_paused})

    async def events_resume(request: Request) -> Response:
        emulator.bus.resume()
        return JSONResponse({"paused": False})

    async def faults_post(request: Request) -> Response:
        body = await _json(request)
        fault = Fault(
            method=str(body.get("method", "*")).lower(),
            remaining=int(body.get("count", 1)),
            error=body.get("error", "INTERNAL_SERVER_ERROR"),
            description=str(body.get("error_description", "Injected fault")),
            status=int(body.get("status", 500)),
        )
        with portal.lock:
            portal.faults.append(fault)
        return JSONResponse({"ok": True})

    async def faults_get(request: Request) -> Response:
        with portal.lock:
            return JSONResponse([vars(f) for f in portal.faults])

    async def faults_delete(request: Request) -> Response:
        with portal.lock:
            portal.faults.clear()
        return JSONResponse({"ok": True})

    async def rate_limit(request: Request) -> Response:
        body = await _json(request)
        emulator.configure_limits(body)
        return JSONResponse(emulator.limits_state())

    async def outgoing_webhook(request: Request) -> Response:
        body = await _json(request)
        hook = OutgoingWebhook(
            handler=str(body["handler"]),
            events=[str(e) for e in body.get("events", [])],
            application_token=body.get("application_token"),
        )
        with portal.lock:
            ids = add_outgoing_webhook(portal, hook)
        return JSONResponse({"event_handler_ids": ids})

    async def inventory(request: Request) -> Response:
        body = await _json(request)
        with portal.lock:
            portal.settings["inventory_management"] = bool(body.get("enabled", False))
        return JSONResponse({"enabled": portal.settings["inventory_management"]})

    async def webhook_scopes(request: Request) -> Response:
        """Limit the inbound webhook to these scopes (`{"scopes": null}` grants every one again)."""
        body = await _json(request)
        granted = body.get("scopes")
        with portal.lock:
            portal.settings["webhook_scopes"] = None if granted is None else [str(s) for s in granted]
        return JSONResponse({"scopes": portal.settings["webhook_scopes"]})

    async def answers(request: Request) -> Response:
        """Switch an open wire question to one of its plausible answers (docs/sandbox-b24.md)."""
        body = await _json(request)
        with portal.lock:
            portal.settings["answers"] = {**portal.settings.get("answers", {}), **body}
            return JSONResponse(portal.settings["answers"])

    async def table(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in portal.tables:
            return JSONResponse({"error": f"no table {name}"}, status_code=404)
        return await table_dump(name)(request)

    return [
        control("/_sandbox/reset", reset, methods=["POST"]),
        control("/_sandbox/credentials", credentials, methods=["POST"]),
        control("/_sandbox/snapshot", snapshot_get, methods=["GET"]),
        control("/_sandbox/snapshot", snapshot_post, methods=["POST"]),
        control("/_sandbox/calls", calls, methods=["GET"]),
        control("/_sandbox/calls", calls_delete, methods=["DELETE"]),
        control("/_sandbox/notifications", table_dump("notifications"), methods=["GET"]),
        control("/_sandbox/workflows", table_dump("workflows"), methods=["GET"]),
        control("/_sandbox/list-elements", table_dump("list_elements"), methods=["GET"]),
        control("/_sandbox/events", events, methods=["GET"]),
        control("/_sandbox/events/pause", events_pause, methods=["POST"]),
        control("/_sandbox/events/resume", events_resume, methods=["POST"]),
        control("/_sandbox/faults", faults_post, methods=["POST"]),
        control("/_sandbox/faults", faults_get, methods=["GET"]),
        control("/_sandbox/faults", faults_delete, methods=["DELETE"]),
        control("/_sandbox/rate-limit", rate_limit, methods=["POST", "GET"]),
        control("/_sandbox/outgoing-webhook", outgoing_webhook, methods=["POST"]),
        control("/_sandbox/inventory", inventory, methods=["POST"]),
        control("/_sandbox/tables/{name}", table, methods=["GET"]),
        control("/_sandbox/webhook-scopes", webhook_scopes, methods=["POST"]),
        control("/_sandbox/answers", answers, methods=["POST"]),
    ]
