"""Run an ASGI app with uvicorn in a background thread (tests, local stack)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import uvicorn


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RunningServer:
    server: uvicorn.Server
    thread: threading.Thread
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def serve_in_thread(
    app: Any, host: str = "127.0.0.1", port: int | None = None, **config: Any
) -> RunningServer:
    """Start `app` on host:port (a free port when None) and return once it accepts connections."""
    chosen = port or free_port(host)
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=chosen, log_level="warning", lifespan="on", **config)
    )
    thread = threading.Thread(target=server.run, name=f"uvicorn-{chosen}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"server on {host}:{chosen} failed to start")
        if time.monotonic() > deadline:
            raise RuntimeError(f"server on {host}:{chosen} did not start within 15 s")
        time.sleep(0.02)
    return RunningServer(server, thread, host, chosen)
