"""Local mode reads credentials from the OS keyring when the environment has none."""

from __future__ import annotations

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError
from typer.testing import CliRunner

from qcmcp.cli import app
from qcmcp.config import load_settings
from qcmcp.keyring_credentials import with_keyring_credentials


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.items.get((service, username))

    def set_password(self, service, username, password):
        self.items[(service, username)] = password

    def delete_password(self, service, username):
        if self.items.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


@pytest.fixture
def memory_keyring(monkeypatch):
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.test_keyring.MemoryKeyring")
    yield backend
    keyring.set_keyring(previous)


def test_store_then_serve_settings_use_the_keyring(memory_keyring, monkeypatch):
    monkeypatch.setenv("QUANTCONNECT_API_URL", "http://127.0.0.1:9/api/v2")  # doctor's check stays off the network
    monkeypatch.setenv("QCMCP_MAX_RETRIES", "0")
    runner = CliRunner()
    stored = runner.invoke(app, ["keyring", "store", "--user-id", "31337"], input="kr-token-abc\n")
    assert stored.exit_code == 0 and "kr-token-abc" not in stored.output
    settings = with_keyring_credentials(load_settings())
    assert settings.user_id == "31337" and settings.api_token.get_secret_value() == "kr-token-abc"
    doctor = runner.invoke(app, ["doctor"]).output
    assert "31337" in doctor and "set (12 characters, hidden)" in doctor and "kr-token-abc" not in doctor
    assert runner.invoke(app, ["keyring", "forget"]).output.strip() == "Removed."
    assert not with_keyring_credentials(load_settings()).has_credentials


def test_the_environment_wins_and_off_means_off(memory_keyring, monkeypatch):
    memory_keyring.set_password("qcmcp", "quantconnect-user-id", "1")
    memory_keyring.set_password("qcmcp", "quantconnect-api-token", "from-keyring")
    env = load_settings(QUANTCONNECT_USER_ID="2", QUANTCONNECT_API_TOKEN="from-env")
    assert with_keyring_credentials(env).api_token.get_secret_value() == "from-env"
    monkeypatch.setenv("QCMCP_KEYRING", "off")
    assert not with_keyring_credentials(load_settings()).has_credentials
