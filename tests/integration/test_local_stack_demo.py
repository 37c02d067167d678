"""`make demo` works: the demo exits 0 and shows each step of the path an event takes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sandbox.template import ROOT

pytestmark = pytest.mark.integration


def test_demo_replays_the_samples_and_exits_zero() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sandbox.demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "b24_events_receiver/deal_add" in out
    for step in ("sent     →", "HTTP 200", "queued   →", "dispatched →", "outcome  →", "HTTP 401"):
        assert step in out
    assert "✓ demo finished" in out
    # The samples' Bitrix24 ids are pointed at the sandbox's own objects, so no flow refuses them.
    assert "deal 7405 of the sample's portal = sandbox deal" in out
    assert "│ ERROR" not in out
