"""A create that may have been carried out says so, and names the tool to check with.

After a create reaches QuantConnect, a 5xx, a timeout or an unreadable 200 does not tell
whether it happened. Such errors must say the request may have been carried out and
which read or list tool shows it, so the agent checks instead of creating a duplicate.
Failures that provably never reached the API, reads, and clean API answers say nothing
of the kind.
"""

from __future__ import annotations

import httpx
import pytest

from qcmcp.qc.client import Credentials, QuantConnectClient
from qcmcp.qc.errors import CHECK_BEFORE_RETRY, APIError, InvalidResponseError, QCError, TransportError
from qcmcp.tools.catalog import BY_NAME, CATALOG
from tests.fake_qc import FAKE_TOKEN

CREDS = Credentials("42", FAKE_TOKEN)
MAY_HAVE = "may have been carried out"
OK = {"success": True}


def make_client(answers, max_retries=3):
    """A client whose transport replays ``answers`` (responses or exceptions) in order."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers.pop(0) if answers else httpx.Response(200, json=OK)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def no_sleep(seconds: float) -> None:
        pass

    client = QuantConnectClient(CREDS, base_url="https://qc.test/api/v2", transport=httpx.MockTransport(handler),
                                max_retries=max_retries, sleep=no_sleep)
    return client, seen


# Failures after the request was sent, which leave a create's outcome unknown.
AMBIGUOUS = {
    "http_500": lambda: httpx.Response(500),
    "http_502": lambda: httpx.Response(502, text="<html>Bad Gateway</html>", headers={"Content-Type": "text/html"}),
    "http_504": lambda: httpx.Response(504),
    "http_524": lambda: httpx.Response(524),
    "read_timeout": lambda: httpx.ReadTimeout("slow"),
    "connection_dropped": lambda: httpx.RemoteProtocolError("Server disconnected without sending a response."),
    "html_200": lambda: httpx.Response(200, text="<html>maintenance</html>", headers={"Content-Type": "text/html"}),
    "list_200": lambda: httpx.Response(200, json=[1, 2]),
    "undecodable_200": lambda: httpx.Response(200, content=b"\xff\xfe\x00{",
                                              headers={"Content-Type": "application/json"}),
}

# (endpoint, the tool its error must name)
CREATES = [
    ("/projects/create", "list_projects"),
    ("/backtests/create", "list_backtests"),
    ("/compile/create", "read_compile"),
    ("/optimizations/create", "list_optimizations"),
    ("/live/create", "list_live_algorithms"),
    ("/live/commands/create", "read_live_logs"),
    ("/files/create", "read_file"),
    ("/object/set", "list_object_store_files"),
]


@pytest.mark.parametrize("failure", AMBIGUOUS, ids=str)
@pytest.mark.parametrize(("endpoint", "tool"), CREATES, ids=[e for e, _ in CREATES])
async def test_a_create_that_may_have_happened_says_so_and_names_the_check(endpoint, tool, failure):
    client, seen = make_client([AMBIGUOUS[failure]()])
    with pytest.raises((TransportError, InvalidResponseError)) as caught:
        await client.post(endpoint, {"name": "x"}, idempotent=False)
    message = caught.value.message
    assert MAY_HAVE in message
    assert f"check with {tool}" in message
    assert "not retried automatically" in message  # the older wording is kept
    assert caught.value.outcome_unknown is True
    assert len(seen) == 1, "a create that may have happened must not be repeated"
    assert FAKE_TOKEN not in message


@pytest.mark.parametrize("failure", ["http_500", "http_502", "read_timeout"])
async def test_a_create_is_not_retried_after_a_5xx_or_timeout_even_with_retries_left(failure):
    client, seen = make_client([AMBIGUOUS[failure](), httpx.Response(200, json=OK)], max_retries=5)
    with pytest.raises(TransportError, match=MAY_HAVE):
        await client.post("/backtests/create", {}, idempotent=False)
    assert len(seen) == 1


async def test_the_status_and_reason_stay_in_the_message():
    client, _ = make_client([httpx.Response(502)])
    with pytest.raises(TransportError) as caught:
        await client.post("/projects/create", {}, idempotent=False)
    assert caught.value.status_code == 502
    assert caught.value.message.startswith("Could not complete /projects/create: HTTP 502 (the service had a problem).")


async def test_an_unmapped_create_still_says_it_may_have_happened():
    client, _ = make_client([httpx.Response(500)])
    with pytest.raises(TransportError) as caught:
        await client.post("/something/new/create", {}, idempotent=False)
    assert MAY_HAVE in caught.value.message
    assert "matching read or list tool" in caught.value.message


async def test_a_create_no_tool_can_check_says_repeating_is_harmless():
    client, _ = make_client([httpx.Response(500)])
    with pytest.raises(TransportError) as caught:
        await client.post("/object/get", {}, idempotent=False)
    assert MAY_HAVE in caught.value.message and "harmless" in caught.value.message


@pytest.mark.parametrize("failure", AMBIGUOUS, ids=str)
async def test_a_read_with_the_same_failures_does_not_claim_it_may_have_happened(failure):
    client, seen = make_client([AMBIGUOUS[failure]()], max_retries=0)
    with pytest.raises((TransportError, InvalidResponseError)) as caught:
        await client.post("/projects/read", {}, idempotent=True)
    assert MAY_HAVE not in caught.value.message
    assert "check with" not in caught.value.message
    assert caught.value.outcome_unknown is False
    assert len(seen) == 1


@pytest.mark.parametrize("failure", ["http_500", "http_502", "read_timeout"])
async def test_a_read_is_still_retried_and_never_ambiguous(failure):
    client, seen = make_client([AMBIGUOUS[failure]()] * 3, max_retries=2)
    with pytest.raises(TransportError) as caught:
        await client.post("/backtests/list", {}, idempotent=True)
    assert len(seen) == 3
    assert MAY_HAVE not in caught.value.message


# Failures that provably never reached the API, or a refusal before processing.
NEVER_CARRIED_OUT = {
    "connect_error": lambda: httpx.ConnectError("Connection refused"),
    "dns_failure": lambda: httpx.ConnectError("[Errno -2] Name or service not known"),
    "connect_timeout": lambda: httpx.ConnectTimeout("connect"),
    "http_429": lambda: httpx.Response(429, headers={"Retry-After": "0"}),
    "http_401": lambda: httpx.Response(401),
    "http_403": lambda: httpx.Response(403),
    "http_400": lambda: httpx.Response(400),
    "http_404": lambda: httpx.Response(404),
    "api_error": lambda: httpx.Response(200, json={"success": False, "errors": ["Project name already exists"]}),
}


@pytest.mark.parametrize("failure", NEVER_CARRIED_OUT, ids=str)
async def test_a_create_that_never_reached_the_api_does_not_claim_it_may_have(failure):
    client, _ = make_client([NEVER_CARRIED_OUT[failure]()], max_retries=0)
    with pytest.raises(QCError) as caught:
        await client.post("/projects/create", {"name": "x"}, idempotent=False)
    assert MAY_HAVE not in caught.value.message
    assert "check with" not in caught.value.message
    assert getattr(caught.value, "outcome_unknown", False) is False


async def test_a_clean_api_refusal_of_a_create_is_an_api_error():
    client, _ = make_client([NEVER_CARRIED_OUT["api_error"]()])
    with pytest.raises(APIError, match="already exists") as caught:
        await client.post("/projects/create", {"name": "x"}, idempotent=False)
    assert MAY_HAVE not in caught.value.message


@pytest.mark.parametrize("failure", ["connect_error", "http_429"])
async def test_a_refused_create_is_retried_and_then_not_called_ambiguous(failure):
    client, seen = make_client([NEVER_CARRIED_OUT[failure]() for _ in range(3)], max_retries=2)
    with pytest.raises(TransportError) as caught:
        await client.post("/backtests/create", {}, idempotent=False)
    assert len(seen) == 3  # safe to repeat: it never reached the API
    assert MAY_HAVE not in caught.value.message
    assert caught.value.outcome_unknown is False


async def test_a_refused_then_ambiguous_create_says_so():
    client, seen = make_client([httpx.ConnectError("refused"), httpx.Response(500)])
    with pytest.raises(TransportError, match=MAY_HAVE):
        await client.post("/live/create", {}, idempotent=False)
    assert len(seen) == 2


def test_every_create_the_catalog_sends_has_a_check_and_every_check_tool_exists():
    not_retry_safe = {spec.endpoint for spec in CATALOG if spec.endpoint and not spec.safe_to_retry}
    assert not_retry_safe <= set(CHECK_BEFORE_RETRY), not_retry_safe - set(CHECK_BEFORE_RETRY)
    for endpoint, check in CHECK_BEFORE_RETRY.items():
        if check.tool is not None:
            assert check.tool in BY_NAME, (endpoint, check.tool)
            assert BY_NAME[check.tool].safe_to_retry, (endpoint, check.tool)  # checking must itself be harmless
