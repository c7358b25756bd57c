"""The sandbox as any QuantConnect API client sees it: authentication, validation, isolation."""

from __future__ import annotations

import httpx
import pytest

from qcmcp.qc.auth import sign
from qcmcp.qc.client import Credentials, QuantConnectClient
from qcmcp.qc.errors import APIError, AuthenticationError
from qcmcp.sandbox.app import create_app
from qcmcp.sandbox.store import SandboxStore

BASE = "http://sb/api/v2"


@pytest.fixture
def store() -> SandboxStore:
    store = SandboxStore(":memory:")
    store.register_user("111", "token-one")
    store.register_user("222", "token-two")
    return store


@pytest.fixture
def transport(store) -> httpx.ASGITransport:
    return httpx.ASGITransport(app=create_app(store, "http://sb"))


def client(transport, user: str = "111", token: str = "token-one") -> QuantConnectClient:
    return QuantConnectClient(Credentials(user, token), base_url=BASE, transport=transport, max_retries=0)


async def raw(transport, path: str, content: bytes, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(transport=transport, base_url=BASE + "/") as http:
        return await http.post(path.lstrip("/"), content=content, headers=headers)


async def test_wrong_hash_is_rejected_like_the_cloud(transport):
    with pytest.raises(AuthenticationError):
        await client(transport, token="wrong").post("/account/read", idempotent=True)


async def test_unknown_user_and_missing_headers_are_rejected(transport):
    response = await raw(transport, "/account/read", b"{}", sign("999", "x", 1_700_000_000))
    assert response.status_code == 401
    import time

    response = await raw(transport, "/account/read", b"{}", sign("999", "x", int(time.time())))
    assert response.status_code == 401 and "Unknown sandbox user 999" in response.json()["errors"][0]
    response = await raw(transport, "/account/read", b"{}", {})
    assert response.status_code == 401 and "Missing QuantConnect authentication" in response.json()["errors"][0]


async def test_stale_timestamp_is_rejected(transport):
    response = await raw(transport, "/account/read", b"{}", sign("111", "token-one", 1_000_000_000))
    assert response.status_code == 401 and "Timestamp" in response.json()["errors"][0]


async def test_missing_required_field_is_named(transport):
    with pytest.raises(APIError, match="Missing required field 'language'"):
        await client(transport).post("/projects/create", {"name": "x"}, idempotent=False)
    with pytest.raises(APIError, match="Invalid field 'projectId'"):
        await client(transport).post("/files/read", {"projectId": "abc"}, idempotent=True)


async def test_unknown_endpoint_and_bad_body(transport):
    import time

    headers = sign("111", "token-one", int(time.time()))
    response = await raw(transport, "/nope/read", b"{}", headers)
    assert response.status_code == 404 and response.json() == {"success": False, "errors": ["Unknown API endpoint /nope/read."], "sandbox": True}
    response = await raw(transport, "/projects/read", b"not json", headers)
    assert response.json()["errors"] == ["The request body must be JSON."]
    response = await raw(transport, "/projects/read", b"[1]", headers)
    assert response.json()["errors"] == ["The request body must be a JSON object."]


async def test_users_never_see_each_others_state(transport, store):
    one, two = client(transport), client(transport, "222", "token-two")
    project = (await one.post("/projects/create", {"name": "Mine", "language": "Py"}, idempotent=False))["projects"][0]
    org_one = (await one.post("/account/read", idempotent=True))["organizationId"]
    await one.post("/object/set", {"organizationId": org_one, "key": "secret.txt"}, files={"objectData": ("s", b"s")}, idempotent=True)

    assert (await two.post("/projects/read", {}, idempotent=True))["projects"] == []
    with pytest.raises(APIError, match="not found"):
        await two.post("/files/read", {"projectId": project["projectId"]}, idempotent=True)
    with pytest.raises(APIError, match="not found or not yours"):
        await two.post("/object/list", {"organizationId": org_one}, idempotent=True)
    # Same project name is fine in another organization.
    await two.post("/projects/create", {"name": "Mine", "language": "Py"}, idempotent=False)
    # A collaborator sees the shared project, and only that one.
    await one.post("/projects/collaboration/create", {"projectId": project["projectId"], "collaboratorUserId": "222",
                                                      "collaborationLiveControl": False, "collaborationWrite": True}, idempotent=True)
    visible = (await two.post("/projects/read", {}, idempotent=True))["projects"]
    assert sorted(p["name"] for p in visible) == ["Mine", "Mine"] and {p["owner"] for p in visible} == {True, False}
    with pytest.raises(APIError, match="Only the owner"):
        await two.post("/projects/delete", {"projectId": project["projectId"]}, idempotent=True)
    for c in (one, two):
        await c.aclose()


async def test_every_answer_is_marked_as_sandbox(transport):
    import time

    body = await client(transport).post("/lean/versions/read", idempotent=True)
    assert body["sandbox"] is True
    response = await raw(transport, "/live/read", b'{"projectId": 1}', sign("111", "token-one", int(time.time())))
    assert response.json() == {"success": False, "sandbox": True,
                               "errors": ["Project 1 not found. Use list_projects to see the projects you can access."]}
