"""Every API tool: right endpoint, request body valid for the request model, full
response parsed with the response model and returned as structured content."""

from __future__ import annotations

import json

import httpx
import pytest

from qcmcp.server import build_server
from qcmcp.tools import handlers
from qcmcp.tools.catalog import BY_NAME, CATALOG
from qcmcp.tools.schema import parameters_schema
from qcmcp.tools.spec import SERVER_DEFAULTED
from tests.examples import example
from tests.fake_qc import FAKE_TOKEN, FAKE_USER_ID, signature_ok

JSON_TOOLS = [spec for spec in CATALOG if spec.endpoint and spec.handler is None]


def confirmed(spec, arguments: dict) -> dict:
    """Live-money tools need ``confirm`` to repeat a parameter (the in-memory client cannot elicit)."""
    return {**arguments, "confirm": str(arguments[spec.confirm])} if spec.confirm else arguments


def full_response(spec) -> dict:
    body = example(spec.response_model.model_json_schema(by_alias=True))
    body = body if isinstance(body, dict) else {}
    body["success"] = True
    spec.response_model.model_validate(body)  # the fixture itself must be a valid answer
    return body


@pytest.mark.parametrize("spec", JSON_TOOLS, ids=lambda s: s.name)
async def test_tool_calls_its_endpoint_with_a_valid_body(spec, mcp_client):
    answer = full_response(spec)
    client = mcp_client(lambda request: httpx.Response(200, json=answer))
    arguments = confirmed(spec, example(parameters_schema(spec)))
    async with client:
        result = await client.call_tool(spec.name, arguments)
    [request] = client.recorder.requests
    assert request.method == "POST"
    assert request.url.path == "/api/v2" + spec.endpoint
    assert signature_ok(request.headers, FAKE_USER_ID, FAKE_TOKEN)
    body = json.loads(request.content or b"{}")
    if spec.request_model is not None:
        spec.request_model.model_validate(body)
        assert set(body) <= set(arguments) - {"confirm"}
    else:
        assert body == {}
    assert result.structured_content == answer
    text = result.content[0].text
    assert text and "differs from the published API schema" not in text
    assert json_in_text(text) == answer  # a text-only client loses nothing


def json_in_text(text: str) -> dict:
    """The JSON a result's text carries after its summary line."""
    summary, _, rest = text.partition("\n")
    assert summary and rest, text[:200]
    return json.loads(rest.split("\nShortened to fit", 1)[0])


@pytest.mark.parametrize("spec", [s for s in JSON_TOOLS if s.request is not None], ids=lambda s: s.name)
async def test_minimal_arguments_send_only_what_was_given(spec, mcp_client):
    client = mcp_client(lambda request: httpx.Response(200, json={"success": True}))
    arguments = example(parameters_schema(spec), required_only=True)
    fields = spec.request_model.model_fields
    # Without a configured default organization, a caller passes the parameters the server would fill in.
    arguments |= {name: "org-1" for name in SERVER_DEFAULTED if name in fields and fields[name].is_required()}
    async with client:
        await client.call_tool(spec.name, confirmed(spec, arguments))
    [body] = client.recorder.json_bodies()
    assert set(body) == set(arguments)


async def test_a_defaulted_organization_is_optional_filled_in_or_asked_for(mcp_client, settings):
    ok = lambda request: httpx.Response(200, json={"success": True, "objects": []})  # noqa: E731
    schema = parameters_schema(BY_NAME["list_object_store_files"])
    assert "organizationId" not in schema.get("required", []) and "defaults to" in schema["properties"]["organizationId"]["description"]
    client = mcp_client(ok)
    async with client:
        asked = await client.call_tool("list_object_store_files", {"path": "/"}, raise_on_error=False)
    assert asked.is_error and "pass organizationId" in asked.content[0].text and client.recorder.requests == []
    defaulted = mcp_client(ok, settings=settings.model_copy(update={"organization_id": "org-9"}))
    async with defaulted:
        await defaulted.call_tool("list_object_store_files", {"path": "/"})
    assert defaulted.recorder.json_bodies() == [{"organizationId": "org-9", "path": "/"}]


async def test_object_upload_is_multipart_with_the_data_as_a_file(mcp_client):
    client = mcp_client(lambda request: httpx.Response(200, json={"success": True}))
    async with client:
        await client.call_tool("upload_object", {"organizationId": "org-1", "key": "models/a.json", "objectData": '{"w": 1}'})
    [request] = client.recorder.requests
    assert request.url.path == "/api/v2/object/set"
    assert request.headers["Content-Type"].startswith("multipart/form-data")
    content = request.content
    assert b'name="organizationId"' in content and b"org-1" in content
    assert b'name="key"' in content and b"models/a.json" in content
    assert b'name="objectData"; filename="a.json"' in content and b'{"w": 1}' in content


async def test_authorize_connection_returns_the_consent_url(mcp_client):
    consent = "https://broker.example/oauth?client=qc"
    client = mcp_client(lambda request: httpx.Response(302, headers={"Location": consent}))
    async with client:
        result = await client.call_tool("authorize_connection", {"brokerage": "alpaca", "confirm": "alpaca"})
    assert result.structured_content["authorizationUrl"] == consent
    assert "read_connection_authorization" in result.content[0].text
    [request] = client.recorder.requests
    assert request.url.path == "/api/v2/live/auth0/authorize"
    assert json.loads(request.content) == {"brokerage": "alpaca"}


async def test_latest_version_offline_fails_clearly(settings):
    def offline(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no network", request=request)

    from fastmcp import Client

    server = build_server(settings, pypi_transport=httpx.MockTransport(offline))
    async with Client(server) as client:
        result = await client.call_tool("read_latest_mcp_server_version", {}, raise_on_error=False)
    assert result.is_error
    assert "Could not reach PyPI" in result.content[0].text


@pytest.mark.parametrize(
    ("status", "payload", "expected"),
    [
        (200, {"info": {"version": "9.9.9"}}, {"latestVersion": "9.9.9", "upToDate": False}),
        (200, {"info": {"version": "0.0.1"}}, {"latestVersion": "0.0.1", "upToDate": True}),
        (404, {"message": "Not Found"}, "not published on PyPI"),
        (200, {"unexpected": True}, "unexpected document"),
    ],
)
async def test_latest_version_from_pypi(settings, status, payload, expected):
    from fastmcp import Client

    server = build_server(settings, pypi_transport=httpx.MockTransport(lambda r: httpx.Response(status, json=payload)))
    async with Client(server) as client:
        result = await client.call_tool("read_latest_mcp_server_version", {}, raise_on_error=False)
    if isinstance(expected, dict):
        assert not result.is_error
        assert expected.items() <= result.structured_content.items()
    else:
        assert result.is_error and expected in result.content[0].text


def test_every_api_tool_has_a_handler_or_endpoint():
    for spec in CATALOG:
        assert spec.endpoint or spec.handler, spec.name
        assert spec.handler in (None, handlers.multipart_upload, handlers.create_project, handlers.read_optimization,
                                handlers.read_live_portfolio, handlers.read_object_properties,
                                handlers.read_backtest,
                                handlers.authorization_redirect, handlers.server_version,
                                handlers.latest_server_version, handlers.health_check,
                                handlers.research) or spec.workflow, spec.name
