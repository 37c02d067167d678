"""The operator's commands, one module each (`python -m bridge.cli <command>`).

A command module defines `NAME`, `HELP`, `configure(parser)` (its arguments) and `run(args) -> int`
(the exit status: 0 done, 1 a problem remains, 2 it could not start). Output: the report on stdout,
progress and diagnostics on stderr, so a deploy pipeline can read one and show the other. A new
command is a new module here, listed in `COMMANDS`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from bridge.commands import (
    catalog,
    check,
    journal,
    link_existing,
    mapping,
    parties,
    replay,
    resync,
    setup,
    status,
)


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


COMMANDS: tuple[Command, ...] = tuple(
    Command(module.NAME, module.HELP, module.configure, module.run)
    for module in (setup, catalog, replay, mapping, check, resync, link_existing, parties, journal, status)
)
