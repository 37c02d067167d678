"""`python -m sandbox.onec [--host H] [--port P]`: serve the emulator (default 127.0.0.1:8081)."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from sandbox.onec.app import create_app
from sandbox.onec.config import OneCEmulatorConfig


def main() -> None:
    defaults = OneCEmulatorConfig()
    parser = argparse.ArgumentParser(description="1C:УНФ 1.6 OData emulator")
    parser.add_argument("--host", default=defaults.host)
    parser.add_argument("--port", type=int, default=defaults.port)
    parser.add_argument("--user", default=defaults.username)
    parser.add_argument("--password", default=defaults.password)
    parser.add_argument("--no-seed", action="store_true", help="start with an empty infobase")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    config = OneCEmulatorConfig(
        host=args.host, port=args.port, username=args.user, password=args.password, seed=not args.no_seed
    )
    uvicorn.run(create_app(config), host=config.host, port=config.port, log_level="info")


if __name__ == "__main__":
    main()
