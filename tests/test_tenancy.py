"""Tenant isolation in a shared deployment: each tenant's calls use its own credentials and see its own state.

Two tenants run the same workload in parallel against one HTTP server. On the cloud path
the "cloud" is a standalone sandbox on 127.0.0.1 that knows both tenants' QuantConnect users,
so every request is signature-checked against the user it claims to be.
"""

from __future__ import annotations

import asyncio
import os
import subprocess

import jwt
import pytest
from fastmcp import Client

from qcmcp.qc.client import Credentials
from qcmcp.sandbox.store import SandboxStore
from qcmcp.security.scopes import ROLES
from qcmcp.security.vault import CredentialVault, new_key, parse_keys
from tests.processes import free_port, wait_for_port
from tests.test_security import QCMCP, SECRET, claims, start

pytestmark = pytest.mark.e2e
TOKENS = {"acme": ("111", "acme-qc-token-5e1f0c2b9a8d7e6f5a4b3c2d1e0f9a8b"),
          "globex": ("222", "globex-qc-token-0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e")}


def token_for(tenant: str | None, role: str = "researcher") -> str:
    extra = {"tenant": tenant} if tenant else {}
    payload = claims(sub=f"agent-of-{tenant}", scope=" ".join(sorted(ROLES[role])), **extra)
    if tenant is None:
        payload.pop("tenant")
    return jwt.encode(payload, SECRET, "HS256")


async def workload(url: str, tenant: str) -> dict:
    """Create a project with a name both tenants use, write a file, list what the tenant can see."""
    async with Client(f"{url}/mcp", auth=token_for(tenant)) as client:
        created = await client.call_tool("create_project", {"name": "Shared Name", "language": "Py"})
        project_id = created.structured_content["projects"][0]["projectId"]
        await client.call_tool("create_file", {"projectId": project_id, "name": "notes.py",
                                               "content": f"# {tenant}\n"})
        listed = await client.call_tool("list_projects", {})
        return {"project": project_id, "visible": {p["projectId"] for p in listed.structured_content["projects"]}}


async def cross_read(url: str, tenant: str, project_id: int) -> tuple[bool, str]:
    async with Client(f"{url}/mcp", auth=token_for(tenant)) as client:
        result = await client.call_tool("read_file", {"projectId": project_id, "name": "notes.py"},
                                        raise_on_error=False)
        return result.is_error, result.content[0].text


async def run_two_tenants(url: str) -> dict:
    acme, globex = await asyncio.gather(workload(url, "acme"), workload(url, "globex"))
    assert acme["project"] != globex["project"]
    assert acme["visible"] == {acme["project"]} and globex["visible"] == {globex["project"]}
    refused, text = await cross_read(url, "acme", globex["project"])
    assert refused and "globex" not in text, text  # another tenant's project is simply not there
    async with Client(f"{url}/mcp", auth=token_for("acme", role="admin")) as client:
        deleted = await client.call_tool("delete_project", {"projectId": globex["project"]}, raise_on_error=False)
        assert deleted.is_error
    async with Client(f"{url}/mcp", auth=token_for("globex")) as client:  # nothing of globex's was touched
        listed = await client.call_tool("read_file", {"projectId": globex["project"], "name": "notes.py"})
        assert listed.structured_content["files"][0]["content"] == "# globex\n"
    return {"acme": acme["project"], "globex": globex["project"]}


async def test_sandbox_tenants_get_separate_accounts(tmp_path):
    process, url, log = start(tmp_path, {"QCMCP_AUTH_JWT_SECRET": SECRET})
    try:
        await run_two_tenants(url)
        async with Client(f"{url}/mcp", auth=token_for(None)) as client:
            refused = await client.call_tool("list_projects", {}, raise_on_error=False)
            assert refused.is_error and "no 'tenant' claim" in refused.content[0].text
    finally:
        process.terminate()
        process.wait(timeout=10)
    store = SandboxStore(tmp_path / "sandbox.sqlite3")
    owners = {row["tenant"]: row["user_id"] for row in store.query("SELECT * FROM tenant_users")}
    assert set(owners) == {"acme", "globex"} and len(set(owners.values())) == 2
    assert SECRET not in log.read_text()


@pytest.fixture
def fake_cloud(tmp_path):
    """A standalone sandbox on 127.0.0.1 that knows both tenants' users: the 'cloud' for this test."""
    db = tmp_path / "cloud.sqlite3"
    store = SandboxStore(db)
    for user_id, token in TOKENS.values():
        store.register_user(user_id, token)
    store.close()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUANTCONNECT_", "QCMCP_"))}
    process = subprocess.Popen([QCMCP, "sandbox", "--port", str(port), "--db", str(db)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(process, port)
    yield f"http://127.0.0.1:{port}/api/v2", db
    process.terminate()
    process.wait(timeout=10)


def start_on_cloud_with_vault(tmp_path, api_url: str, **extra_env: str):
    """A shared server on the cloud backend whose vault holds both tenants; returns it and the vault key."""
    key = new_key()
    vault_url = f"sqlite:///{tmp_path / 'vault.sqlite3'}"
    vault = CredentialVault(vault_url, parse_keys(key))
    for tenant, (user_id, token) in TOKENS.items():
        vault.add(tenant, Credentials(user_id, token))
    vault.close()
    process, url, log = start(tmp_path, {"QCMCP_AUTH_JWT_SECRET": SECRET, "QCMCP_BACKEND": "cloud",
                                         "QUANTCONNECT_API_URL": api_url, "QCMCP_VAULT_KEY": key,
                                         "QCMCP_VAULT_URL": vault_url, **extra_env})
    return process, url, log, key


async def test_cloud_tenants_use_their_own_vault_credentials(tmp_path, fake_cloud):
    api_url, cloud_db = fake_cloud
    process, url, log, key = start_on_cloud_with_vault(tmp_path, api_url)
    try:
        projects = await run_two_tenants(url)
        async with Client(f"{url}/mcp", auth=token_for("initech")) as client:
            unknown = await client.call_tool("list_projects", {}, raise_on_error=False)
            assert unknown.is_error and "qcmcp tenant add initech" in unknown.content[0].text
    finally:
        process.terminate()
        process.wait(timeout=10)
    store = SandboxStore(cloud_db)
    owner = {row["project_id"]: row["owner_id"] for row in store.query("SELECT project_id, owner_id FROM projects")}
    assert owner == {projects["acme"]: "111", projects["globex"]: "222"}  # signed as each tenant's own user
    text = log.read_text() + (tmp_path / "audit.sqlite3").read_bytes().decode("latin-1")
    for _, token in TOKENS.values():
        assert token not in text
    assert key not in text
