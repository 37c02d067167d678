"""`python -m sandbox` (make sandbox): moto, both emulators, the local API, SQS pollers and schedules.
Ctrl-C stops everything."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from sandbox.local import LocalStack, LocalStackConfig
from sandbox.local.logs import configure
from sandbox.template import TEMPLATE_PATH

log = logging.getLogger("sandbox")

ENV_FILE = ".sandbox.env"  # git-ignored; `set -a; . ./.sandbox.env; set +a` before the CLI


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument(
        "--template", type=Path, default=TEMPLATE_PATH, help="SAM template (default: template.yaml)"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port-api", type=int, default=3000, help="local API Gateway (0 = any free port)")
    parser.add_argument("--port-moto", type=int, default=8000, help="moto server: DynamoDB and SQS")
    parser.add_argument("--port-b24", type=int, default=8024, help="Bitrix24 emulator")
    parser.add_argument("--port-onec", type=int, default=8081, help="1C OData emulator")
    parser.add_argument(
        "--no-emulators", action="store_true", help="do not start the Bitrix24 and 1C emulators"
    )
    parser.add_argument("--no-schedules", action="store_true", help="do not fire schedules")
    parser.add_argument(
        "--schedule-speed",
        type=float,
        default=float(os.environ.get("SANDBOX_SCHEDULE_SPEED", "1")),
        help="compress schedule time N times, e.g. 60 fires rate(1 minute) every second "
        "(env SANDBOX_SCHEDULE_SPEED)",
    )
    parser.add_argument(
        "--ready-file",
        type=Path,
        default=None,
        help="once setup has run, write the addresses and the setup verdict there as JSON "
        "(scripts and tests wait for it)",
    )
    parser.add_argument(
        "--env-file",
        type=Path,
        default=Path(ENV_FILE),
        help=f"write the CLI's settings for this sandbox there (default: {ENV_FILE})",
    )
    parser.add_argument("--verbose", "-v", action="store_true")
    args = parser.parse_args(argv)
    if args.schedule_speed <= 0:
        parser.error("--schedule-speed must be positive")
    return args


def make_ready(stack: LocalStack) -> dict[str, Any]:
    """Setup on the started stack, so a deal created through the webhook flows at once: user
    fields, stages, the 1C folder and attribute, every flow's ids resolved (docs/sandbox.md)."""
    ready: dict[str, Any] = {
        "api_url": stack.api_url,
        "moto_url": stack.moto_url,
        "b24_webhook_url": stack.b24_webhook_url if stack.b24 is not None else None,
        "onec_base_url": stack.onec_base_url if stack.onec is not None else None,
        "setup": None,
    }
    if stack.b24 is None or stack.onec is None:
        log.warning("setup skipped: it needs both emulators (or run `python -m bridge.cli setup` yourself)")
        return ready
    from sandbox.world.deals import run_setup

    report = run_setup(stack)
    for line in report.lines():
        log.info("setup: %s", line)
    for problem in report.problems:
        # The world still starts, but a flow that needs this will refuse its events.
        log.error("setup problem: %s", problem.line())
    ready["setup"] = {"ok": report.ok, "lines": report.lines()}
    log.info("sandbox %s", "ready" if report.ok else "started, but setup left problems (see above)")
    return ready


def write_env_file(path: Path, stack: LocalStack) -> None:
    """The BRIDGE_* and AWS settings of the CLI for this sandbox, as shell assignments: after
    `set -a; . ./.sandbox.env; set +a` every operator command acts on the sandbox as on AWS."""
    lines = [
        "# Written by `make sandbox` for the running sandbox; stale once it stops. Not a secret store:",
        "# the values are the emulators' own. Use: set -a; . ./.sandbox.env; set +a",
        *(f"{name}={shlex.quote(value)}" for name, value in sorted(stack.cli_environment().items())),
    ]
    partial = path.with_name(path.name + ".partial")
    partial.write_text("\n".join(lines) + "\n", "utf-8")
    partial.replace(path)


def check_line(env_file: Path) -> str:
    shown = env_file if env_file.is_absolute() else f"./{env_file}"
    return f"set -a; . {shlex.quote(str(shown))}; set +a; python -m bridge.cli check"


def write_ready_file(path: Path, ready: dict[str, Any]) -> None:
    # Written whole, then renamed: a reader never sees half a file.
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(ready, ensure_ascii=False, indent=2), "utf-8")
    partial.replace(path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure(logging.DEBUG if args.verbose else logging.INFO)
    config = LocalStackConfig(
        template_path=args.template.resolve(),
        host=args.host,
        api_port=args.port_api or None,
        moto_port=args.port_moto or None,
        b24_port=args.port_b24 or None,
        onec_port=args.port_onec or None,
        emulators=not args.no_emulators,
        schedules=not args.no_schedules,
        schedule_speed=args.schedule_speed,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stack = LocalStack(config)
    try:
        stack.start()
        ready = make_ready(stack)
        write_env_file(args.env_file, stack)
        if args.ready_file is not None:
            write_ready_file(args.ready_file, ready)
        log.info("CLI settings for this sandbox: %s", args.env_file)
        # The last thing printed: the operator's next step, copy-pasted into another shell (with
        # the project's .venv active, docs/deploy.md).
        print("\nsandbox ready; in another shell (. .venv/bin/activate first):")
        print(f"  {check_line(args.env_file)}\n")
        sys.stdout.flush()
        log.info("Ctrl-C stops everything")
        while not stop.wait(0.5):
            pass
        log.info("stopping…")
    except (OSError, RuntimeError) as error:
        log.error("cannot start the sandbox: %s (is another sandbox running? use --port-* to move it)", error)
        return 1
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
