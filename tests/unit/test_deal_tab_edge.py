"""The «1С» tab's routes under hostile input (the Lambda handler in-process, behind mangum): a
4xx page with a reason for every malformed, foreign or forged request, never a 5xx, and nothing
read before the portal check passed. Plus the pure parts: the frame parser, the CSRF token, the
log masking of the tokens the frames carry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge import deps, settings
from bridge.b24.masking import mask_secret
from bridge.deal_tab.security import (
    CSRF_LIFETIME_S,
    Refused,
    csrf_token,
    csrf_valid,
    deal_id_of,
    parse_frame,
    same_portal,
)
from bridge.handlers import overridden
from tests.harness.lambda_edge import LambdaContext, generated, handler_module, http_event, spliced

DOMAIN = "portal.bitrix24.ru"
MEMBER = "5a1d0b0c0e0f4a2b9c8d7e6f5a4b3c2d"
ROUTES = ("/b24/app/install", "/b24/app/uninstall", "/b24/app/deal-tab", "/b24/app/deal-tab/resync")
FIELDS = (
    "DOMAIN",
    "member_id",
    "AUTH_ID",
    "APPLICATION_TOKEN",
    "PLACEMENT",
    "PLACEMENT_OPTIONS",
    "csrf",
    "event",
)


class Untouchable:
    """Ports or a portal that must not be reached: any use fails the test."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"{name} was reached before the request was authenticated")


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    for name, value in {
        "BRIDGE_TABLE_NAME": "SyncTable",
        "BRIDGE_B24_PORTAL_DOMAIN": DOMAIN,
        "BRIDGE_B24_MEMBER_ID": MEMBER,
        "BRIDGE_DEAL_TAB_KEY": "k" * 32,
    }.items():
        monkeypatch.setenv(name, value)
    settings.reset_caches()
    yield handler_module("B24AppFunction")
    settings.reset_caches()


def post(app: ModuleType, path: str, body: str | bytes) -> tuple[int, str, dict[str, str]]:
    headers = {"content-type": "application/x-www-form-urlencoded"}
    nothing = Untouchable()
    with overridden({deps.default_ports: nothing, deps.portal_as_user: nothing}):
        response = app.handler(http_event(path, body, headers), LambdaContext())
    return response["statusCode"], response["body"], response.get("headers", {})


def form(**fields: str) -> str:
    return urlencode(fields)


GOOD = {
    "DOMAIN": DOMAIN,
    "member_id": MEMBER,
    "AUTH_ID": "a" * 64,
    "PLACEMENT": "CRM_DEAL_DETAIL_TAB",
    "PLACEMENT_OPTIONS": json.dumps({"ID": "42"}),
}


# --- refusals before anything is read ------------------------------------------------------------


@pytest.mark.parametrize("path", ROUTES)
def test_a_foreign_portal_is_refused_before_anything_is_read(app: ModuleType, path: str) -> None:
    for changed in ({"DOMAIN": "evil.bitrix24.ru"}, {"member_id": "0" * 32}):
        status, page, headers = post(app, path, form(**(GOOD | changed)))
        assert status == 403, page
        assert 'id="refused"' in page
        assert "another portal" in page
        assert "frame-ancestors" in headers["content-security-policy"]
        assert "x-frame-options" not in {k.lower() for k in headers}


def test_the_tab_needs_its_deal(app: ModuleType) -> None:
    for options in ("", "[]", "{}", '{"ID": "0"}', '{"ID": "x"}', "not json"):
        status, page, _ = post(app, "/b24/app/deal-tab", form(**(GOOD | {"PLACEMENT_OPTIONS": options})))
        assert status == 400, (options, page)


def test_an_oversized_body_is_a_413(app: ModuleType) -> None:
    status, _page, _ = post(app, "/b24/app/deal-tab", "x=" + "a" * (65 * 1024))
    assert status == 413


@pytest.mark.parametrize("path", ROUTES)
@given(
    fields=st.dictionaries(
        st.sampled_from(FIELDS),
        st.one_of(st.text(max_size=80), st.sampled_from([DOMAIN, MEMBER, "a" * 64, '{"ID":"7"}'])),
        max_size=8,
    )
)
@generated(bodies=60)
def test_any_form_without_the_portal_pair_is_a_4xx(
    app: ModuleType, path: str, fields: dict[str, str]
) -> None:
    if fields.get("DOMAIN", "").lower() == DOMAIN and fields.get("member_id") == MEMBER:
        fields["member_id"] = "f" * 32  # past this pair the portal is asked (acceptance tests)
    status, page, _ = post(app, path, urlencode(fields))
    assert 400 <= status < 500, page
    assert 'id="refused"' in page


@pytest.mark.parametrize("path", ROUTES)
@given(
    body=spliced(
        ["DOMAIN=", "member_id=", "&", "=", "%", "%ZZ", "[", "]", "auth[", "\u00ff", "\x00", DOMAIN, "1"]
    )
)
@generated(bodies=60)
def test_any_raw_body_is_a_4xx(app: ModuleType, path: str, body: str) -> None:
    status, page, _ = post(app, path, body.encode("utf-8", "surrogatepass"))
    assert 400 <= status < 500, page


# --- the pure parts ---------------------------------------------------------------------------------


def test_the_frame_keeps_the_deal_and_hides_the_token() -> None:
    frame = parse_frame({"DOMAIN": DOMAIN.upper()}, GOOD, deal=True)
    assert (frame.domain, frame.member_id, frame.deal_id) == (DOMAIN, MEMBER, 42)
    assert "a" * 64 not in repr(frame)
    same_portal(frame, DOMAIN, MEMBER)
    with pytest.raises(Refused) as refused:
        same_portal(frame, DOMAIN, None)
    assert refused.value.status == 403


def test_the_deal_id_is_read_as_the_docs_send_it() -> None:
    assert deal_id_of('{"ID":"8061"}') == 8061
    assert deal_id_of('{"ID":8061,"URI":"/crm/deal/details/8061/"}') == 8061
    for bad in ('{"ID":true}', '{"ID":"-1"}', '["8061"]', '{"ID":"1e3"}'):
        with pytest.raises(Refused):
            deal_id_of(bad)


def test_a_csrf_token_is_bound_to_portal_user_deal_and_time() -> None:
    key, now = "k" * 32, 1_800_000_000.0
    token = csrf_token(key, MEMBER, 7, 42, now)
    assert csrf_valid(key, token, MEMBER, 7, 42, now + 60)
    assert not csrf_valid(key, token, MEMBER, 7, 43, now)  # another deal
    assert not csrf_valid(key, token, MEMBER, 8, 42, now)  # another user
    assert not csrf_valid(key, token, "b" * 32, 7, 42, now)  # another portal
    assert not csrf_valid("x" * 32, token, MEMBER, 7, 42, now)  # another key
    assert not csrf_valid(key, token, MEMBER, 7, 42, now + CSRF_LIFETIME_S + 1)  # expired
    expires, mac = token.split(".")
    assert not csrf_valid(key, f"{int(expires) + 3600}.{mac}", MEMBER, 7, 42, now)  # stretched
    for broken in (None, "", "abc", "1.2.3", f"{expires}.", f".{mac}"):
        assert not csrf_valid(key, broken, MEMBER, 7, 42, now)


def test_frame_tokens_are_masked_in_logs() -> None:
    line = mask_secret("AUTH_ID=abc123def&REFRESH_ID=zzz999 {'APPLICATION_TOKEN': 'tok777'} csrf=1.ff")
    for secret in ("abc123def", "zzz999", "tok777", "1.ff"):
        assert secret not in line


def test_onappinstall_is_checked_like_a_frame(app: ModuleType) -> None:
    event = "event=ONAPPINSTALL&data%5BVERSION%5D=1&auth%5Bdomain%5D={d}&auth%5Bmember_id%5D={m}{token}"
    no_token = event.format(d=DOMAIN, m=MEMBER, token="")
    status, page, _ = post(app, "/b24/app/install", no_token)
    assert status == 400
    assert "access_token" in page
    foreign = event.format(d="evil.bitrix24.ru", m=MEMBER, token="&auth%5Baccess_token%5D=" + "b" * 64)
    status, page, _ = post(app, "/b24/app/install", foreign)
    assert status == 403
    assert "another portal" in page


@pytest.mark.parametrize(("name", "status"), [("deal_tab_foreign_portal", 403)])
def test_the_sample_events_get_their_documented_answer(app: ModuleType, name: str, status: int) -> None:
    sample = json.loads(
        (Path(__file__).parents[2] / "events" / "b24_app" / f"{name}.json").read_text("utf-8")
    )
    nothing = Untouchable()
    with overridden({deps.default_ports: nothing, deps.portal_as_user: nothing}):
        response = app.handler(sample, LambdaContext())
    assert response["statusCode"] == status
