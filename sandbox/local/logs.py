"""One readable line per step on the console: time, component, message."""

from __future__ import annotations

import logging
import sys


def configure(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s.%(msecs)03d %(name)-16s %(message)s", "%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("sandbox").setLevel(level)
    # Emulators may log under their own names; keep them readable but not chatty.
    for noisy in (
        "botocore",
        "boto3",
        "urllib3",
        "httpx",
        "httpcore",
        "uvicorn",
        "uvicorn.access",
        "werkzeug",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
