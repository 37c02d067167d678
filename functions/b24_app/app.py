"""The «1С» tab of the Bitrix24 deal card: install, uninstall, the tab and its resync button.

One ASGI app (bridge.deal_tab.web, Starlette) behind mangum on the HTTP API; every request is
authenticated against the configured portal before anything is read (docs/deal-tab.md).
"""

from __future__ import annotations

from mangum import Mangum

from bridge.deal_tab.web import app
from bridge.handlers import asgi

# lifespan off: the app holds no start-up state; clients are cached per container in bridge.deps.
handler = asgi(Mangum(app, lifespan="off"))
