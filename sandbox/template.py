"""Read template.yaml as data, so the local stack and tests build what AWS would build."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that keeps CloudFormation short-form tags (`!Ref X` → {"Ref": "X"})."""


def _tag_constructor(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag_constructor)


@cache
def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with path.open(encoding="utf-8") as stream:
        data = yaml.load(stream, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    assert isinstance(data, dict)
    return data


def resource(logical_id: str, path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    resources: dict[str, Any] = load_template(path)["Resources"]
    return dict(resources[logical_id])


def create_table_from_template(dynamodb: Any, logical_id: str, table_name: str) -> None:
    """Create `logical_id`'s AWS::DynamoDB::Table on `dynamodb` (a boto3 client) under `table_name`."""
    create_table_from_properties(dynamodb, resource(logical_id)["Properties"], table_name)


def create_table_from_properties(dynamodb: Any, properties: dict[str, Any], table_name: str) -> None:
    """Like `create_table_from_template`, for a table definition from any template (the local stack
    reads fixture templates as well as template.yaml)."""
    kwargs: dict[str, Any] = {
        "TableName": table_name,
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "BillingMode": properties.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if kwargs["BillingMode"] == "PROVISIONED":
        kwargs["ProvisionedThroughput"] = properties["ProvisionedThroughput"]
    for index_kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if index_kind in properties:
            kwargs[index_kind] = properties[index_kind]
    dynamodb.create_table(**kwargs)
    dynamodb.get_waiter("table_exists").wait(TableName=table_name)
    ttl = properties.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
        )


# SQS queue properties that map one to one onto CreateQueue attributes.
_QUEUE_ATTRIBUTES = (
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "DelaySeconds",
    "FifoThroughputLimit",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "SqsManagedSseEnabled",
    "VisibilityTimeout",
)


def create_queue_from_template(
    sqs: Any, logical_id: str, queue_name: str, arns: Mapping[str, str] | None = None
) -> str:
    """Create `logical_id`'s AWS::SQS::Queue on `sqs` (a boto3 client) under `queue_name`; return its URL.

    `arns` maps the logical ids a RedrivePolicy points at (`!GetAtt X.Arn`) to queues created before.
    A FIFO queue's name gets the `.fifo` suffix SQS requires.
    """
    props = resource(logical_id)["Properties"]
    attributes = {key: _attribute_text(props[key]) for key in _QUEUE_ATTRIBUTES if key in props}
    if props.get("FifoQueue"):
        attributes["FifoQueue"] = "true"
        if not queue_name.endswith(".fifo"):
            queue_name += ".fifo"
    redrive = props.get("RedrivePolicy")
    if redrive:
        target = redrive["deadLetterTargetArn"]
        if isinstance(target, dict):
            target_id = target["Fn::GetAtt"][0]
            if not arns or target_id not in arns:
                raise KeyError(f"{logical_id}: create {target_id} first and pass its ARN in `arns`")
            target = arns[target_id]
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": target, "maxReceiveCount": int(redrive["maxReceiveCount"])}
        )
    url: str = sqs.create_queue(QueueName=queue_name, Attributes=attributes)["QueueUrl"]
    return url


def queue_arn(sqs: Any, queue_url: str) -> str:
    answer = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    arn: str = answer["Attributes"]["QueueArn"]
    return arn


def _attribute_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def load_function_handler(logical_id: str) -> Any:
    """The handler callable of `logical_id`'s AWS::Serverless::Function, imported from its CodeUri.

    Every function's module is called `app`, as Lambda sees it; here each is imported under a name
    unique to the function so several can live in one process (tests).
    """
    props = resource(logical_id)["Properties"]
    module_path, _, attribute = str(props["Handler"]).rpartition(".")
    file = ROOT / str(props["CodeUri"]) / Path(*module_path.split(".")).with_suffix(".py")
    module_name = f"_function_{logical_id}_{module_path.replace('.', '_')}"
    module = sys.modules.get(module_name)
    if module is None:
        spec = importlib.util.spec_from_file_location(module_name, file)
        if spec is None or spec.loader is None:
            raise ImportError(f"{logical_id}: no handler module at {file}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return getattr(module, attribute)
