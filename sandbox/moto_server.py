"""Embedded DynamoDB/SQS: moto in server mode, reached over real HTTP like AWS.

moto's own server is werkzeug's development server, which closes the connection after every
answer: each DynamoDB or SQS request then costs a TCP connect and a new server thread, about a
third of a small request's CPU on both sides. The sandbox serves moto's WSGI app with waitress
instead (keep-alive, a fixed thread pool), as AWS's endpoints keep connections open.

moto's DynamoDB checks conditions and writes without a lock while its HTTP server answers
requests on parallel threads, so two racing conditional writes or transactions can both succeed
there — something DynamoDB never allows. The front below serialises DynamoDB requests (a lock
around the WSGI call), which restores DynamoDB's guarantee, and leaves every other service
concurrent: SQS long polls must not block the table.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from waitress.channel import HTTPChannel
from waitress.server import create_server

from sandbox import moto_dispatch, moto_sqs, moto_transactions
from sandbox.iam import DynamoDBPolicies, MalformedRequest, denied_response, malformed_response
from sandbox.serve import free_port

type WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _SerialisedDynamoDB:
    def __init__(self, app: WsgiApp) -> None:
        self._app = app
        self._lock = threading.Lock()
        self.policies: DynamoDBPolicies | None = None  # set by the local stack (sandbox.iam)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            return self._app(environ, start_response)
        if self.policies is not None:
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            try:
                refused = self.policies.denial(environ, body)
            except MalformedRequest as malformed:
                return _answered(start_response, *malformed_response(str(malformed)))
            if refused is not None:
                return _answered(start_response, *denied_response(refused))
        with self._lock:
            # Materialise the body inside the lock: the write happens while it is produced.
            return list(self._app(environ, start_response))


def _answered(
    start_response: Callable[..., Any], status: str, headers: list[tuple[str, str]], answer: bytes
) -> list[bytes]:
    start_response(status, [*headers, ("Content-Length", str(len(answer)))])
    return [answer]


class _QuietChannel(HTTPChannel):  # type: ignore[misc]  # waitress ships no type hints
    """waitress's connection, minus a busy loop: while a request runs, its task sends what it
    writes itself, holding the channel's output lock. Until it lets go, the main loop found the
    socket writable, failed to take that lock and polled again at once: 14 500 turns for 900
    GetItems from 6 threads, and under load the turns kept the interpreter lock from the very
    thread that would release the output lock. So a channel whose task is running is not polled
    for writing; the task wakes the loop when it is done (`service` pulls the trigger), and then
    anything it could not send goes out. Past the high watermark a task waits for the loop to
    drain its output, so there the channel is polled as before."""

    def writable(self) -> bool:
        if self.requests and self.total_outbufs_len <= self.adj.outbuf_high_watermark:
            return bool(self.will_close or self.close_when_flushed)
        return bool(super().writable())


_STARTED: dict[str, MotoServer] = {}


class MotoServer:
    def __init__(self, server: Any, thread: threading.Thread, url: str, front: _SerialisedDynamoDB) -> None:
        self._server = server
        self._thread = thread
        self._front = front
        self.url = url

    def enforce(self, policies: DynamoDBPolicies) -> None:
        """Refuse DynamoDB requests outside the signing function's policy, as IAM does; stacks
        sharing this server (each its own table names) add their policies to the others'."""
        held = self._front.policies
        self._front.policies = policies if held is None else held.joined(policies)

    def stop(self) -> None:
        # waitress's loop runs while any socket is in its map: close the kept-alive
        # connections and the listener, then it returns within one loop timeout.
        for channel in list(self._server._map.values()):
            channel.close()
        self._server.task_dispatcher.shutdown()
        self._thread.join(timeout=10)
        # A stopped server is no longer one a stack may enforce on (and the registry does not
        # keep every server a test session started).
        if _STARTED.get(self.url) is self:
            del _STARTED[self.url]


def start_moto(host: str = "127.0.0.1", port: int | None = None) -> tuple[MotoServer, str]:
    moto_transactions.install()
    moto_sqs.install()
    moto_dispatch.install()
    chosen = port or free_port(host)
    app = _SerialisedDynamoDB(DomainDispatcherApplication(create_backend_app))
    server = create_server(
        app,
        host=host,
        port=chosen,
        # SQS long polls hold a thread each; every local poller and test client may hold one.
        threads=32,
        # Every warm container keeps its botocore pool open (up to 10 connections each).
        connection_limit=1000,
        asyncore_use_poll=True,
        ident="moto",
    )
    server.channel_class = _QuietChannel
    thread = threading.Thread(target=server.run, name=f"moto-{chosen}", daemon=True)
    thread.start()
    url = f"http://{host}:{chosen}"
    running = MotoServer(server, thread, url, app)
    _STARTED[url] = running
    return running, url


def started_here(url: str) -> MotoServer | None:
    """The server at `url` when this process started it (a local stack may then enforce on it)."""
    return _STARTED.get(url)
