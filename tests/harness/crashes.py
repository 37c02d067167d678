"""The error records an emulator logs when a request crashes it, for tests that must see none."""

from __future__ import annotations

import logging


class ErrorRecords(logging.Handler):
    """Collects every record at ERROR or above from the logger it is added to."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
