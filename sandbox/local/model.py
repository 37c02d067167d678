"""What a SAM template declares, as plain data the local stack can run.

Read generically from the template (no function, route or queue is known by name here), so the
local stack follows template.yaml as it grows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.local.intrinsics import ACCOUNT_ID, LocalResource, Resolver
from sandbox.template import load_template

FUNCTION = "AWS::Serverless::Function"
QUEUE = "AWS::SQS::Queue"
TABLE = "AWS::DynamoDB::Table"
SIMPLE_TABLE = "AWS::Serverless::SimpleTable"
SECRET = "AWS::SecretsManager::Secret"
PARAMETER = "AWS::SSM::Parameter"

# Lambda defaults when neither the function nor Globals say otherwise.
DEFAULT_TIMEOUT_S = 3
DEFAULT_MEMORY_MB = 128


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str
    code_dir: Path
    handler: str
    timeout_s: int
    memory_mb: int
    environment: dict[str, Any]  # unresolved template values (Globals merged with the function's own)


@dataclass(frozen=True)
class RouteSpec:
    function: str
    event_id: str
    api: str  # "HttpApi" or "Api"
    method: str  # upper case, or "ANY"
    path: str  # "/b24/events", "/items/{id}", "/{proxy+}", or "$default"
    payload_version: str  # "2.0" or "1.0"

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"


@dataclass(frozen=True)
class QueueSpec:
    logical_id: str
    name: str
    arn: str
    properties: dict[str, Any]

    @property
    def fifo(self) -> bool:
        return bool(self.properties.get("FifoQueue"))


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    name: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class SecretSpec:
    """A Secrets Manager secret of the template; `keys` are the JSON keys its value holds."""

    logical_id: str
    name: str
    keys: tuple[str, ...]


@dataclass(frozen=True)
class SqsSourceSpec:
    function: str
    event_id: str
    queue: str  # logical id of the queue
    batch_size: int
    report_batch_item_failures: bool
    enabled: bool
    # ScalingConfig.MaximumConcurrency: how many invocations the mapping runs at once. Without it
    # AWS scales to the function's concurrency; the local stack then runs one at a time.
    max_concurrency: int = 1


@dataclass(frozen=True)
class ScheduleSpec:
    function: str
    event_id: str
    kind: str  # "Schedule" (EventBridge rule) or "ScheduleV2" (EventBridge Scheduler)
    name: str
    expression: str
    timezone: str
    input: Any  # the parsed Input, or None for the service's default payload
    enabled: bool
    retries: int


@dataclass(frozen=True)
class ParameterSpec:
    """A Parameter Store parameter of the template, with the value a deploy gives it."""

    logical_id: str
    name: str
    value: str


@dataclass
class StackModel:
    template_path: Path
    resolver: Resolver
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    routes: list[RouteSpec] = field(default_factory=list)
    queues: dict[str, QueueSpec] = field(default_factory=dict)
    tables: dict[str, TableSpec] = field(default_factory=dict)
    secrets: dict[str, SecretSpec] = field(default_factory=dict)
    parameters: dict[str, ParameterSpec] = field(default_factory=dict)
    sqs_sources: list[SqsSourceSpec] = field(default_factory=list)
    schedules: list[ScheduleSpec] = field(default_factory=list)


def _merged(globals_: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    merged = {**globals_, **own}
    variables = {
        **(globals_.get("Environment") or {}).get("Variables", {}),
        **(own.get("Environment") or {}).get("Variables", {}),
    }
    merged["Environment"] = {"Variables": variables}
    return merged


def _enabled(props: dict[str, Any]) -> bool:
    if props.get("Enabled") is False or str(props.get("Enabled")).lower() == "false":
        return False
    return str(props.get("State", "ENABLED")).upper() != "DISABLED"


def load_model(template_path: Path, *, prefix: str, region: str) -> StackModel:
    """Read `template_path` and name every emulated resource for this local stack (`prefix` keeps
    several stacks on one moto server apart)."""
    template = load_template(template_path)
    resources: dict[str, Any] = template.get("Resources", {})
    resolver = Resolver(
        region=region,
        parameters=template.get("Parameters", {}),
        conditions=template.get("Conditions", {}),
    )
    model = StackModel(template_path=template_path, resolver=resolver)
    # Unknown resources (secrets, alarms, log groups) have no local counterpart: Ref gives None.
    for logical_id in resources:
        resolver.resources[logical_id] = LocalResource(ref=None)
    _name_data_resources(model, resources, prefix)
    globals_ = (template.get("Globals") or {}).get("Function", {})
    for logical_id, body in resources.items():
        if body.get("Type") == FUNCTION:
            _add_function(model, logical_id, _merged(globals_, body.get("Properties") or {}), prefix)
    return model


def _name_data_resources(model: StackModel, resources: dict[str, Any], prefix: str) -> None:
    region = model.resolver.region
    for logical_id, body in resources.items():
        props = body.get("Properties") or {}
        if body.get("Type") == QUEUE:
            name = model.resolver.resolve(props.get("QueueName")) or f"{prefix}{logical_id}"
            if props.get("FifoQueue") and not name.endswith(".fifo"):
                name += ".fifo"
            arn = f"arn:aws:sqs:{region}:{ACCOUNT_ID}:{name}"
            model.queues[logical_id] = QueueSpec(logical_id, name, arn, props)
            # The URL is only known once the queue exists; the stack fills `ref` in then.
            model.resolver.resources[logical_id] = LocalResource(
                ref=None, attributes={"Arn": arn, "QueueName": name}
            )
        elif body.get("Type") == SECRET:
            name = model.resolver.resolve(props.get("Name")) or f"{prefix}{logical_id}"
            model.secrets[logical_id] = SecretSpec(logical_id, name, _secret_keys(props))
            # Ref of a secret is its ARN in AWS; the name serves as SecretId just as well on moto.
            model.resolver.resources[logical_id] = LocalResource(ref=name)
        elif body.get("Type") == PARAMETER:
            # Named by the stack's prefix, not the template's "/<stack>/…": stacks sharing one moto
            # server keep their own parameter.
            name = f"/{prefix}{logical_id}"
            value = str(model.resolver.resolve(props.get("Value")) or "")
            model.parameters[logical_id] = ParameterSpec(logical_id, name, value)
            model.resolver.resources[logical_id] = LocalResource(ref=name)
        elif body.get("Type") in (TABLE, SIMPLE_TABLE):
            name = model.resolver.resolve(props.get("TableName")) or f"{prefix}{logical_id}"
            arn = f"arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{name}"
            model.tables[logical_id] = TableSpec(logical_id, name, props)
            model.resolver.resources[logical_id] = LocalResource(
                ref=name, attributes={"Arn": arn, "StreamArn": f"{arn}/stream/local"}
            )


def _secret_keys(props: dict[str, Any]) -> tuple[str, ...]:
    generate = props.get("GenerateSecretString") or {}
    keys: list[str] = []
    template = generate.get("SecretStringTemplate") or props.get("SecretString")
    if isinstance(template, str):
        try:
            keys = list(json.loads(template))
        except ValueError:
            keys = []
    if generate.get("GenerateStringKey"):
        keys.append(str(generate["GenerateStringKey"]))
    return tuple(keys)


def _add_function(model: StackModel, logical_id: str, props: dict[str, Any], prefix: str) -> None:
    resolver = model.resolver
    code_uri = props.get("CodeUri")
    if not isinstance(code_uri, str):
        raise ValueError(f"{logical_id}: CodeUri must be a local directory for the local stack")
    name = resolver.resolve(props.get("FunctionName")) or f"{prefix}{logical_id}"
    arn = f"arn:aws:lambda:{resolver.region}:{ACCOUNT_ID}:function:{name}"
    resolver.resources[logical_id] = LocalResource(ref=name, attributes={"Arn": arn})
    model.functions[logical_id] = FunctionSpec(
        logical_id=logical_id,
        name=name,
        code_dir=(model.template_path.parent / code_uri).resolve(),
        handler=str(props["Handler"]),
        timeout_s=int(props.get("Timeout", DEFAULT_TIMEOUT_S)),
        memory_mb=int(props.get("MemorySize", DEFAULT_MEMORY_MB)),
        environment=dict(props["Environment"]["Variables"]),
    )
    for event_id, event in (props.get("Events") or {}).items():
        _add_event(model, logical_id, event_id, event.get("Type", ""), event.get("Properties") or {})


def _add_event(model: StackModel, function: str, event_id: str, kind: str, props: dict[str, Any]) -> None:
    if kind in ("HttpApi", "Api"):
        default_version = "2.0" if kind == "HttpApi" else "1.0"
        path = props.get("Path", "$default" if kind == "HttpApi" else "/")
        method = str(props.get("Method", "ANY")).upper()
        model.routes.append(
            RouteSpec(
                function=function,
                event_id=event_id,
                api=kind,
                method="ANY" if method == "X-AMAZON-APIGATEWAY-ANY-METHOD" else method,
                path=path,
                payload_version=str(props.get("PayloadFormatVersion", default_version)),
            )
        )
    elif kind == "SQS":
        arn = model.resolver.resolve(props["Queue"])
        queue = next((q for q in model.queues.values() if arn in (q.arn, q.logical_id)), None)
        if queue is None:
            raise ValueError(f"{function}.{event_id}: queue {arn!r} is not declared in the template")
        model.sqs_sources.append(
            SqsSourceSpec(
                function=function,
                event_id=event_id,
                queue=queue.logical_id,
                batch_size=int(props.get("BatchSize", 10)),
                report_batch_item_failures="ReportBatchItemFailures"
                in (props.get("FunctionResponseTypes") or []),
                enabled=_enabled(props),
                max_concurrency=int((props.get("ScalingConfig") or {}).get("MaximumConcurrency", 1)),
            )
        )
    elif kind in ("Schedule", "ScheduleV2"):
        model.schedules.append(_schedule(model, function, event_id, kind, props))


def _schedule(
    model: StackModel, function: str, event_id: str, kind: str, props: dict[str, Any]
) -> ScheduleSpec:
    raw_input = model.resolver.resolve(props.get("Input"))
    parsed: Any = raw_input
    if isinstance(raw_input, str):
        try:
            parsed = json.loads(raw_input)
        except ValueError:
            parsed = raw_input
    expression_key = "ScheduleExpression" if kind == "ScheduleV2" else "Schedule"
    retry = props.get("RetryPolicy") or {}
    return ScheduleSpec(
        function=function,
        event_id=event_id,
        kind=kind,
        name=str(model.resolver.resolve(props.get("Name")) or f"{function}{event_id}"),
        expression=str(model.resolver.resolve(props[expression_key])),
        timezone=str(props.get("ScheduleExpressionTimezone", "UTC")),
        input=parsed,
        enabled=_enabled(props),
        retries=int(retry.get("MaximumRetryAttempts", 0)),
    )
