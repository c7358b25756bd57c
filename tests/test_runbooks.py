"""The runbooks (docs/runbooks/) name only things that exist, so they cannot rot silently.

Checked on every page: each metric (``qcmcp_…``) is one the server exports, each alert (``QCMCP…``) is a rule in
deploy/prometheus/qcmcp-alerts.yml, each environment variable is a setting the server reads, each ``qcmcp …``
command (with its options) is a command of the CLI, each quoted message (a code span holding ``"…"``) and each
log line (``"msg": "…"``) is text the code writes, and each linked page exists. Every incident page says how
it shows and what to do.
"""

from __future__ import annotations

import ast
import re
import shlex
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml

from qcmcp.cli import app
from qcmcp.ops.metrics import Metrics
from tests.test_packaging import SETTINGS  # every environment variable the server reads

ROOT = Path(__file__).resolve().parent.parent
RUNBOOKS = ROOT / "docs" / "runbooks"
PAGES = sorted(RUNBOOKS.glob("*.md"))
INCIDENTS = [page for page in PAGES if page.name != "README.md"]
TOPICS = {"QuantConnect API down or slow": "quantconnect-api-down.md",
          "401 storms (expired credentials)": "authentication-failures.md", "429s": "rate-limits.md",
          "vault key rotation and a lost key": "vault-key.md", "a broken audit chain": "audit-chain.md",
          "the live-trading kill switch": "live-trading-kill-switch.md", "a full disk": "disk-full.md"}


@cache
def metric_names() -> set[str]:
    """Every sample name the server's registry can export (counters' ``_total``, histograms' series)."""
    names: set[str] = set()
    for family in Metrics().registry.collect():
        if family.type == "counter":
            names.add(family.name + "_total")
        elif family.type == "histogram":
            names.update(family.name + suffix for suffix in ("", "_bucket", "_sum", "_count"))
        else:
            names.add(family.name)
    return names


@cache
def alert_names() -> set[str]:
    rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "qcmcp-alerts.yml").read_text())
    return {rule["alert"] for group in rules["groups"] for rule in group["rules"] if "alert" in rule}


@cache
def source_strings() -> list[str]:
    """Every string constant in the package's code (adjacent literals are one constant; f-strings give their
    literal parts), as the messages and log lines the server writes."""
    found: list[str] = []
    for path in (ROOT / "src" / "qcmcp").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.append(node.value)
    return found


def written_by_the_code(text: str) -> bool:
    """``text`` is part of a string the code writes; a %-format string's fields match any value."""
    for literal in source_strings():
        if text in literal:
            return True
        if "%" in literal:
            pattern = re.escape(literal)
            pattern = re.sub(r"%(?:\\\.)?\d*[sdfr]|%\\\.\d+f", ".+?", pattern)
            if re.fullmatch(pattern, text):
                return True
    return False


def code_spans(text: str) -> list[str]:
    """Inline code spans and the lines of fenced code blocks."""
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text, re.S)
    inline = re.findall(r"`([^`\n]+)`", re.sub(r"```[a-z]*\n.*?```", "", text, flags=re.S))
    return inline + [line for block in blocks for line in block.splitlines()]


def cli_commands(text: str) -> list[list[str]]:
    """``qcmcp …`` invocations in code, as argument lists (up to a shell comment, pipe or redirection)."""
    commands = []
    for span in code_spans(text):
        for match in re.finditer(r"(?:^|[\s(;&])(qcmcp(?=\s|$)[^`#|>;&)]*)", span):
            words = shlex.split(match.group(1), comments=True)
            if words and words[0] == "qcmcp":
                commands.append(words[1:])
    return commands


def is_group(command: Any) -> bool:
    return hasattr(command, "list_commands")


def resolve(words: list[str]) -> tuple[Any, list[str]]:
    """The CLI command ``words`` names (typer's click objects), and the options given to it."""
    command = typer.main.get_command(app)
    rest = list(words)
    while rest and is_group(command) and not rest[0].startswith("-"):
        name = rest.pop(0)
        sub = command.get_command(None, name)
        assert sub is not None, f"qcmcp has no command {' '.join(words[:len(words) - len(rest)])!r}"
        command = sub
    assert not is_group(command), f"`qcmcp {' '.join(words)}` names a group, not a command"
    return command, [word.split("=")[0] for word in rest if word.startswith("-")]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_metric_alert_and_setting_a_runbook_names_exists(page):
    text = page.read_text()
    metrics = set(re.findall(r"\bqcmcp_[a-z_]+[a-z]\b", text))
    assert metrics - metric_names() == set(), f"{page.name}: not exported by the server"
    alerts = set(re.findall(r"\bQCMCP[A-Z][A-Za-z]+\b", text))
    assert alerts - alert_names() == set(), f"{page.name}: not in deploy/prometheus/qcmcp-alerts.yml"
    settings = set(re.findall(r"\b(?:QCMCP|QUANTCONNECT)_[A-Z0-9_]*[A-Z0-9]\b", text))
    assert settings - SETTINGS == set(), f"{page.name}: not a setting the server reads"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_command_a_runbook_gives_is_a_real_cli_command(page):
    commands = cli_commands(page.read_text())
    for words in commands:
        command, options = resolve(words)
        known = {name for parameter in command.params for name in (*parameter.opts, *parameter.secondary_opts)}
        assert set(options) - known == set(), f"{page.name}: `qcmcp {' '.join(words)}` has unknown options"
    if page in INCIDENTS:
        assert commands, f"{page.name} gives no qcmcp command"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_message_and_log_line_a_runbook_quotes_is_written_by_the_code(page):
    text = page.read_text()
    quoted = []
    for span in code_spans(text):
        log_line = re.fullmatch(r'"msg": "(.+)"', span.strip())
        if log_line:
            quoted.append(log_line.group(1))
        elif re.fullmatch(r'"[^"]+"', span.strip()):
            quoted.append(span.strip()[1:-1])
    for message in quoted:
        assert written_by_the_code(message), f"{page.name}: the code never writes {message!r}"
    for link in re.findall(r"\]\(([^)#:]+\.md)\)", text):
        assert (page.parent / link).is_file(), f"{page.name}: broken link {link}"


@pytest.mark.parametrize("page", INCIDENTS, ids=lambda page: page.name)
def test_each_incident_says_how_it_shows_and_what_to_do(page):
    text = page.read_text()
    shows = re.search(r"^## How (?:it|a key problem) shows.*?\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert shows, f"{page.name}: no 'How it shows' section"
    assert re.search(r"^#{2,3} (Steps|Planned rotation|A lost key)", text, re.M), f"{page.name}: no steps"
    signal = shows.group(1)
    assert re.search(r"\bqcmcp_[a-z_]+\b", signal) or '"msg": ' in signal or cli_commands(signal), \
        f"{page.name}: 'How it shows' names no metric, log line or command"


def test_the_index_covers_every_incident_the_issue_asks_for():
    index = (RUNBOOKS / "README.md").read_text()
    for topic, page in TOPICS.items():
        assert (RUNBOOKS / page).is_file(), topic
        assert f"]({page})" in index, topic
    assert {page.name for page in INCIDENTS} == set(TOPICS.values())
    # Every alert rule has a runbook that names it.
    named = set(re.findall(r"\bQCMCP[A-Z][A-Za-z]+\b", " ".join(page.read_text() for page in INCIDENTS)))
    assert alert_names() - named == set()


def test_the_checks_can_fail():
    assert not written_by_the_code("the QuantConnect API is on fire")
    assert written_by_the_code("retrying /backtests/read after no answer within 30 s (attempt 1, waiting 0.27 s)")
    assert "qcmcp_tool_calls_total" in metric_names() and "qcmcp_tool_calls" not in metric_names()
    with pytest.raises(AssertionError):
        resolve(["tenant", "rotate"])
    with pytest.raises(AssertionError):
        resolve(["tenant"])
    assert resolve(["audit", "tail", "-n", "5", "--outcome", "error"])[1] == ["-n", "--outcome"]
