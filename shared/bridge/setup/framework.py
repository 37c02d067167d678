"""Setup steps, their results, and the runner.

A step never raises for something a person can fix: it returns a `SetupProblem` naming what is
missing where and how to fix it, so one run lists every problem at once. Steps are idempotent:
a second run finds everything in place and reports no actions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bridge.errors import BridgeError

# The ports a step gets (`bridge.deps.Ports`). The framework only hands them on, so it does not
# import the wiring layer above it.
type AnyPorts = Any


@dataclass(frozen=True)
class SetupProblem:
    """Something missing or wrong that keeps a flow from running."""

    where: str  # the system and place: "Bitrix24 deal funnels", "1C Catalog_Организации"
    what: str  # what is missing or wrong
    fix: str  # what a person does about it

    def line(self) -> str:
        return f"{self.where}: {self.what} — {self.fix}"


class SetupStep(Protocol):
    """A flow's `setup(ports, *, dry_run)`. It creates what it needs itself (shared helpers:
    `bridge.setup.onec_names.ensure_folder`, `bridge.setup.b24_fields`), so steps need not care
    what the others made; the list of steps is `bridge.operations.SETUP_STEPS`."""

    def __call__(self, ports: AnyPorts, *, dry_run: bool) -> list[SetupProblem | str]: ...


@dataclass(frozen=True)
class StepReport:
    name: str
    problems: tuple[SetupProblem, ...] = ()
    actions: tuple[str, ...] = ()


@dataclass(frozen=True)
class SetupReport:
    dry_run: bool
    steps: tuple[StepReport, ...] = field(default_factory=tuple)

    @property
    def problems(self) -> tuple[SetupProblem, ...]:
        return tuple(p for step in self.steps for p in step.problems)

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(a for step in self.steps for a in step.actions)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        out: list[str] = []
        for step in self.steps:
            out += [f"[{step.name}] {a}" for a in step.actions]
            out += [f"[{step.name}] PROBLEM {p.line()}" for p in step.problems]
        verdict = "ready" if self.ok else f"{len(self.problems)} problem(s)"
        out.append(f"setup{' (dry run)' if self.dry_run else ''}: {verdict}")
        return out


def _split(results: Sequence[SetupProblem | str]) -> tuple[tuple[SetupProblem, ...], tuple[str, ...]]:
    problems = tuple(r for r in results if isinstance(r, SetupProblem))
    actions = tuple(r for r in results if isinstance(r, str))
    return problems, actions


def run_steps(
    steps: Sequence[tuple[str, Callable[..., list[SetupProblem | str]]]], ports: AnyPorts, *, dry_run: bool
) -> SetupReport:
    reports: list[StepReport] = []
    for name, step in steps:
        try:
            problems, actions = _split(step(ports, dry_run=dry_run))
        except BridgeError as error:
            # A system that is down or a wrong credential: say so and carry on with the others.
            problems = (SetupProblem(name, str(error), "check the connection settings and run setup again"),)
            actions = ()
        reports.append(StepReport(name=name, problems=problems, actions=actions))
    return SetupReport(dry_run=dry_run, steps=tuple(reports))
