"""A moto server in a forked process of its own, for the benches.

On AWS, DynamoDB and SQS spend none of the CPU that serves the emulators and the local API; in
one process with them, moto's requests from every function queue behind theirs for one
interpreter lock (docs/performance.md, P3). This module does not import moto: the process that
forks it keeps its heap free of moto's objects, which every garbage collection there would
otherwise walk (with moto imported, fast_bitrix24's 1 000-product load in the catalog bench took
0.34 s instead of 0.25 s).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def moto_in_own_process() -> Iterator[str]:
    """The URL of a moto server in a forked process of its own. A local stack enforces IAM only
    on a moto it runs itself (`sandbox.moto_server.started_here`), so functions reach this one
    with the shared test key. Fork it before threads start: the child keeps only the thread that
    forked."""
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe()
    process = context.Process(target=_serve_until_told, args=(child,), daemon=True, name="moto")
    process.start()
    try:
        yield parent.recv()
    finally:
        parent.send("stop")
        process.join(5)
        if process.is_alive():
            process.terminate()


def _serve_until_told(conn: Any) -> None:
    from sandbox.moto_server import start_moto

    _, url = start_moto()
    conn.send(url)
    conn.recv()
