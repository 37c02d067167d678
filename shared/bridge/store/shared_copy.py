"""A value every worker reads and any one refreshes, kept as a cursor item (`CURSOR#<name>`).

For data that is the same for every container and costly to fetch (the 1C employee directory:
two full list calls): the first container to miss reads the source and saves it here; the others,
cold or not, take it from SyncTable until it is older than their limit. Saving is best effort:
when two containers save at once, one write wins and both copies are equally fresh.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bridge.observability import logger
from bridge.store.cursors import CursorStore
from bridge.store.errors import CursorConflict


class SharedCopy:
    def __init__(self, cursors: CursorStore, name: str, clock: Callable[[], float]) -> None:
        self._cursors = cursors
        self._name = name
        self._clock = clock

    def load(self) -> tuple[float, Any] | None:
        """(age in seconds, the saved rows), or None when nothing is saved."""
        try:
            cursor = self._cursors.get(self._name)
        except Exception as error:  # SyncTable busy: the caller reads the source itself
            logger.warning(
                "shared copy not read; reading the source instead",
                extra={"copy": self._name, "error": type(error).__name__, "reason": str(error)},
            )
            return None
        if cursor is None or "rows" not in cursor.value:
            return None
        age = self._clock() - cursor.updated_at.timestamp()
        return max(age, 0.0), cursor.value["rows"]

    def save(self, rows: Any) -> None:
        """Save `rows`, just read from the source."""
        try:
            current = self._cursors.get(self._name)
            expected = None if current is None else current.version
            self._cursors.put(self._name, {"rows": rows}, expected_version=expected)
        except CursorConflict:
            pass  # another container saved a copy just now; it is as fresh as ours
        except Exception as error:  # too big for one item, throttled: the next miss reads the source again
            logger.warning(
                "shared copy not saved; other containers read the source themselves",
                extra={"copy": self._name, "error": type(error).__name__, "reason": str(error)},
            )
