"""POST /stock/refresh: refresh the stock of given Bitrix24 products (or all) now.

Body `{"product_ids": [12, 15]}` (Bitrix24 product ids) or `{}` / `{"all": true}` for every synced
product. Header `X-Bridge-Token` must equal the shared secret (bridge.routes.stock_refresh), compared in
constant time; otherwise 401 and nothing runs. The body is strict: an unknown field (a typo such
as `produkt_ids`) is a 400, never read as "refresh everything"; over 64 KB is a 413.
"""

from __future__ import annotations

from bridge import deps
from bridge.catalog.runs import run_refresh
from bridge.handlers import HttpApi, Unauthorized, Wording, use
from bridge.http_edge import raw_body
from bridge.routes.stock_refresh import HEADER, MAX_BODY_BYTES, refresh_token, requested_ids, token_matches

LABELS = {401: "unauthorized", 413: "payload_too_large"}
WORDING = Wording(
    refused=lambda status, reason: {"error": LABELS.get(status, "bad_request"), "reason": reason},
    permanent=lambda reason: {"error": "cannot refresh", "reason": reason},
)
api = HttpApi("stock refresh", WORDING)


@api.app.post("/stock/refresh")
def stock_refresh() -> object:
    event = api.event
    if not token_matches(event.headers.get(HEADER), refresh_token()):
        raise Unauthorized(f"missing or wrong {HEADER} header")
    raw = raw_body(event.body, is_base64_encoded=bool(event.is_base64_encoded), max_bytes=MAX_BODY_BYTES)
    report = run_refresh(requested_ids(raw), use(deps.default_ports), budget_s=api.budget_s(5))
    return api.reply(200, report.as_dict())


handler = api.handler
