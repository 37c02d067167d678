"""`python -m sandbox.b24 [--host H] [--port P] [--rate-limit on|off] [--snapshot FILE] ...`"""

from __future__ import annotations

import argparse
import logging

import uvicorn

from sandbox.b24.app import create_app
from sandbox.b24.config import B24EmulatorConfig, OutgoingWebhook


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.b24", description="Bitrix24 REST emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8024)
    parser.add_argument("--rate-limit", choices=("on", "off"), default="off")
    parser.add_argument("--plan", choices=("standard", "enterprise"), default="standard")
    parser.add_argument("--operating-limit", choices=("on", "off"), default="off")
    parser.add_argument("--snapshot", metavar="FILE", help="load at start if it exists, save at shutdown")
    parser.add_argument("--webhook-user", type=int, default=1)
    parser.add_argument("--webhook-code", default="sandbox")
    parser.add_argument("--application-token", default=None)
    parser.add_argument("--inventory", choices=("on", "off"), default="off", help="inventory management mode")
    parser.add_argument(
        "--outgoing-webhook",
        action="append",
        default=[],
        metavar="URL=EVENT[,EVENT...]",
        help="deliver these events to URL (repeatable)",
    )
    parser.add_argument("--ssl-keyfile")
    parser.add_argument("--ssl-certfile")
    args = parser.parse_args(argv)
    config = B24EmulatorConfig(
        webhook_user_id=args.webhook_user,
        webhook_code=args.webhook_code,
        rate_limit_enabled=args.rate_limit == "on",
        plan=args.plan,
        operating_limit_enabled=args.operating_limit == "on",
        snapshot_path=args.snapshot,
        inventory_management=args.inventory == "on",
    )
    if args.application_token:
        config.application_token = args.application_token
    for spec in args.outgoing_webhook:
        url, _, events = spec.rpartition("=")
        config.outgoing_webhooks.append(OutgoingWebhook(handler=url, events=events.split(",")))
    logging.basicConfig(level=logging.INFO)
    uvicorn.run(
        create_app(config),
        host=args.host,
        port=args.port,
        ssl_keyfile=args.ssl_keyfile,
        ssl_certfile=args.ssl_certfile,
    )


if __name__ == "__main__":
    main()
