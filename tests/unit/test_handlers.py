"""bridge.handlers: one mapping from the bridge's errors to HTTP answers, and test overrides."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from bridge import deps
from bridge.errors import ConfigurationError, PermanentError, TransientError
from bridge.handlers import HttpApi, Invocation, Unauthorized, Wording, overridden, read_body, scheduled, use
from bridge.http_edge import BodyRejected
from tests.harness.lambda_edge import LambdaContext, http_event

# Stands in for Lambda's context object (the handlers read its remaining time and ids only).
CONTEXT: Any = LambdaContext()


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n: int


def _api(error: Exception | None) -> HttpApi:
    api = HttpApi(
        "probe",
        Wording(refused=lambda status, reason: {"refused": status, "reason": reason}),
        refused_metric="ProbeRefused",
    )

    @api.app.post("/probe")
    def probe() -> object:
        if error is not None:
            raise error
        body = read_body(Body, (api.event.body or "").encode(), "{n: int}")
        return api.reply(200, {"n": body.n})

    return api


def _post(api: HttpApi, body: str = '{"n": 1}') -> tuple[int, dict[str, Any]]:
    response = api.handler(http_event("/probe", body, {"content-type": "application/json"}), CONTEXT)
    assert response["headers"]["Content-Type"] == "application/json"
    return response["statusCode"], json.loads(response["body"])


@pytest.mark.parametrize(
    ("error", "status", "body"),
    [
        (TransientError("1C is down"), 503, {"error": "temporarily unavailable", "reason": "1C is down"}),
        (PermanentError("no such order"), 422, {"error": "cannot process", "reason": "no such order"}),
        (ConfigurationError("BRIDGE_X missing"), 500, {"error": "not configured"}),
        (Unauthorized("wrong token"), 401, {"refused": 401, "reason": "wrong token"}),
        (BodyRejected(413, "body over 10 bytes"), 413, {"refused": 413, "reason": "body over 10 bytes"}),
    ],
)
def test_each_error_kind_has_its_status_and_a_json_reason(
    error: Exception, status: int, body: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    assert _post(_api(error)) == (status, body)
    assert any(r.getMessage().startswith("probe") for r in caplog.records)


def test_the_configuration_detail_stays_in_the_log(caplog: pytest.LogCaptureFixture) -> None:
    _, body = _post(_api(ConfigurationError("bad setting: BRIDGE_SECRET_ID")))

    assert "BRIDGE_SECRET_ID" not in json.dumps(body)
    assert [r.__dict__.get("error") for r in caplog.records] == ["bad setting: BRIDGE_SECRET_ID"]


@pytest.mark.parametrize(
    ("raw", "reason"), [('{"n": "x"}', "n: "), ('{"m": 1}', "m: unknown field"), ("nope", "not valid JSON")]
)
def test_a_body_that_is_not_the_model_is_400_naming_the_shape(raw: str, reason: str) -> None:
    status, body = _post(_api(None), raw)

    assert status == 400
    assert body["reason"].startswith(("body must be {n: int}: ", "body is not valid JSON"))
    assert reason in body["reason"]


def test_a_valid_body_reaches_the_route() -> None:
    assert _post(_api(None), '{"n": 7}') == (200, {"n": 7})


def test_overrides_apply_inside_the_block_only() -> None:
    with overridden({deps.push_secret: "s3cret"}):
        assert use(deps.push_secret) == "s3cret"
        with overridden({deps.push_secret: "inner"}):
            assert use(deps.push_secret) == "inner"
        assert use(deps.push_secret) == "s3cret"
    with overridden({deps.utc_now: "not called"}):
        assert use(deps.utc_now) == "not called"
    assert use(deps.utc_now) != "not called"


def test_a_scheduled_run_gets_the_event_and_the_time_left_less_its_reserve() -> None:
    seen: list[tuple[dict[str, Any], float, float]] = []

    @scheduled
    def handler(run: Invocation) -> dict[str, str]:
        seen.append((run.event, run.budget_s(5), run.budget_s(60)))
        return {"ok": "yes"}

    assert handler({"source": "aws.scheduler"}, CONTEXT) == {"ok": "yes"}
    assert seen == [({"source": "aws.scheduler"}, 20.0, 1.0)]  # 25 s left in the context
