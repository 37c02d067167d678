"""The local stack's translations, checked without sockets: route choice, API Gateway bodies and
responses, SQS batch results, schedule expressions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sandbox.local import apigw
from sandbox.local.journal import Invocation
from sandbox.local.model import RouteSpec
from sandbox.local.schedules import Expression
from sandbox.local.sqs import records_to_delete

pytestmark = pytest.mark.integration


def _route(path: str, method: str = "POST") -> RouteSpec:
    return RouteSpec("Fn", "Ev", "HttpApi", method, path, "2.0")


def test_the_most_specific_route_wins() -> None:
    routes = [
        _route("$default", "ANY"),
        _route("/{proxy+}", "ANY"),
        _route("/items/{id}"),
        _route("/items/all"),
    ]

    assert apigw.match_route(routes, "POST", "/items/all").route.path == "/items/all"  # type: ignore[union-attr]
    found = apigw.match_route(routes, "POST", "/items/7")
    assert found is not None
    assert found.path_parameters == {"id": "7"}
    assert apigw.match_route(routes, "GET", "/items/7").route.path == "/{proxy+}"  # type: ignore[union-attr]
    assert apigw.match_route(routes, "GET", "/").route.path == "$default"  # type: ignore[union-attr]
    assert apigw.match_route([_route("/a")], "GET", "/a") is None


def test_responses_translate_like_http_api() -> None:
    structured = apigw.translate_response(
        {
            "statusCode": 201,
            "headers": {"x-a": "1"},
            "cookies": ["c=1"],
            "body": "aGk=",
            "isBase64Encoded": True,
        },
        "2.0",
    )
    inferred = apigw.translate_response({"ok": True}, "2.0")

    assert (structured.status, structured.body) == (201, b"hi")
    assert ("set-cookie", "c=1") in structured.headers
    assert (inferred.status, inferred.body) == (200, b'{"ok": true}')
    assert apigw.translate_response({"ok": True}, "1.0").status == 502
    assert apigw.function_failed("2.0").status == 500


def _sqs_run(outcome: str, result: object) -> Invocation:
    event = {"Records": [{"messageId": "a"}, {"messageId": "b"}]}
    run = Invocation(1, "Fn", "sqs", "Q", "r", 0.0, event)
    run.outcome, run.result = outcome, result
    return run


@pytest.mark.parametrize(
    ("outcome", "result", "report", "deleted"),
    [
        ("ok", {"batchItemFailures": [{"itemIdentifier": "b"}]}, True, ["a"]),
        ("ok", {"batchItemFailures": []}, True, ["a", "b"]),
        ("ok", None, True, ["a", "b"]),
        ("ok", {"batchItemFailures": [{"itemIdentifier": "zzz"}]}, True, []),  # unknown id: whole batch fails
        ("ok", {"batchItemFailures": [{"itemIdentifier": ""}]}, True, []),
        ("ok", {"batchItemFailures": [{"itemIdentifier": "b"}]}, False, ["a", "b"]),  # not opted in
        ("error", None, True, []),
        ("timeout", None, False, []),
    ],
)
def test_sqs_deletes_follow_lambdas_rules(
    outcome: str, result: object, report: bool, deleted: list[str]
) -> None:
    assert records_to_delete(_sqs_run(outcome, result), report) == deleted


def test_rate_fires_one_period_after_start_then_every_period() -> None:
    rate = Expression.parse("rate(5 minutes)")
    start = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)

    assert rate.next_after(start, start) == datetime(2025, 1, 1, 12, 5, tzinfo=UTC)
    assert rate.next_after(datetime(2025, 1, 1, 12, 7, tzinfo=UTC), start) == datetime(
        2025, 1, 1, 12, 10, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "bad", ["rate(1 minutes)", "rate(2 minute)", "rate(0 minutes)", "cron(* * * *)", "every 5m"]
)
def test_invalid_expressions_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        Expression.parse(bad)


def test_cron_uses_aws_fields_and_day_names() -> None:
    weekdays_9am = Expression.parse("cron(0 9 ? * MON-FRI *)")
    every_15 = Expression.parse("cron(0/15 * * * ? *)")
    saturday = datetime(2025, 1, 4, 10, 0, tzinfo=UTC)

    assert weekdays_9am.next_after(saturday, saturday) == datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    assert every_15.next_after(saturday, saturday) == datetime(2025, 1, 4, 10, 15, tzinfo=UTC)


def test_cron_honours_the_schedule_timezone() -> None:
    moscow_3am = Expression.parse("cron(0 3 * * ? *)", "Europe/Moscow")
    moment = datetime(2025, 1, 1, 0, 30, tzinfo=UTC)

    assert moscow_3am.next_after(moment, moment) == datetime(2025, 1, 2, 0, 0, tzinfo=UTC)
