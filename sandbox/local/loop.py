"""A daemon thread running `_run` until stopped: the shape of every local-stack poller and timer."""

from __future__ import annotations

import threading


class BackgroundLoop:
    """Subclasses implement `_run`, checking `self._stop` (an Event they may also wait on)."""

    def __init__(self, name: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)
