"""An operator's shell against a running local stack: `python -m bridge.cli …` as a subprocess
with only the settings `.sandbox.env` gives (`LocalStack.cli_environment`), none of the test's."""

from __future__ import annotations

import os
import subprocess
import sys

from sandbox.local import LocalStack
from sandbox.template import ROOT


def operator(stack: LocalStack, *args: str, timeout_s: float = 600.0) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BRIDGE_", "AWS_"))}
    return subprocess.run(
        [sys.executable, "-m", "bridge.cli", *args],
        cwd=ROOT,
        env=clean | stack.cli_environment(),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
