"""What an operator runs by hand (through `bridge.cli`): setup, the catalog now, dead-letter replay,
pushing the mapping to Parameter Store.

Top layer, beside `bridge.deps`: it may name every flow, which the lower layers (setup framework,
pipeline) never do. Each action takes its ports and returns a report; printing is the CLI's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bridge import aws, settings
from bridge.catalog.progress import Sink
from bridge.catalog.report import RunReport
from bridge.catalog.runs import run_nomenclature, run_stock
from bridge.catalog.setup import setup as catalog_setup
from bridge.deals.setup import setup as deal_setup
from bridge.errors import ConfigurationError
from bridge.parties.setup import setup as parties_setup
from bridge.payments.setup import setup as payments_setup
from bridge.pipeline.replay import ReplayReport, replay_dead_letters
from bridge.ports import Ports
from bridge.setup import SetupReport, SetupStep, run_steps

# In order: the deal step first (payments rely on its user fields). Each step creates what it
# needs itself, so a new flow's step is appended here without caring what the others made: one
# run on a fresh base must pass.
SETUP_STEPS: Sequence[tuple[str, SetupStep]] = (
    ("deals", deal_setup),
    ("payments", payments_setup),
    ("catalog", catalog_setup),
    ("parties", parties_setup),
)


def run_setup(ports: Ports, dry_run: bool = False) -> SetupReport:
    """Run every flow's setup step against the systems `ports` point at."""
    return run_steps(SETUP_STEPS, ports, dry_run=dry_run)


def run_catalog(what: str, ports: Ports, *, dry_run: bool, sink: Sink) -> RunReport:
    """`sync`: 1C nomenclature, groups and prices → Bitrix24; `stock`: 1C balances → Bitrix24."""
    run = run_nomenclature if what == "sync" else run_stock
    return run(ports, dry_run=dry_run, sink=sink)


def replay(
    dead_letter_url: str, limit: int | None = None, *, entity: str | None = None, dry_run: bool = False
) -> ReplayReport:
    """Put dead-lettered events back on the events queue (the queue named in the settings);
    `entity` (`DEAL-42`): only that record's; `dry_run`: list them, move nothing."""
    queue_url = settings.runtime_settings().queue_url
    if not queue_url:
        raise ConfigurationError(
            f"bad setting: {settings.ENV_PREFIX}QUEUE_URL: the events queue to replay into"
        )
    return replay_dead_letters(
        aws.sqs_client(settings.runtime_settings().aws_endpoint_url),
        dead_letter_url=dead_letter_url,
        queue_url=queue_url,
        limit=limit,
        entity=entity,
        dry_run=dry_run,
    )


@dataclass(frozen=True)
class MappingPush:
    """What `push_mapping` did: the problems that stopped it, or the parameter version written."""

    parameter: str
    problems: tuple[str, ...] = ()
    version: int | None = None
    max_age_s: float = 0.0


def mapping_parameter(name: str | None = None) -> str:
    found = name or settings.runtime_settings().mapping_parameter
    if not found:
        raise ConfigurationError(
            f"bad setting: {settings.ENV_PREFIX}MAPPING_PARAMETER: the Parameter Store parameter "
            "holding the mapping (stack output MappingParameterName)"
        )
    return found


def push_mapping(text: str, parameter: str | None = None) -> MappingPush:
    """Validate a mapping file and, when it has no problem, write it to the mapping parameter.
    Functions use it from their next re-read (`BRIDGE_MAPPING_MAX_AGE_S`)."""
    runtime = settings.runtime_settings()
    name = mapping_parameter(parameter)
    problems = tuple(settings.mapping_problems(text))
    if problems:
        return MappingPush(name, problems=problems)
    value = settings.encode_mapping_parameter(text)
    version = aws.write_parameter(name, value, runtime.aws_endpoint_url)
    return MappingPush(name, version=version, max_age_s=runtime.mapping_max_age_s)


@dataclass(frozen=True)
class RemoteSetup:
    """What the SetupFunction answered: its report lines, or the error it died of."""

    function: str
    ok: bool
    lines: tuple[str, ...]


def run_setup_on_aws(dry_run: bool = False, function: str | None = None) -> RemoteSetup:
    """Invoke the SetupFunction (template.yaml) and wait for its report: setup runs inside AWS with
    the functions' own secret, mapping and network path to 1C."""
    runtime = settings.runtime_settings()
    name = function or runtime.setup_function
    if not name:
        raise ConfigurationError(
            f"bad setting: {settings.ENV_PREFIX}SETUP_FUNCTION: the SetupFunction's name "
            "(stack output SetupFunctionName)"
        )
    answer, error = aws.invoke_function(name, {"dry_run": dry_run}, runtime.lambda_endpoint_url)
    if error is not None or not isinstance(answer, dict) or "lines" not in answer:
        detail = answer.get("errorMessage") if isinstance(answer, dict) else answer
        kind = answer.get("errorType") if isinstance(answer, dict) else error
        return RemoteSetup(name, False, (f"setup function {name} failed: {kind}: {detail}",))
    return RemoteSetup(name, bool(answer.get("ok")), tuple(str(line) for line in answer["lines"]))
