"""Servers in forked processes of their own, for the benches: moto, and whatever a bench forks.

On AWS, DynamoDB and SQS spend none of the CPU that serves the emulators and the local API; in
one process with them, moto's requests from every function queue behind theirs for one
interpreter lock (docs/performance.md, P3). This module does not import moto, so the process that
forks it does not hold moto's modules: with them imported into the catalog bench's process,
fast_bitrix24's 1 000-product load there took 0.34 s instead of 0.25 s (why exactly was not
pinned down; a bigger heap for every garbage collection to walk is the likely part).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def serving_in_child(target: Callable[..., None], *args: Any) -> Iterator[Any]:
    """Forks a process that runs `target(conn, *args)` and yields the first thing it sends.

    The target starts its servers, sends where they are, then waits on `conn.recv()`: leaving
    the block sends it "stop". Fork before threads start: the child keeps only the thread that
    forked."""
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe()
    process = context.Process(target=target, args=(child, *args), daemon=True)
    process.start()
    try:
        yield parent.recv()
    finally:
        parent.send("stop")
        process.join(5)
        if process.is_alive():
            process.terminate()


@contextmanager
def moto_in_own_process() -> Iterator[str]:
    """The URL of a moto server in a forked process of its own. A local stack enforces IAM only
    on a moto it runs itself (`sandbox.moto_server.started_here`), so functions reach this one
    with the shared test key."""
    with serving_in_child(_serve_moto) as url:
        yield str(url)


def _serve_moto(conn: Any) -> None:
    from sandbox.moto_server import start_moto

    _, url = start_moto()
    conn.send(url)
    conn.recv()
