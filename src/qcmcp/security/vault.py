"""The credential vault: each tenant's QuantConnect user id and API token, encrypted at rest.

Tokens presented to the server carry identity and scopes only; the server looks the tenant's
QuantConnect credentials up here by the token's tenant claim. Rows are Fernet tokens
(AES-128-CBC + HMAC-SHA256 from ``cryptography``) whose plaintext also names the tenant, so a
row copied onto another tenant's id fails to open instead of lending one tenant's credentials
to another. Several keys may be configured: the first encrypts, all decrypt, which is how a
key is rotated without downtime. Storage is SQLAlchemy: SQLite by default, PostgreSQL by URL.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Column, DateTime, MetaData, String, Table, Text, delete, select
from sqlalchemy.exc import SQLAlchemyError

from qcmcp.config import ConfigurationError, Settings
from qcmcp.gateway import CredentialLookupError
from qcmcp.qc.client import Credentials
from qcmcp.security.databases import make_engine, sqlalchemy_url

metadata = MetaData()
tenants = Table(
    "qcmcp_tenants",
    metadata,
    Column("tenant", String(200), primary_key=True),
    Column("sealed", Text, nullable=False),  # Fernet token of {"tenant", "user_id", "api_token"}
    Column("organization_id", String(100), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


class VaultError(ConfigurationError, CredentialLookupError):
    """The vault cannot be opened or a row cannot be read with the configured keys."""


@dataclass(frozen=True)
class TenantCredentials:
    tenant: str
    credentials: Credentials
    organization_id: str | None


@dataclass(frozen=True)
class TenantRow:
    """What `tenant list` shows: never the credentials."""

    tenant: str
    organization_id: str | None
    created_at: datetime
    updated_at: datetime


def parse_keys(text: str) -> list[bytes]:
    """Keys separated by commas or whitespace; the first one encrypts."""
    keys = [part.strip().encode() for part in text.replace(",", " ").split()]
    for index, key in enumerate(keys, 1):
        try:
            Fernet(key)
        except ValueError:
            raise VaultError(f"Vault key {index} is not a Fernet key (32 url-safe base64-encoded bytes). "
                             "Generate one with `qcmcp tenant new-key`.") from None
    if not keys:
        raise VaultError("The vault key is empty. Generate one with `qcmcp tenant new-key`.")
    return keys


def configured_keys(settings: Settings) -> list[bytes] | None:
    """QCMCP_VAULT_KEY, or the keys in QCMCP_VAULT_KEY_FILE; None when neither is set."""
    if settings.vault_key is not None:
        return parse_keys(settings.vault_key.get_secret_value())
    if settings.vault_key_file:
        try:
            return parse_keys(Path(settings.vault_key_file).read_text(encoding="utf-8"))
        except OSError as error:
            raise VaultError(f"Cannot read QCMCP_VAULT_KEY_FILE ({error.strerror}).") from None
    return None


def database_url(settings: Settings) -> str:
    """QCMCP_VAULT_URL (``postgresql://…`` uses psycopg 3), or a SQLite file in the user data folder."""
    if settings.vault_url:
        return sqlalchemy_url(settings.vault_url)
    from platformdirs import user_data_dir

    return f"sqlite:///{Path(user_data_dir('qcmcp')) / 'vault.sqlite3'}"


class CredentialVault:
    def __init__(self, url: str, keys: list[bytes]) -> None:
        try:
            self.engine = make_engine(url, "QCMCP_VAULT_URL")
        except ConfigurationError as error:
            raise VaultError(str(error)) from None
        self._fernet = MultiFernet([Fernet(key) for key in keys])
        try:
            try:
                metadata.create_all(self.engine)
            except SQLAlchemyError:  # another process (an HTTP worker, a replica) created the table meanwhile
                metadata.create_all(self.engine)
        except SQLAlchemyError as error:
            raise VaultError(f"Cannot open the credential vault database ({type(error).__name__}). "
                             "Check QCMCP_VAULT_URL and that the database is reachable.") from None

    @classmethod
    def from_settings(cls, settings: Settings) -> CredentialVault | None:
        keys = configured_keys(settings)
        return None if keys is None else cls(database_url(settings), keys)

    def close(self) -> None:
        self.engine.dispose()

    # --- sealing ---------------------------------------------------------------------------
    def _seal(self, tenant: str, credentials: Credentials) -> str:
        plain = {"tenant": tenant, "user_id": credentials.user_id, "api_token": credentials.api_token}
        return self._fernet.encrypt(json.dumps(plain).encode()).decode()

    def _open(self, tenant: str, sealed: str) -> Credentials:
        try:
            plain = json.loads(self._fernet.decrypt(sealed.encode()))
        except InvalidToken:
            raise VaultError(f"The vault row of tenant '{tenant}' cannot be decrypted with the configured key(s). "
                             "Was the key rotated without `qcmcp tenant rotate-key`?") from None
        if plain.get("tenant") != tenant:
            raise VaultError(f"The vault row of tenant '{tenant}' belongs to another tenant; refusing to use it.")
        return Credentials(str(plain["user_id"]), str(plain["api_token"]))

    # --- operations ------------------------------------------------------------------------
    def add(self, tenant: str, credentials: Credentials, organization_id: str | None = None, *,
            replace: bool = False) -> bool:
        """Store a tenant's credentials; returns False if it exists and ``replace`` is not set."""
        now = datetime.now(UTC)
        with self.engine.begin() as connection:
            existing = connection.execute(select(tenants.c.created_at).where(tenants.c.tenant == tenant)).first()
            if existing is not None and not replace:
                return False
            connection.execute(delete(tenants).where(tenants.c.tenant == tenant))
            connection.execute(tenants.insert().values(
                tenant=tenant, sealed=self._seal(tenant, credentials), organization_id=organization_id,
                created_at=existing[0] if existing else now, updated_at=now))
        return True

    def get(self, tenant: str) -> TenantCredentials | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(tenants).where(tenants.c.tenant == tenant)).first()
        if row is None:
            return None
        return TenantCredentials(tenant, self._open(tenant, row.sealed), row.organization_id)

    def list(self) -> list[TenantRow]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(tenants.c.tenant, tenants.c.organization_id, tenants.c.created_at,
                                             tenants.c.updated_at).order_by(tenants.c.tenant)).all()
        return [TenantRow(*row) for row in rows]

    def remove(self, tenant: str) -> bool:
        with self.engine.begin() as connection:
            return connection.execute(delete(tenants).where(tenants.c.tenant == tenant)).rowcount > 0

    def rotate(self) -> int:
        """Re-encrypt every row under the first configured key, in one transaction."""
        with self.engine.begin() as connection:
            rows = connection.execute(select(tenants.c.tenant, tenants.c.sealed)).all()
            for tenant, sealed in rows:
                self._open(tenant, sealed)  # refuse to rotate a row that would not open afterwards
                connection.execute(tenants.update().where(tenants.c.tenant == tenant).values(
                    sealed=self._fernet.rotate(sealed.encode()).decode()))
        return len(rows)


def new_key() -> str:
    return Fernet.generate_key().decode()


def write_key_file(path: Path, keys: list[str]) -> None:
    """Replace the key file atomically, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".vault-key-")
    try:
        os.fchmod(handle, 0o600)
        os.write(handle, ("\n".join(keys) + "\n").encode())
        os.fsync(handle)
    finally:
        os.close(handle)
    os.replace(temporary, path)
