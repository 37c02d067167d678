"""Embedded DynamoDB/SQS: moto in server mode, reached over real HTTP like AWS."""

from __future__ import annotations

from moto.server import ThreadedMotoServer

from sandbox.serve import free_port


def start_moto(host: str = "127.0.0.1", port: int | None = None) -> tuple[ThreadedMotoServer, str]:
    chosen = port or free_port(host)
    server = ThreadedMotoServer(ip_address=host, port=chosen, verbose=False)
    server.start()
    return server, f"http://{host}:{chosen}"
