"""template.yaml is deployable: lint-clean at both levels (SAM and expanded), valid for SAM, builds
for arm64, and keeps the rules the other tiers rely on (names, least privilege, queue timing)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.template import ROOT, TEMPLATE_PATH, load_template

pytestmark = pytest.mark.infra

VENV_BIN = ROOT / ".venv" / "bin"
SAM_VENV_BIN = ROOT / ".venv-sam" / "bin"
SAM = SAM_VENV_BIN / "sam"
CFN_LINT = Path(sys.executable).parent / "cfn-lint"
EXPAND = Path(__file__).parent / "expand_sam.py"
BROKEN = sorted((ROOT / "tests" / "fixtures" / "infra").glob("broken-*.yaml"))
REGION = "eu-central-1"


def _env() -> dict[str, str]:
    """SAM needs a region and, for some commands, credentials: fake ones, never real."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
        SAM_CLI_TELEMETRY="0",
        # sam build resolves `python3.13` on PATH; the project venv's is the Lambda runtime version.
        PATH=os.pathsep.join([str(VENV_BIN), str(SAM_VENV_BIN), env.get("PATH", "")]),
    )
    return env


def _run(*args: str | Path, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def sam() -> Path:
    if not SAM.exists():
        pytest.fail(f"SAM CLI missing at {SAM}: run `make sam-venv`")
    return SAM


def _lint_expanded(template: Path, workdir: Path) -> subprocess.CompletedProcess[str]:
    """Lint the plain CloudFormation the SAM transform produces (see expand_sam.py for why)."""
    expanded = workdir / f"{template.stem}.expanded.json"
    translated = _run(SAM_VENV_BIN / "python", EXPAND, template, expanded)
    if translated.returncode != 0:
        return translated
    return _run(CFN_LINT, expanded)


# --- lint gate --------------------------------------------------------------------------------------


def test_cfn_lint_is_silent_on_the_template() -> None:
    result = _run(CFN_LINT, TEMPLATE_PATH)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_sam_validate_lint_passes(sam: Path) -> None:
    result = _run(sam, "validate", "--lint", "--region", REGION, "--template-file", TEMPLATE_PATH)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_expanded_template_is_lint_clean(sam: Path, tmp_path: Path) -> None:
    result = _lint_expanded(TEMPLATE_PATH, tmp_path)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


@pytest.fixture(params=BROKEN, ids=[p.name for p in BROKEN])
def broken_template(request: pytest.FixtureRequest) -> Path:
    path: Path = request.param
    return path


def test_lint_gate_rejects_a_broken_template(sam: Path, broken_template: Path, tmp_path: Path) -> None:
    """Each step of `make validate` plus the expanded lint; at least one must refuse."""
    results = {
        "cfn-lint": _run(CFN_LINT, broken_template),
        "sam validate --lint": _run(
            sam, "validate", "--lint", "--region", REGION, "--template-file", broken_template
        ),
        "expanded lint": _lint_expanded(broken_template, tmp_path),
    }
    refused = [step for step, result in results.items() if result.returncode != 0]
    assert refused, {step: r.stdout + r.stderr for step, r in results.items()}


def test_expanded_lint_names_the_bad_runtime_and_the_dangling_ref(sam: Path, tmp_path: Path) -> None:
    result = _lint_expanded(ROOT / "tests" / "fixtures" / "infra" / "broken-runtime-and-ref.yaml", tmp_path)
    assert result.returncode != 0
    assert "E3030 'python2.9'" in result.stdout
    assert "E1020 'TableThatDoesNotExist'" in result.stdout


def test_documented_schedule_pattern_is_valid_and_grants_the_dlq(sam: Path, tmp_path: Path) -> None:
    """docs/operations.md's ScheduleV2 example, added to the real template, expands and lints clean."""
    operations = (ROOT / "docs" / "operations.md").read_text("utf-8")
    snippet = operations.split("```yaml\n", 1)[1].split("```", 1)[0]
    template = TEMPLATE_PATH.read_text("utf-8").replace(
        "\n  # --- schedules", "\n" + snippet + "\n  # --- schedules", 1
    )
    candidate = tmp_path / "template-with-schedule.yaml"
    candidate.write_text(template, "utf-8")
    expanded = tmp_path / "expanded.json"
    translated = _run(SAM_VENV_BIN / "python", EXPAND, candidate, expanded)
    assert translated.returncode == 0, translated.stderr
    lint = _run(CFN_LINT, expanded)
    assert (lint.returncode, lint.stdout) == (0, "")
    resources = json.loads(expanded.read_text("utf-8"))["Resources"]
    schedules = {k: r for k, r in resources.items() if r["Type"] == "AWS::Scheduler::Schedule"}
    assert any(name.startswith("ExampleSyncFunction") for name in schedules)
    # Every schedule, the documented one and the flows' own, keeps the same discipline.
    for schedule in schedules.values():
        assert "Name" not in schedule["Properties"]
        assert schedule["Properties"]["Target"]["DeadLetterConfig"]["Arn"] == {
            "Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]
        }
        assert schedule["Properties"]["Target"]["RetryPolicy"]["MaximumRetryAttempts"] >= 1


# --- build ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def build_dir(sam: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    work = tmp_path_factory.mktemp("sam-build")
    build = work / "build"
    result = _run(
        sam,
        "build",
        "--region",
        REGION,
        "--template-file",
        TEMPLATE_PATH,
        "--build-dir",
        build,
        "--cache-dir",
        work / "cache",
        "--no-cached",
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    yield build
    shutil.rmtree(work, ignore_errors=True)


def test_sam_build_puts_the_bridge_package_and_arm64_wheels_in_the_layer(build_dir: Path) -> None:
    layer = build_dir / "BridgeLayer" / "python"
    assert (layer / "bridge" / "pipeline" / "receiver.py").is_file()
    assert (layer / "bridge" / "config" / "mapping.default.toml").is_file()
    binaries = list((layer / "pydantic_core").glob("_pydantic_core.cpython-313-*.so"))
    assert [b.name for b in binaries] == ["_pydantic_core.cpython-313-aarch64-linux-gnu.so"]
    assert (layer / "aws_lambda_powertools").is_dir()


def test_the_layer_leaves_the_aws_sdk_to_the_runtime(build_dir: Path) -> None:
    # README "Libraries": bundling boto3/botocore broke the 15 MB cold-start target (P5).
    layer = build_dir / "BridgeLayer" / "python"
    assert (layer / "httpx").is_dir()
    assert not [
        p.name for p in layer.iterdir() if p.name.split("-")[0] in ("boto3", "botocore", "s3transfer")
    ]


def test_the_layer_ships_bytecode_lambda_trusts_without_the_source_mtime(build_dir: Path) -> None:
    # /opt is read-only: a module without a usable .pyc is compiled on every cold start (P5,
    # 0.25 s of CPU). Unchecked hash-based .pyc (PEP 552 flags = 0b01) stay valid whatever the
    # zip does to mtimes; the magic number is the runtime's (the suite runs on 3.13, as Lambda).
    layer = build_dir / "BridgeLayer" / "python"
    sources = list(layer.rglob("*.py"))
    assert len([p for p in sources if p.parts[len(layer.parts)] == "bridge"]) > 100
    missing, wrong = [], []
    for source in sources:
        compiled = Path(importlib.util.cache_from_source(str(source)))
        if not compiled.is_file():
            missing.append(str(source.relative_to(layer)))
            continue
        header = compiled.read_bytes()[:8]
        if header[:4] != importlib.util.MAGIC_NUMBER or int.from_bytes(header[4:8], "little") != 0b01:
            wrong.append(str(source.relative_to(layer)))
    assert not missing, f"{len(missing)} modules without bytecode, e.g. {missing[:5]}"
    assert not wrong, f"{len(wrong)} .pyc not unchecked-hash for this Python, e.g. {wrong[:5]}"


def test_sam_build_keeps_functions_thin(build_dir: Path) -> None:
    for function in ("B24EventsReceiverFunction", "QueueWorkerFunction"):
        files = {p.name for p in (build_dir / function).iterdir()}
        assert "app.py" in files
        assert not files & {"pydantic", "boto3", "bridge"}, f"{function} bundles what the layer provides"


# --- rules the template keeps -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    found: dict[str, Any] = load_template()["Resources"]
    return found


def _functions(resources: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"}


def test_no_fixed_physical_names(resources: dict[str, Any]) -> None:
    """A second stack (staging next to production) must deploy into the same account."""
    name_keys = {"FunctionName", "QueueName", "TableName", "Name", "LogGroupName", "TopicName", "RoleName"}
    fixed = {(k, key) for k, v in resources.items() for key in name_keys & set(v.get("Properties", {}))}
    assert fixed == set()


def test_queue_visibility_covers_six_worker_timeouts(resources: dict[str, Any]) -> None:
    worker_timeout = resources["QueueWorkerFunction"]["Properties"]["Timeout"]
    assert resources["EventsQueue"]["Properties"]["VisibilityTimeout"] >= 6 * worker_timeout


def test_events_queue_is_fifo_with_explicit_dedup_and_a_fifo_dlq(resources: dict[str, Any]) -> None:
    queue = resources["EventsQueue"]["Properties"]
    assert (queue["FifoQueue"], queue["ContentBasedDeduplication"]) == (True, False)
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"]}
    assert resources["EventsDeadLetterQueue"]["Properties"]["FifoQueue"] is True


def test_worker_reports_partial_failures_and_has_no_function_dlq(resources: dict[str, Any]) -> None:
    worker = resources["QueueWorkerFunction"]["Properties"]
    [sqs_event] = [e["Properties"] for e in worker["Events"].values() if e["Type"] == "SQS"]
    assert sqs_event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "DeadLetterQueue" not in worker


def test_every_function_logs_to_its_own_group_with_retention(resources: dict[str, Any]) -> None:
    for name, function in _functions(resources).items():
        group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert resources[group]["Type"] == "AWS::Logs::LogGroup", name
        assert resources[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def _statements(function: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for policy in function["Properties"]["Policies"] for s in policy["Statement"]]


def test_policies_name_exact_actions_on_exact_resources(resources: dict[str, Any]) -> None:
    for name, function in _functions(resources).items():
        for statement in _statements(function):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert all("*" not in action for action in actions), (name, actions)
            assert statement["Resource"] != "*", name
            assert isinstance(statement["Resource"], dict), (name, statement["Resource"])


def test_receiver_may_only_enqueue_and_read_the_secret(resources: dict[str, Any]) -> None:
    grants = {
        (s["Action"] if isinstance(s["Action"], str) else tuple(s["Action"]), str(s["Resource"]))
        for s in _statements(resources["B24EventsReceiverFunction"])
    }
    assert grants == {
        ("sqs:SendMessage", str({"Fn::GetAtt": ["EventsQueue", "Arn"]})),
        ("secretsmanager:GetSecretValue", str({"Ref": "ReceiverSecret"})),
    }


def test_webhook_url_output_is_the_receiver_route(resources: dict[str, Any]) -> None:
    template = load_template()
    [route] = [
        e["Properties"] for e in resources["B24EventsReceiverFunction"]["Properties"]["Events"].values()
    ]
    url = template["Outputs"]["B24WebhookUrl"]["Value"]["Fn::Sub"]
    assert (route["Method"], route["Path"]) == ("POST", "/b24/events")
    assert url.startswith("https://${HttpApi}.execute-api.")
    assert url.endswith(route["Path"])


def test_sync_table_is_unchanged_by_the_skeleton(resources: dict[str, Any]) -> None:
    table = resources["SyncTable"]
    assert table["DeletionPolicy"] == "Retain"
    assert table["Properties"]["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert [k["AttributeName"] for k in table["Properties"]["KeySchema"]] == ["pk", "sk"]


# --- credentials and visibility (issue 11) ------------------------------------------------------------

_FAILURE_WORDS = ("Failed", "GaveUp", "Unreadable", "NotQueued")


def _secret_reads(function: dict[str, Any]) -> set[str]:
    return {
        s["Resource"]["Ref"] for s in _statements(function) if s["Action"] == "secretsmanager:GetSecretValue"
    }


def test_each_function_reads_only_the_secrets_it_needs(resources: dict[str, Any]) -> None:
    reads = {name: _secret_reads(f) for name, f in _functions(resources).items()}
    assert reads.pop("B24EventsReceiverFunction") == {"ReceiverSecret"}
    assert reads.pop("OneCEventsFunction") == {"BridgeSecrets", "PushSecret"}
    assert reads.pop("StockRefreshFunction") == {"BridgeSecrets", "RefreshSecret"}
    assert reads.pop("B24AppFunction") == {"BridgeSecrets", "AppSecret"}
    assert all(found == {"BridgeSecrets"} for found in reads.values()), reads
    env = resources["B24EventsReceiverFunction"]["Properties"]["Environment"]["Variables"]
    assert env["BRIDGE_RECEIVER_SECRET_ID"] == {"Ref": "ReceiverSecret"}


def test_every_function_has_an_errors_alarm_on_the_topic(resources: dict[str, Any]) -> None:
    alarmed = {
        r["Properties"]["Dimensions"][0]["Value"]["Ref"]
        for r in resources.values()
        if r["Type"] == "AWS::CloudWatch::Alarm" and r["Properties"].get("MetricName") == "Errors"
    }
    assert alarmed == set(_functions(resources))
    for resource in resources.values():
        if resource["Type"] == "AWS::CloudWatch::Alarm":
            assert resource["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_every_failure_metric_the_code_emits_has_an_alarm(resources: dict[str, Any]) -> None:
    import re

    emitted: set[str] = set()
    for path in [*(ROOT / "shared" / "bridge").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]:
        # `bridge.handlers.count("Name", …)` is the handlers' short form of add_metric.
        text = path.read_text("utf-8")
        emitted |= set(re.findall(r'(?:add_metric\(\s*name=|\bcount\(\s*)"([A-Z]\w+)"', text))
    emitted |= {"DealSyncFailed"}  # built from the notice kind (deals/notices.py)
    failures = {name for name in emitted if any(word in name for word in _FAILURE_WORDS)}
    assert {"AuthFailed", "EventsFailedPermanently", "PaymentOrdersFailed", "PartiesFailed"} <= failures
    alarmed = {
        r["Properties"]["MetricName"]
        for r in resources.values()
        if r["Type"] == "AWS::CloudWatch::Alarm" and r["Properties"].get("Namespace") == "UnfBitrixBridge"
    }
    assert failures <= alarmed, failures - alarmed


def test_alarm_topic_is_encrypted_with_a_key_cloudwatch_may_use(resources: dict[str, Any]) -> None:
    assert resources["AlarmTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "AlarmTopicKey"}
    statements = resources["AlarmTopicKey"]["Properties"]["KeyPolicy"]["Statement"]
    assert any(s["Principal"] == {"Service": "cloudwatch.amazonaws.com"} for s in statements)


def test_every_queue_refuses_plain_http(resources: dict[str, Any]) -> None:
    queues = {name for name, r in resources.items() if r["Type"] == "AWS::SQS::Queue"}
    covered: set[str] = set()
    for resource in resources.values():
        if resource["Type"] != "AWS::SQS::QueuePolicy":
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Deny" and statement["Condition"] == {
                "Bool": {"aws:SecureTransport": "false"}
            }:
                covered |= {ref["Fn::GetAtt"][0] for ref in statement["Resource"]}
    assert covered == queues


def test_scheduled_flows_cannot_touch_the_worker_idempotency_records(resources: dict[str, Any]) -> None:
    for name, function in _functions(resources).items():
        for statement in _statements(function):
            if statement.get("Sid") != "SyncTableItems" or name == "QueueWorkerFunction":
                continue
            keys = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
            assert not any(k.startswith("IDEMPOTENCY") for k in keys), name
            if not name.startswith(("PaymentsPoll", "OneCEvents")):
                assert "PAYORDER#*" not in keys, name


def test_a_function_that_writes_audit_items_may_write_their_per_record_copies(
    resources: dict[str, Any],
) -> None:
    # The audit store writes each item twice (the day's AUDIT#… and the record's REC#…, for
    # `journal`); DynamoDB refuses the whole batch when IAM allows only one of them.
    for name, function in _functions(resources).items():
        for statement in _statements(function):
            if statement.get("Sid") != "SyncTableItems" or "Condition" not in statement:
                continue  # no condition: the whole table (the queue worker)
            keys = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
            if "AUDIT#*" in keys:
                assert "REC#*" in keys, name


def test_a_function_that_paces_bitrix24_may_publish_its_operating_time_snapshot(
    resources: dict[str, Any],
) -> None:
    # The B24 client of every function that takes from the shared rate bucket also writes the
    # operating-time snapshot `status` reads; IAM refusing it would only log a warning per minute.
    from fnmatch import fnmatchcase

    from bridge.store.operating import OPERATING_KEY
    from bridge.store.ratebucket import RATE_KEY

    checked = 0
    for name, function in _functions(resources).items():
        for statement in _statements(function):
            if statement.get("Sid") != "SyncTableItems" or "Condition" not in statement:
                continue
            keys = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
            if any(fnmatchcase(RATE_KEY, k) for k in keys):
                checked += 1
                assert any(fnmatchcase(OPERATING_KEY, k) for k in keys), name
    assert checked >= 5


def test_the_parties_sync_may_take_the_create_once_claims_its_flow_takes(resources: dict[str, Any]) -> None:
    # Its Bitrix24 sweep creates counterparties and contact persons in 1C under claims the deal flow
    # also takes (bridge/store/claims.py); IAM refusing the claim would fail every such create.
    from fnmatch import fnmatchcase

    from bridge.store.claims import claim_pk, contact_person_claim_name, counterparty_claim_name

    wanted = [
        claim_pk(counterparty_claim_name(inn="7701", kpp="", kind="ЮЛ", name="x")),
        claim_pk(contact_person_claim_name(owner="0a-guid", contact_id=5)),
    ]
    (statement,) = [
        s for s in _statements(resources["PartiesSyncFunction"]) if s.get("Sid") == "SyncTableItems"
    ]
    keys = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
    for pk in wanted:
        assert any(fnmatchcase(pk, k) for k in keys), pk


def test_setup_may_read_whether_the_catalog_manifest_was_written_and_nothing_more(
    resources: dict[str, Any],
) -> None:
    # Catalog setup records whether the catalog is empty, and a SyncTable that remembers products
    # says it is not (bridge.catalog.setup): without this, IAM refused that read and setup failed.
    from fnmatch import fnmatchcase

    from bridge.catalog.model import MANIFEST_ITEMS
    from bridge.store.items import manifest_pk

    granted = [
        statement
        for statement in _statements(resources["SetupFunction"])
        if "dynamodb:Query"
        in (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
        and any(
            fnmatchcase(manifest_pk(MANIFEST_ITEMS), k)
            for k in statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
        )
    ]
    assert [s["Action"] for s in granted] == ["dynamodb:Query"]
