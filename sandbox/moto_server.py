"""Embedded DynamoDB/SQS: moto in server mode, reached over real HTTP like AWS.

moto's DynamoDB checks conditions and writes without a lock while its HTTP server answers
requests on parallel threads, so two racing conditional writes or transactions can both succeed
there — something DynamoDB never allows. The front below serialises DynamoDB requests (a lock
around the WSGI call), which restores DynamoDB's guarantee, and leaves every other service
concurrent: SQS long polls must not block the table.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

from sandbox import moto_transactions
from sandbox.serve import free_port

type WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _SerialisedDynamoDB:
    def __init__(self, app: WsgiApp) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            return self._app(environ, start_response)
        with self._lock:
            # Materialise the body inside the lock: the write happens while it is produced.
            return list(self._app(environ, start_response))


class MotoServer:
    def __init__(self, server: BaseWSGIServer, thread: threading.Thread, url: str) -> None:
        self._server = server
        self._thread = thread
        self.url = url

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)


def start_moto(host: str = "127.0.0.1", port: int | None = None) -> tuple[MotoServer, str]:
    moto_transactions.install()
    chosen = port or free_port(host)
    app = _SerialisedDynamoDB(DomainDispatcherApplication(create_backend_app))
    server = make_server(host, chosen, app, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name=f"moto-{chosen}", daemon=True)
    thread.start()
    url = f"http://{host}:{chosen}"
    return MotoServer(server, thread, url), url
