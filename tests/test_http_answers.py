"""Streamable HTTP answers (qcmcp.http_answers): a response that comes first is one JSON body; anything before it
(a notification, a request to the client) or a slow answer makes it the usual event stream, nothing lost."""

from __future__ import annotations

import json

import anyio
import pytest

from qcmcp import http_answers
from qcmcp.http_answers import PromptAnswer

RESPONSE = {"event": "message", "data": json.dumps({"jsonrpc": "2.0", "id": 2, "result": {"isError": False}})}
NOTIFICATION = {"event": "message", "data": json.dumps({"jsonrpc": "2.0", "method": "notifications/progress",
                                                        "params": {"progressToken": 1, "progress": 0.5}})}
ELICITATION = {"event": "message", "data": json.dumps({"jsonrpc": "2.0", "id": 0, "method": "elicitation/create",
                                                       "params": {"message": "Go ahead?"}})}


async def answer(events: list[dict], *, method: str = "POST", delay: float = 0.0) -> tuple[dict, bytes]:
    """Run a PromptAnswer whose sender hands over ``events`` (after ``delay``); the status line and body sent."""
    writer, reader = anyio.create_memory_object_stream[dict](0)

    async def sender() -> None:
        async with writer:
            await anyio.sleep(delay)
            for event in events:
                await writer.send(event)

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    async def receive() -> dict:
        await anyio.sleep_forever()
        return {}

    response = PromptAnswer(reader, data_sender_callable=sender,
                            headers={"Content-Type": "text/event-stream", "mcp-session-id": "abc",
                                     "Cache-Control": "no-cache, no-transform", "Connection": "keep-alive"})
    with anyio.fail_after(10):
        await response({"type": "http", "method": method, "path": "/mcp", "headers": []}, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return {k.decode(): v.decode() for k, v in start["headers"]}, body


async def test_a_response_that_comes_first_is_one_json_body():
    headers, body = await answer([RESPONSE])
    assert headers["content-type"] == "application/json" and headers["mcp-session-id"] == "abc"
    assert int(headers["content-length"]) == len(body)
    assert json.loads(body) == json.loads(RESPONSE["data"])


@pytest.mark.parametrize("before", [NOTIFICATION, ELICITATION])
async def test_anything_before_the_response_makes_an_event_stream(before):
    headers, body = await answer([before, RESPONSE])
    assert headers["content-type"].startswith("text/event-stream") and headers["mcp-session-id"] == "abc"
    text = body.decode()
    assert text.index(before["data"]) < text.index(RESPONSE["data"])


async def test_a_slow_answer_is_streamed(monkeypatch):
    monkeypatch.setattr(http_answers, "STREAM_AFTER", 0.05)
    headers, body = await answer([RESPONSE], delay=0.3)
    assert headers["content-type"].startswith("text/event-stream")
    assert RESPONSE["data"] in body.decode()


async def test_a_stream_that_ends_without_an_answer_is_an_empty_event_stream():
    headers, body = await answer([])
    assert headers["content-type"].startswith("text/event-stream") and b"data:" not in body


async def test_a_stored_event_keeps_its_stream():
    """With resumability (events carry ids) the answer stays an event stream, so a client can resume it."""
    headers, body = await answer([{**RESPONSE, "id": "e1"}])
    assert headers["content-type"].startswith("text/event-stream") and b"id: e1" in body


async def test_get_streams_stay_event_streams():
    headers, body = await answer([RESPONSE], method="GET")
    assert headers["content-type"].startswith("text/event-stream")


async def test_a_served_quick_answer_is_json_and_an_elicitation_streams(tmp_path):
    """`qcmcp serve --transport http` as deployed: a quick tools/call comes back as application/json; a live-money
    call whose confirmation is asked of the user (handshake-era elicitation, pushed on the request's answer) streams,
    and the user's answer reaches the server."""
    import httpx
    from fastmcp import Client

    from tests.test_replicas import begin
    from tests.test_security import start

    process, url, _ = start(tmp_path, {"QCMCP_LIVE_TRADING": "on"}, "--insecure-no-auth")
    try:
        headers = begin(url)
        answer = httpx.post(f"{url}/mcp", headers=headers, timeout=20, json={
            "jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "read_account", "arguments": {}}})
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/json", answer.text
        assert answer.json()["id"] == 2 and answer.json()["result"]["isError"] is False, answer.text

        prompts: list[str] = []

        async def user(message, response_type, params, context):
            prompts.append(message)
            return True

        async with Client(f"{url}/mcp", elicitation_handler=user, mode="legacy") as client:
            result = await client.call_tool("liquidate_live_algorithm", {"projectId": 42, "confirm": "42"},
                                            raise_on_error=False)
        assert prompts and "liquidate_live_algorithm" in prompts[0]
        text = result.content[0].text
        assert "did not confirm" not in text and "could not be shown" not in text, text
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_install_replaces_the_sdks_event_stream_class_or_says_it_cannot():
    import mcp.server.streamable_http as transport
    import pytest

    from qcmcp import http_answers

    http_answers.install()
    http_answers.install()  # twice in one process is fine
    assert transport.EventSourceResponse is http_answers.PromptAnswer
    saved = transport.EventSourceResponse
    try:
        transport.EventSourceResponse = object  # an SDK that answers some other way
        with pytest.raises(RuntimeError, match="needs updating"):
            http_answers.install()
    finally:
        transport.EventSourceResponse = saved
