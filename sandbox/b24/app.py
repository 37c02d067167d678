"""The emulator's ASGI app: the REST routes of one `Emulator`, its OAuth/app routes and `/_sandbox`."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.routing import Route

import sandbox.b24.batch
import sandbox.b24.methods  # noqa: F401  (registers every REST method)
from sandbox.b24 import apps_api, card, sandbox_api
from sandbox.b24.config import B24EmulatorConfig
from sandbox.b24.emulator import Emulator


def create_app(config: B24EmulatorConfig | None = None) -> Starlette:
    emulator = Emulator(config or B24EmulatorConfig())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        emulator.bus.start()
        try:
            yield
        finally:
            emulator.bus.stop()
            emulator.save_snapshot()

    route_list = [
        *sandbox_api.routes(emulator),
        *apps_api.routes(emulator),
        *card.routes(emulator),
        Route("/rest/{user_id}/{code}/{method:path}", emulator.rest, methods=["GET", "POST"]),
        Route("/rest/{method}", emulator.oauth_rest, methods=["GET", "POST"]),
    ]
    app = Starlette(routes=route_list, lifespan=lifespan)
    app.state.emulator = emulator
    app.state.portal = emulator.portal
    return app
