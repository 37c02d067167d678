"""`make sandbox` writes `.sandbox.env` and ends with the `check` line: after
`set -a; . ./.sandbox.env; set +a`, the operator's commands act on the running sandbox exactly as
they act on AWS (issue 13, "the sandbox speaks the same commands")."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.template import ROOT
from tests.harness.sandbox_process import running_sandbox

pytestmark = pytest.mark.acceptance


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with running_sandbox(tmp_path_factory.mktemp("sandbox-env"), "--no-schedules") as ready:
        yield ready


def _operator(env_file: Path, cli: str) -> subprocess.CompletedProcess[str]:
    """A shell with none of the test's BRIDGE_* settings, as the page tells a person to type it."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BRIDGE_", "AWS_"))}
    clean["PATH"] = f"{Path(sys.executable).parent}:{clean.get('PATH', '')}"
    script = f"set -a; . {env_file}; set +a; python -m bridge.cli {cli}"
    return subprocess.run(
        ["bash", "-c", script], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=600, check=False
    )


def test_the_env_file_holds_the_clis_settings_and_the_check_line_is_printed(sandbox: dict[str, Any]) -> None:
    text = sandbox["env"].read_text("utf-8")
    names = {line.split("=", 1)[0] for line in text.splitlines() if line and not line.startswith("#")}
    assert {"BRIDGE_TABLE_NAME", "BRIDGE_AWS_ENDPOINT_URL", "BRIDGE_MAPPING_PARAMETER"} <= names
    assert {"BRIDGE_B24_WEBHOOK_URL", "BRIDGE_ONEC_BASE_URL", "AWS_DEFAULT_REGION"} <= names
    assert f"BRIDGE_AWS_ENDPOINT_URL={sandbox['moto_url']}" in text
    log = sandbox["log"].read_text("utf-8")
    assert f"set -a; . {sandbox['env']}; set +a; python -m bridge.cli check" in log


def test_mapping_show_reaches_the_sandbox(sandbox: dict[str, Any]) -> None:
    done = _operator(sandbox["env"], "mapping show")
    assert done.returncode == 0, done.stderr
    first = done.stdout.splitlines()[0]
    assert "packaged default mapping (nothing pushed to parameter /sandbox-MappingParameter yet)" in first


def test_setup_dry_run_reaches_the_sandbox_which_is_already_set_up(sandbox: dict[str, Any]) -> None:
    done = _operator(sandbox["env"], "setup --dry-run")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1] == "setup (dry run): ready"


def test_setup_on_aws_reaches_the_sandboxs_setup_function(sandbox: dict[str, Any]) -> None:
    done = _operator(sandbox["env"], "setup --on-aws --dry-run")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ran by sandbox-SetupFunction" in done.stderr
    assert done.stdout.strip().splitlines()[-1] == "setup (dry run): ready"


def _sandbox_block() -> list[str]:
    """The commands of docs/deploy.md's sandbox section, second shell, as a person copies them."""
    text = (ROOT / "docs" / "deploy.md").read_text("utf-8").split("## Sandbox", 1)[1]
    blocks = [b.split("```", 1)[0] for b in text.split("```bash\n")[1:]]
    return next(b for b in blocks if "set -a" in b).strip().splitlines()


def test_the_deploy_pages_sandbox_commands_run_as_written(sandbox: dict[str, Any]) -> None:
    from bridge.commands import COMMANDS

    lines = _sandbox_block()
    assert lines[:2] == [". .venv/bin/activate", "set -a; . ./.sandbox.env; set +a"]
    # Every command the page shows runs, `check` last: a newcomer ends with a passing check.
    known = {command.name for command in COMMANDS}
    commands = [line for line in lines[2:] if line.split()[3] in known]
    assert len(commands) >= 4
    assert commands[-1] == "python -m bridge.cli check"
    for line in commands:
        done = _operator(sandbox["env"], line.removeprefix("python -m bridge.cli "))
        assert done.returncode == 0, (line, done.stdout[-2000:], done.stderr[-2000:])
