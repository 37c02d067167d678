"""POST /1c/events: a 1C extension announces changed payments/orders (logic: bridge.payments.push)."""

from __future__ import annotations

from bridge import deps
from bridge.handlers import HttpApi, Unauthorized, Wording, read_body, use
from bridge.http_edge import raw_body
from bridge.observability import logger
from bridge.payments.push import SIGNATURE_HEADER, PushBody, handle_push, refusal

MAX_BODY_BYTES = 32 * 1024  # ≤ 100 objects of ~100 bytes each; anything bigger is not the 1C extension
RETRY = "temporarily unavailable, the scheduled poll will catch up"
WORDING = Wording(
    refused=lambda status, reason: {"error": reason},
    transient=lambda detail: {"error": RETRY, "detail": detail},
    permanent=lambda reason: {"error": reason},
)
api = HttpApi("1C push", WORDING, refused_metric="OneCPushRefused", content_type_header="content-type")


@api.app.post("/1c/events")
def onec_events() -> object:
    event = api.event
    raw = raw_body(event.body, is_base64_encoded=bool(event.is_base64_encoded), max_bytes=MAX_BODY_BYTES)
    key = use(deps.push_secret)
    why_not = refusal(key, raw, {k.lower(): str(v) for k, v in event.headers.items()}, use(deps.utc_now))
    if why_not is not None and not key:  # the log says why; the caller is not told the route is off
        logger.error("1C push refused: no push secret is configured (onec_push_secret)")
        why_not = f"{SIGNATURE_HEADER} does not match"
    if why_not is not None:
        raise Unauthorized(why_not)
    report = handle_push(use(deps.payments_context), read_body(PushBody, raw, "{objects: [{type, ref}]}"))
    return api.reply(202, report.as_dict())


handler = api.handler
