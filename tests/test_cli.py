"""The command line reports configuration problems plainly and never crashes with a traceback."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from qcmcp.cli import app
from qcmcp.qc.client import _retry_after_seconds


@pytest.mark.parametrize(("name", "value", "fragment"), [
    ("QCMCP_HTTP_TIMEOUT", "-1", "greater than 0"),
    ("QCMCP_LOG_LEVEL", "LOUD", "QCMCP_LOG_LEVEL"),
])
def test_invalid_environment_is_a_clear_error(monkeypatch, name, value, fragment):
    monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 2
    assert "Invalid configuration" in result.output and fragment in result.output
    assert "Traceback" not in result.output


def test_version_command():
    result = CliRunner().invoke(app, ["version"])
    assert result.exit_code == 0 and result.output.strip()


@pytest.mark.parametrize(("header", "expected"), [("3", 3.0), ("9999", 30.0), ("soon", None), ("", None)])
def test_retry_after_parsing_is_bounded_and_tolerant(header, expected):
    import httpx

    response = httpx.Response(429, headers={"Retry-After": header} if header else {})
    assert _retry_after_seconds(response) == expected
