"""Idempotency records in SyncTable: one event runs its flow once, however often SQS delivers it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig
from aws_lambda_powertools.utilities.idempotency.hook import IdempotentHookFunction

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# All event records share one partition key; the sort key is Powertools' hash of the business key.
IDEMPOTENCY_PK = "IDEMPOTENCY#b24-events"
# The business data that makes two deliveries the same event (not the SQS envelope, whose ids differ).
# One delivery = one run: an SQS redelivery of the same message is caught, while two deliveries
# within one second (same `ts`) are two changes and both run (see models.deduplication_id).
EVENT_KEY_JMESPATH = "[event, entity, id, ts, received_at]"


def persistence_layer(table_name: str, client: DynamoDBClient | None = None) -> DynamoDBPersistenceLayer:
    """Powertools' DynamoDB store mapped onto SyncTable's keys and its TTL attribute."""
    return DynamoDBPersistenceLayer(
        table_name=table_name,
        key_attr="pk",
        sort_key_attr="sk",
        static_pk_value=IDEMPOTENCY_PK,
        # SyncTable's TTL attribute, so DynamoDB removes expired records (Powertools compares the
        # expiry itself too, so correctness never depends on TTL timing).
        expiry_attr="expires_at",
        boto3_client=client,
    )


def idempotency_config(
    expires_after_seconds: int, response_hook: IdempotentHookFunction | None = None
) -> IdempotencyConfig:
    return IdempotencyConfig(
        event_key_jmespath=EVENT_KEY_JMESPATH,
        raise_on_no_idempotency_key=True,
        expires_after_seconds=expires_after_seconds,
        hash_function="sha256",
        response_hook=response_hook,
    )
