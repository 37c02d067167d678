"""LocalStack: moto (DynamoDB + SQS), the emulators, the local API, SQS pollers and schedules,
built from a SAM template and running the real handlers."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Self

import boto3

from sandbox import iam, moto_server
from sandbox.local import emulators
from sandbox.local.intrinsics import LocalResource
from sandbox.local.invoker import FunctionRuntime, Invoker, function_environment
from sandbox.local.journal import Journal
from sandbox.local.model import QueueSpec, ScheduleSpec, StackModel, load_model
from sandbox.local.router import create_router
from sandbox.local.schedules import ScheduleRunner, default_scheduled_event, schedule_payload
from sandbox.local.sqs import SqsPoller
from sandbox.moto_server import start_moto
from sandbox.serve import RunningServer, serve_in_thread
from sandbox.template import TEMPLATE_PATH, create_table_from_properties, load_template

log = logging.getLogger("sandbox.stack")

B24_EVENTS_PATH = "/b24/events"


@dataclass
class LocalStackConfig:
    """Where things listen. A port of None means "any free port" (tests, demo)."""

    template_path: Path = TEMPLATE_PATH
    host: str = "127.0.0.1"
    api_port: int | None = 3000
    moto_port: int | None = 8000
    b24_port: int | None = 8024
    onec_port: int | None = 8081
    moto_url: str | None = None  # use this running moto server instead of starting one
    emulators: bool = True
    pollers: bool = True
    schedules: bool = True
    schedule_speed: float = 1.0  # > 1 compresses schedule time
    prefix: str = "sandbox-"  # of table and queue names, so stacks can share one moto server
    region: str = "eu-central-1"
    extra_env: dict[str, str] = field(default_factory=dict)  # added to every function's environment
    prewarm: bool = True  # start one container per function at start-up (its init runs meanwhile)
    # Functions read their secrets from the template's Secrets Manager secrets on moto (created
    # with the sandbox values) instead of BRIDGE_* variables: rotation and per-function secrets
    # then behave as in AWS.
    secrets_manager: bool = False
    # Worker invocations at once per SQS mapping: 1 (default) runs them one by one; None honours
    # the template's ScalingConfig.MaximumConcurrency as Lambda does (bench.deals_load). Not the
    # default yet: at 5, flows of one record's neighbours (a deal and its contact's own event)
    # race, see docs/performance.md "P3".
    sqs_max_concurrency: int | None = 1
    # Every function signs with its own access key and the moto started here refuses DynamoDB
    # requests outside the function's policy in template.yaml, as IAM does (sandbox.iam).
    enforce_iam: bool = True

    @classmethod
    def ephemeral(cls, **overrides: Any) -> LocalStackConfig:
        ports = {"api_port": None, "moto_port": None, "b24_port": None, "onec_port": None}
        return cls(**{**ports, **overrides})


class LocalStack:
    def __init__(self, config: LocalStackConfig | None = None) -> None:
        self.config = config or LocalStackConfig()
        self.journal = Journal()
        self.invoker = Invoker(self.journal)
        self.model: StackModel = load_model(
            self.config.template_path, prefix=self.config.prefix, region=self.config.region
        )
        self.moto_url = ""
        self.queue_urls: dict[str, str] = {}
        self.b24: RunningServer | None = None
        self.onec: RunningServer | None = None
        self.api: RunningServer | None = None
        self.pollers: list[SqsPoller] = []
        self.schedulers: list[ScheduleRunner] = []
        self._moto: Any = None
        self._started = False

    # -- addresses ----------------------------------------------------------------------------
    @property
    def api_url(self) -> str:
        assert self.api is not None, "not started"
        return self.api.url

    @property
    def b24_webhook_url(self) -> str:
        port = self._port(self.b24, self.config.b24_port, 8024)
        return f"http://{self.config.host}:{port}{emulators.WEBHOOK_PATH}"

    @property
    def onec_base_url(self) -> str:
        port = self._port(self.onec, self.config.onec_port, 8081)
        return f"http://{self.config.host}:{port}{emulators.ODATA_PATH}"

    @staticmethod
    def _port(server: RunningServer | None, configured: int | None, default: int) -> int:
        return server.port if server is not None else configured or default

    def client(self, service: str) -> Any:
        factory: Any = boto3.client  # the service name is a plain str here, not a stub literal
        return factory(
            service,
            endpoint_url=self.moto_url,
            region_name=self.config.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> Self:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        config = self.config
        log.info(
            "template %s: %d function(s), %d route(s), %d queue(s), %d table(s), %d schedule(s)",
            config.template_path,
            len(self.model.functions),
            len(self.model.routes),
            len(self.model.queues),
            len(self.model.tables),
            len(self.model.schedules),
        )
        if config.moto_url:
            self.moto_url = config.moto_url
        else:
            self._moto, self.moto_url = start_moto(config.host, config.moto_port)
            log.info("moto server (DynamoDB, SQS) on %s", self.moto_url)
        self._create_tables()
        self._create_queues()
        if config.emulators:
            self.b24 = emulators.start_b24(config.host, config.b24_port)
            self.onec = emulators.start_onec(config.host, config.onec_port)
        self._create_secrets()
        self._create_parameters()
        self._create_functions()
        self.api = serve_in_thread(
            create_router(self.model.routes, self.invoker, self.status, self.default_event),
            config.host,
            config.api_port,
        )
        for route in self.model.routes:
            log.info("route %-28s → %s", route.route_key, route.function)
        log.info("local API on %s (control: /_local/status, /_local/invoke/<LogicalId>)", self.api.url)
        if self.b24 is not None and any(r.path == B24_EVENTS_PATH for r in self.model.routes):
            emulators.bind_b24_events(self.b24_webhook_url, self.api.url + B24_EVENTS_PATH)
        if config.pollers:
            self._start_pollers()
        if config.schedules:
            self._start_schedules()
        self._started = True
        log.info("local stack ready")

    def stop(self) -> None:
        workers: list[SqsPoller | ScheduleRunner] = [*self.pollers, *self.schedulers]
        for worker in workers:
            worker.stop()
        for worker in workers:
            worker.join(5)
        self.pollers, self.schedulers = [], []
        for server in (self.api, self.b24, self.onec):
            if server is not None:
                server.stop()
        self.api = self.b24 = self.onec = None
        self.invoker.stop()
        if self._moto is not None:
            with contextlib.suppress(Exception):
                self._moto.stop()
            self._moto = None
        if self._started:
            log.info("local stack stopped")
        self._started = False

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- resources ----------------------------------------------------------------------------
    def _create_tables(self) -> None:
        dynamodb = self.client("dynamodb")
        existing = set(dynamodb.list_tables().get("TableNames", []))
        for table in self.model.tables.values():
            if table.name not in existing:
                create_table_from_properties(
                    dynamodb, self.model.resolver.resolve(table.properties), table.name
                )
            log.info("table %s → %s", table.logical_id, table.name)

    def _create_queues(self) -> None:
        sqs = self.client("sqs")
        pending = dict(self.model.queues)
        # A redrive target must exist before the queue that names it.
        while pending:
            ready = [
                q
                for q in pending.values()
                if not self._redrive_target(q) or self._redrive_target(q) not in pending
            ]
            if not ready:
                raise ValueError(f"queues redrive to each other in a cycle: {sorted(pending)}")
            for queue in ready:
                url = sqs.create_queue(QueueName=queue.name, Attributes=self._queue_attributes(queue))[
                    "QueueUrl"
                ]
                self.queue_urls[queue.logical_id] = url
                self.model.resolver.resources[queue.logical_id] = LocalResource(
                    ref=url, attributes=self.model.resolver.resources[queue.logical_id].attributes
                )
                log.info("queue %s → %s", queue.logical_id, url)
                del pending[queue.logical_id]

    def _redrive_target(self, queue: QueueSpec) -> str | None:
        policy = queue.properties.get("RedrivePolicy")
        if not policy:
            return None
        arn = self.model.resolver.resolve(policy.get("deadLetterTargetArn"))
        return next((q.logical_id for q in self.model.queues.values() if q.arn == arn), None)

    def _queue_attributes(self, queue: QueueSpec) -> dict[str, str]:
        props = self.model.resolver.resolve(queue.properties)
        passed = (
            "FifoQueue",
            "ContentBasedDeduplication",
            "DeduplicationScope",
            "FifoThroughputLimit",
            "VisibilityTimeout",
            "MessageRetentionPeriod",
            "DelaySeconds",
            "ReceiveMessageWaitTimeSeconds",
            "MaximumMessageSize",
        )
        attributes = {
            k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in props.items() if k in passed
        }
        if props.get("RedrivePolicy"):
            attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        return attributes

    def sandbox_secret_values(self) -> dict[str, str]:
        """The sandbox value of each secret key (as `Secrets` names them); extra_env overrides."""
        values = {
            "b24_webhook_url": self.b24_webhook_url,
            "b24_application_token": emulators.APPLICATION_TOKEN,
            "onec_base_url": self.onec_base_url,
            "onec_user": emulators.ONEC_USER,
            "onec_password": emulators.ONEC_PASSWORD,
            "onec_push_secret": emulators.ONEC_PUSH_SECRET,
            "stock_refresh_token": emulators.STOCK_REFRESH_TOKEN,
            "deal_tab_key": emulators.DEAL_TAB_KEY,
        }
        for key in values:
            override = self.config.extra_env.get("BRIDGE_" + key.upper())
            if override is not None:
                values[key] = override
        return values

    def _create_secrets(self) -> None:
        """Every secret the template names, on moto, holding the sandbox values of its keys."""
        if not self.model.secrets:
            return
        client = self.client("secretsmanager")
        values = self.sandbox_secret_values()
        for spec in self.model.secrets.values():
            text = json.dumps({key: values[key] for key in spec.keys if key in values})
            try:
                client.create_secret(Name=spec.name, SecretString=text)
            except client.exceptions.ResourceExistsException:
                client.put_secret_value(SecretId=spec.name, SecretString=text)
            log.info("secret %s → %s (%s)", spec.logical_id, spec.name, ", ".join(spec.keys))

    def _create_parameters(self) -> None:
        """Every Parameter Store parameter of the template, on moto, with its deployed value; one
        that exists already (a shared moto server, a pushed mapping) is left as it is, as a
        CloudFormation update leaves a parameter whose template value did not change."""
        if not self.model.parameters:
            return
        client = self.client("ssm")
        for spec in self.model.parameters.values():
            with contextlib.suppress(client.exceptions.ParameterAlreadyExists):
                client.put_parameter(Name=spec.name, Value=spec.value, Type="String", Overwrite=False)
            log.info("parameter %s → %s", spec.logical_id, spec.name)

    def parameter_name(self, logical_id: str) -> str:
        return self.model.parameters[logical_id].name

    def put_secret(self, logical_id: str, **values: str) -> None:
        """Change keys of a template secret on moto (a rotation, as an operator would do it)."""
        client = self.client("secretsmanager")
        name = self.model.secrets[logical_id].name
        current = json.loads(client.get_secret_value(SecretId=name)["SecretString"])
        client.put_secret_value(SecretId=name, SecretString=json.dumps({**current, **values}))

    def function_variables(self, logical_id: str) -> dict[str, str]:
        """The function's environment as the local stack resolves it (without Lambda's own variables)."""
        spec = self.model.functions[logical_id]
        variables: dict[str, str] = {}
        for name, raw in spec.environment.items():
            value = self.model.resolver.resolve(raw)
            if value is not None:
                variables[name] = str(value).lower() if isinstance(value, bool) else str(value)
        variables["BRIDGE_AWS_ENDPOINT_URL"] = self.moto_url
        for name, value in emulators.PORTAL_IDENTITY.items():
            if name in variables and not variables[name]:
                variables[name] = value  # the template's empty default: the emulator is the portal
        if self.config.secrets_manager:
            # The secret ids stay (they name the secrets on moto); no secret travels in a variable.
            variables.update({k: v for k, v in self.config.extra_env.items() if not _is_secret_variable(k)})
            return variables
        for name in [n for n in variables if n.endswith("SECRET_ID")]:
            del variables[name]  # locally the secrets come from the variables below
        variables.update(
            {"BRIDGE_" + key.upper(): value for key, value in self.sandbox_secret_values().items()}
        )
        variables.update(self.config.extra_env)
        return variables

    def cli_environment(self) -> dict[str, str]:
        """What `python -m bridge.cli` needs to act on this stack as an operator acts on AWS: the
        flows' BRIDGE_* settings (table, queue, mapping parameter, endpoints, sandbox secrets) and
        the AWS settings for moto (`make sandbox` writes them to .sandbox.env)."""
        flow = next(
            (
                f
                for f in self.model.functions
                if "BRIDGE_MAPPING_PARAMETER" in self.model.functions[f].environment
            ),
            next(iter(self.model.functions)),
        )
        variables = {k: v for k, v in self.function_variables(flow).items() if k.startswith("BRIDGE_")}
        setup = self.model.functions.get("SetupFunction")
        if setup is not None and self.api is not None:
            # `setup --on-aws` invokes it through the local API's Lambda Invoke route.
            variables |= {"BRIDGE_SETUP_FUNCTION": setup.name, "BRIDGE_LAMBDA_ENDPOINT_URL": self.api.url}
        return variables | {
            "AWS_DEFAULT_REGION": self.config.region,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }

    def _create_functions(self) -> None:
        enforcing = self.config.enforce_iam and self._own_moto() is not None
        if enforcing:
            self._enforce_iam()
        for logical_id, spec in self.model.functions.items():
            arn = self.model.resolver.get_att(logical_id, "Arn")
            env = function_environment(
                spec, self.function_variables(logical_id), region=self.config.region, function_arn=arn
            )
            if enforcing:
                env["AWS_ACCESS_KEY_ID"] = iam.access_key(logical_id)
            runtime = FunctionRuntime(spec, env)
            self.invoker.add(runtime)
            if self.config.prewarm:
                runtime.prewarm()
            log.info(
                "function %s: %s (%s, %d s, %d MB)",
                logical_id,
                spec.handler,
                os.path.relpath(spec.code_dir),
                spec.timeout_s,
                spec.memory_mb,
            )

    def _own_moto(self) -> Any:
        """The moto server this process runs for the stack (started here or shared in-process)."""
        return self._moto or (moto_server.started_here(self.moto_url) if self.moto_url else None)

    def _enforce_iam(self) -> None:
        resources = load_template(self.config.template_path)["Resources"]
        names = {table.logical_id: table.name for table in self.model.tables.values()}
        hash_keys = {
            table.name: next(
                k["AttributeName"] for k in table.properties.get("KeySchema", []) if k["KeyType"] == "HASH"
            )
            for table in self.model.tables.values()
        }
        grants = {
            iam.access_key(logical_id): iam.table_grants(resources[logical_id], names)
            for logical_id in self.model.functions
        }
        self._own_moto().enforce(iam.DynamoDBPolicies(grants, hash_keys))
        log.info("moto refuses DynamoDB requests outside each function's policy (sandbox.iam)")

    def _start_pollers(self) -> None:
        sqs = self.client("sqs")
        for source in self.model.sqs_sources:
            if not source.enabled:
                log.info("SQS source %s.%s is disabled: not polled", source.function, source.event_id)
                continue
            queue = self.model.queues[source.queue]
            if self.config.sqs_max_concurrency is not None:
                source = replace(source, max_concurrency=self.config.sqs_max_concurrency)
            poller = SqsPoller(
                source, queue, self.queue_urls[queue.logical_id], sqs, self.invoker, self.config.region
            )
            poller.start()
            self.pollers.append(poller)
            log.info(
                "poller %s → %s (batch %d%s, up to %d at once)",
                queue.logical_id,
                source.function,
                source.batch_size,
                ", ReportBatchItemFailures" if source.report_batch_item_failures else "",
                source.max_concurrency,
            )

    def _start_schedules(self) -> None:
        for spec in self.model.schedules:
            if not spec.enabled:
                log.info("schedule %s (%s) is disabled: not fired", spec.name, spec.expression)
                continue
            try:
                runner = ScheduleRunner(spec, self.invoker, self.config.region, self.config.schedule_speed)
            except ValueError as error:
                log.warning("schedule %s: %s; not fired", spec.name, error)
                continue
            runner.start()
            self.schedulers.append(runner)
            speed = f" at ×{self.config.schedule_speed:g}" if self.config.schedule_speed != 1 else ""
            log.info("schedule %s: %s → %s%s", spec.name, spec.expression, spec.function, speed)

    # -- control API --------------------------------------------------------------------------
    def default_event(self, logical_id: str) -> Any:
        schedule = next((s for s in self.model.schedules if s.function == logical_id), None)
        if schedule is not None:
            return schedule_payload(schedule, self.config.region)
        return default_scheduled_event(self.config.region)

    @staticmethod
    def _schedule_status(spec: ScheduleSpec, runner: ScheduleRunner | None) -> dict[str, Any]:
        next_fire = runner.next_fire_at if runner is not None else None
        return {
            "name": spec.name,
            "function": spec.function,
            "expression": spec.expression,
            "kind": spec.kind,
            "enabled": runner is not None,
            "fired": runner.fired if runner is not None else 0,
            "next_fire_in_s": None if next_fire is None else round(max(0.0, next_fire - time.time()), 1),
            "last_outcome": runner.last_outcome if runner is not None else None,
        }

    def status(self) -> dict[str, Any]:
        sqs = self.client("sqs")
        queues = {}
        for logical_id, url in self.queue_urls.items():
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]).get("Attributes", {})
            queues[logical_id] = {
                "url": url,
                "arn": self.model.queues[logical_id].arn,
                "visible": int(attributes.get("ApproximateNumberOfMessages", 0)),
                "in_flight": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
            }
        runners = {r.spec.name: r for r in self.schedulers}
        return {
            "functions": {
                fid: {
                    "name": f.name,
                    "handler": f.handler,
                    "code_dir": str(f.code_dir),
                    "timeout_s": f.timeout_s,
                    "memory_mb": f.memory_mb,
                }
                for fid, f in self.model.functions.items()
            },
            "routes": [
                {"route_key": r.route_key, "function": r.function, "payload": r.payload_version}
                for r in self.model.routes
            ],
            "queues": queues,
            "tables": {t.logical_id: t.name for t in self.model.tables.values()},
            "sqs_sources": [
                {"queue": s.queue, "function": s.function, "enabled": s.enabled, "batch_size": s.batch_size}
                for s in self.model.sqs_sources
            ],
            "schedules": [self._schedule_status(s, runners.get(s.name)) for s in self.model.schedules],
            "endpoints": {
                "api": self.api.url if self.api else None,
                "moto": self.moto_url,
                "b24_webhook": self.b24_webhook_url if self.b24 else None,
                "onec_odata": self.onec_base_url if self.onec else None,
            },
            "last_runs": [i.summary() for i in self.journal.entries()[-20:]],
        }


def _is_secret_variable(name: str) -> bool:
    return name in {
        "BRIDGE_B24_WEBHOOK_URL",
        "BRIDGE_B24_APPLICATION_TOKEN",
        "BRIDGE_ONEC_BASE_URL",
        "BRIDGE_ONEC_USER",
        "BRIDGE_ONEC_PASSWORD",
        "BRIDGE_ONEC_PUSH_SECRET",
        "BRIDGE_STOCK_REFRESH_TOKEN",
        "BRIDGE_DEAL_TAB_KEY",
    }
