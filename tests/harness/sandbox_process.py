"""`python -m sandbox` as `make sandbox` starts it, only on free ports and with its ready file,
`.sandbox.env` and log in a test's own folder (never the checkout's)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sandbox.template import ROOT
from tests.harness.waiting import eventually

START_TIMEOUT_S = 300.0  # a busy 2-core machine imports every function's container at once
FREE_PORTS = ("--port-api", "0", "--port-moto", "0", "--port-b24", "0", "--port-onec", "0")


def log_tail(path: Path) -> str:
    return path.read_text("utf-8", errors="replace")[-3000:]


@contextmanager
def running_sandbox(folder: Path, *options: str) -> Iterator[dict[str, Any]]:
    """The sandbox's ready file once it is written, with the paths of its `env` file and `log`;
    stopped on exit with Ctrl-C, as a person stops it."""
    ready_file, env_file, log_file = folder / "ready.json", folder / ".sandbox.env", folder / "sandbox.log"
    command = [sys.executable, "-m", "sandbox", *FREE_PORTS, *options]
    with log_file.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [*command, "--ready-file", str(ready_file), "--env-file", str(env_file)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:

            def ready() -> dict[str, Any] | None:
                if process.poll() is not None:
                    raise AssertionError(f"sandbox exited {process.returncode}: {log_tail(log_file)}")
                if not ready_file.exists():
                    return None
                data: dict[str, Any] = json.loads(ready_file.read_text("utf-8"))
                return data

            yield {
                **eventually(ready, START_TIMEOUT_S, "the sandbox's ready file"),
                "env": env_file,
                "log": log_file,
            }
        finally:
            process.send_signal(signal.SIGINT)  # Ctrl-C, as a person stops it
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
