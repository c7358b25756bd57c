"""`qcmcp doctor` explains the configuration without revealing secrets."""

from __future__ import annotations

import httpx

from qcmcp.config import load_settings
from qcmcp.doctor import run_doctor
from tests.fake_qc import FAKE_TOKEN


def run(settings, answer) -> tuple[bool, str]:
    lines: list[str] = []
    ok = run_doctor(settings, lines.append, transport=httpx.MockTransport(answer))
    return ok, "\n".join(lines)


def test_good_credentials(settings):
    ok, output = run(settings, lambda r: httpx.Response(200, json={"organizationId": "org-9", "creditBalance": 5, "success": True}))
    assert ok and "Credentials accepted" in output and "org-9" in output
    assert "set (" in output and FAKE_TOKEN not in output


def test_rejected_credentials(settings):
    ok, output = run(settings, lambda r: httpx.Response(401))
    assert not ok and "rejected the credentials" in output and FAKE_TOKEN not in output


def test_unreachable_api(settings):
    def down(request):
        raise httpx.ConnectError("refused", request=request)

    ok, output = run(settings, down)
    assert not ok and "could not connect" in output


def test_missing_credentials_are_named_for_the_cloud_backend():
    settings = load_settings(QUANTCONNECT_USER_ID=None, QUANTCONNECT_API_TOKEN=None, QCMCP_BACKEND="cloud")
    ok, output = run(settings, lambda r: httpx.Response(500))
    assert not ok and "Missing QUANTCONNECT_USER_ID and QUANTCONNECT_API_TOKEN" in output


def test_without_credentials_the_sandbox_is_announced():
    ok, output = run(load_settings(), lambda r: httpx.Response(500))
    assert ok and "will use the sandbox" in output and "not QuantConnect" in output


def test_doctor_checks_the_vault_key_and_the_policy_file(tmp_path):
    from qcmcp.config import load_settings
    from qcmcp.qc.client import Credentials
    from qcmcp.security.vault import CredentialVault, new_key, parse_keys

    url = f"sqlite:///{tmp_path / 'v.sqlite3'}"
    CredentialVault(url, parse_keys(new_key())).add("acme", Credentials("1", "tok-doctor-123"))
    policy = tmp_path / "policy.yaml"
    policy.write_text("defaults:\n  deny_tools: [nope_*]\n")
    lines: list[str] = []
    wrong_key = load_settings(QCMCP_VAULT_KEY=new_key(), QCMCP_VAULT_URL=url, QCMCP_POLICY_FILE=str(policy))
    assert not run_doctor(wrong_key, lines.append)
    text = "\n".join(lines)
    assert "vault: The vault row of tenant 'acme' cannot be decrypted" in text
    assert "policy: " in text and "line 2" in text and "tok-doctor-123" not in text


def test_database_url_passwords_count_as_secrets():
    from qcmcp.config import load_settings

    settings = load_settings(QCMCP_AUDIT_DB="postgresql://qcmcp:pw-audit-1@db/audit",
                             QCMCP_VAULT_URL="postgresql://qcmcp:pw-vault-2@db/vault")
    assert {"pw-audit-1", "pw-vault-2"} <= set(settings.secrets())
