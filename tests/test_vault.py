"""The credential vault: encrypted at rest, bound to its tenant, rotatable, SQLite and PostgreSQL."""

from __future__ import annotations

import os
import sqlite3

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from qcmcp.cli import app
from qcmcp.config import load_settings
from qcmcp.qc.client import Credentials
from qcmcp.security.vault import CredentialVault, VaultError, new_key, parse_keys

TOKEN_A = "tenant-a-token-7f3c9e1d2b4a6c8e0f1a3b5c7d9e1f2a"
TOKEN_B = "tenant-b-token-0a1b2c3d4e5f60718293a4b5c6d7e8f9"


def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'vault.sqlite3'}"


def exercise(vault: CredentialVault) -> None:
    assert vault.add("acme", Credentials("111", TOKEN_A), "org-a")
    assert vault.add("globex", Credentials("222", TOKEN_B))
    assert not vault.add("acme", Credentials("999", "other"))  # no silent overwrite
    entry = vault.get("acme")
    assert entry is not None and entry.credentials == Credentials("111", TOKEN_A) and entry.organization_id == "org-a"
    assert vault.get("nobody") is None
    assert [row.tenant for row in vault.list()] == ["acme", "globex"]
    assert vault.add("acme", Credentials("98765432101", TOKEN_A + "x"), replace=True)
    assert vault.get("acme").credentials.user_id == "98765432101"
    assert vault.remove("globex") and not vault.remove("globex")
    assert vault.get("globex") is None


def test_sqlite_vault_round_trip_and_nothing_readable_at_rest(tmp_path) -> None:
    vault = CredentialVault(sqlite_url(tmp_path), parse_keys(new_key()))
    exercise(vault)
    vault.close()
    raw = b"".join(path.read_bytes() for path in tmp_path.iterdir() if path.name.startswith("vault.sqlite3"))
    assert TOKEN_A.encode() not in raw and b"98765432101" not in raw  # the user id is sealed too
    assert b"acme" in raw  # the tenant id is the lookup key, stored in clear


def test_postgres_vault_round_trip(postgres_url) -> None:
    vault = CredentialVault(postgres_url, parse_keys(new_key()))
    with vault.engine.begin() as connection:
        connection.execute(text("DELETE FROM qcmcp_tenants"))
    exercise(vault)
    with vault.engine.connect() as connection:
        stored = " ".join(str(v) for row in connection.execute(text("SELECT * FROM qcmcp_tenants")) for v in row)
    assert TOKEN_A not in stored
    vault.close()


def test_postgres_url_uses_psycopg3(monkeypatch, postgres_url) -> None:
    monkeypatch.setenv("QCMCP_VAULT_KEY", new_key())
    monkeypatch.setenv("QCMCP_VAULT_URL", postgres_url)
    vault = CredentialVault.from_settings(load_settings())
    assert vault is not None and vault.engine.dialect.driver == "psycopg"
    vault.close()


def test_a_row_moved_onto_another_tenant_does_not_open(tmp_path) -> None:
    vault = CredentialVault(sqlite_url(tmp_path), parse_keys(new_key()))
    vault.add("acme", Credentials("111", TOKEN_A))
    vault.add("globex", Credentials("222", TOKEN_B))
    with vault.engine.begin() as connection:
        sealed = connection.execute(text("SELECT sealed FROM qcmcp_tenants WHERE tenant = 'acme'")).scalar()
        connection.execute(text("UPDATE qcmcp_tenants SET sealed = :s WHERE tenant = 'globex'"), {"s": sealed})
    with pytest.raises(VaultError, match="belongs to another tenant"):
        vault.get("globex")


def test_wrong_key_and_bad_keys_are_refused_plainly(tmp_path) -> None:
    CredentialVault(sqlite_url(tmp_path), parse_keys(new_key())).add("acme", Credentials("111", TOKEN_A))
    with pytest.raises(VaultError, match="cannot be decrypted") as failure:
        CredentialVault(sqlite_url(tmp_path), parse_keys(new_key())).get("acme")
    assert TOKEN_A not in str(failure.value)
    with pytest.raises(VaultError, match="not a Fernet key"):
        parse_keys("not-a-key")
    with pytest.raises(VaultError, match="empty"):
        parse_keys(" , ")


def test_rotation_moves_every_row_to_the_new_key(tmp_path) -> None:
    old, fresh = new_key(), new_key()
    CredentialVault(sqlite_url(tmp_path), parse_keys(old)).add("acme", Credentials("111", TOKEN_A))
    assert CredentialVault(sqlite_url(tmp_path), parse_keys(f"{fresh},{old}")).rotate() == 1
    assert CredentialVault(sqlite_url(tmp_path), parse_keys(fresh)).get("acme").credentials.api_token == TOKEN_A
    with pytest.raises(VaultError):
        CredentialVault(sqlite_url(tmp_path), parse_keys(old)).get("acme")


def test_tenant_cli_add_list_rotate_remove(tmp_path, monkeypatch) -> None:
    key_file = tmp_path / "vault.key"
    runner = CliRunner()
    assert runner.invoke(app, ["tenant", "list"]).exit_code == 2  # no key configured: says how to make one
    key = runner.invoke(app, ["tenant", "new-key"]).output.strip()
    key_file.write_text(key + "\n")
    monkeypatch.setenv("QCMCP_VAULT_KEY_FILE", str(key_file))

    added = runner.invoke(app, ["tenant", "add", "acme", "--user-id", "111", "--organization-id", "org-a"],
                          input=TOKEN_A + "\n")
    assert added.exit_code == 0, added.output
    assert runner.invoke(app, ["tenant", "add", "acme", "--user-id", "111"], input="x\n").exit_code == 1
    assert runner.invoke(app, ["tenant", "add", "bad", "--user-id", "abc"], input="x\n").exit_code == 2
    listed = runner.invoke(app, ["tenant", "list"])
    assert "acme" in listed.output and "org-a" in listed.output and TOKEN_A not in listed.output

    rotated = runner.invoke(app, ["tenant", "rotate-key"])
    assert rotated.exit_code == 0 and "Re-encrypted 1" in rotated.output
    new_keys = key_file.read_text().split()
    assert new_keys != [key] and len(new_keys) == 1 and oct(os.stat(key_file).st_mode & 0o777) == "0o600"
    vault = CredentialVault(sqlite_url(tmp_path), parse_keys(new_keys[0]))
    assert vault.get("acme").credentials.api_token == TOKEN_A

    assert runner.invoke(app, ["tenant", "remove", "acme"]).exit_code == 0
    assert runner.invoke(app, ["tenant", "remove", "acme"]).exit_code == 1


def test_env_key_rotation_needs_the_new_key_first(tmp_path, monkeypatch) -> None:
    old = new_key()
    monkeypatch.setenv("QCMCP_VAULT_KEY", old)
    runner = CliRunner()
    assert runner.invoke(app, ["tenant", "add", "acme", "--user-id", "111"], input=TOKEN_A + "\n").exit_code == 0
    refused = runner.invoke(app, ["tenant", "rotate-key"])
    assert refused.exit_code == 2 and "first" in refused.output
    fresh = new_key()
    monkeypatch.setenv("QCMCP_VAULT_KEY", f"{fresh},{old}")
    assert runner.invoke(app, ["tenant", "rotate-key"]).exit_code == 0
    assert CredentialVault(sqlite_url(tmp_path), parse_keys(fresh)).get("acme") is not None
    db = sqlite3.connect(tmp_path / "vault.sqlite3")
    assert db.execute("SELECT COUNT(*) FROM qcmcp_tenants").fetchone()[0] == 1


def _open_when_told(url: str, key: bytes, go, results) -> None:  # noqa: ANN001 - a spawned process's entry
    go.wait(30)  # a barrier: all four are past their imports, then they open the vault together
    try:
        CredentialVault(url, [key]).close()
        results.put("ok")
    except Exception as error:  # noqa: BLE001 - reported to the test
        results.put(f"{type(error).__name__}: {error}")


def test_processes_opening_a_new_vault_at_once_all_open_it(tmp_path) -> None:
    """HTTP workers and replicas start together: each creates the vault's table if it is missing, and the one that
    loses that race opens the table the other made instead of failing start-up."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    go, results = context.Barrier(4), context.Queue()
    url, key = f"sqlite:///{tmp_path / 'vault.sqlite3'}", new_key().encode()
    processes = [context.Process(target=_open_when_told, args=(url, key, go, results)) for _ in range(4)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(10)
    assert outcomes == ["ok"] * 4, outcomes
