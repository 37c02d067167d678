"""The setup command: makes both systems ready for the flows, idempotently.

Each flow contributes a step `setup(ports, *, dry_run) -> list[SetupProblem | str]` (problems it
found, actions it took or would take); `bridge.operations.run_setup` runs them in order and
persists nothing itself. This package imports no flow: the flows build on it.
`python -m bridge.cli setup [--dry-run]` prints one line per problem and action.
"""

from bridge.setup.framework import SetupProblem, SetupReport, SetupStep, StepReport, run_steps

__all__ = ["SetupProblem", "SetupReport", "SetupStep", "StepReport", "run_steps"]
