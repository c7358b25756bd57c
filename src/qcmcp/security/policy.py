"""The agent policy file: what each role, tenant or token subject may do beyond its scopes.

Scopes say which kinds of tool a token may call; the policy narrows that per agent: allow
and deny tools (glob patterns), restrict calls to project or organization ids, cap the QCC
an agent may commit per UTC day, forbid live trading. Sections that apply to a call are
``defaults``, ``roles.<role>``, ``tenants.<tenant>`` and ``subjects.<sub>``; they combine
so that the strictest wins (denies add up, allow-lists and id lists intersect, the lowest
cap counts). The file is YAML, validated strictly (unknown keys, unknown tool patterns and
unknown roles are errors that name the line), and re-read when it changes; a broken edit
keeps the last good policy in force and is logged.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from qcmcp.config import ConfigurationError
from qcmcp.caller import Caller
from qcmcp.security.scopes import ROLES
from qcmcp.tools.catalog import BY_NAME

log = logging.getLogger("qcmcp.security")


class PolicyError(ConfigurationError):
    """The policy file cannot be used; the message names the line."""


def _known_pattern(pattern: str) -> str:
    if not fnmatch.filter(BY_NAME, pattern):
        raise ValueError(f"'{pattern}' matches no tool (tool names look like 'create_backtest' or 'read_*')")
    return pattern


ToolPattern = Annotated[str, AfterValidator(_known_pattern)]


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    allow_tools: list[ToolPattern] | None = Field(None, description="Only these tools (glob patterns).")
    deny_tools: list[ToolPattern] = Field(default_factory=list, description="Never these tools (glob patterns).")
    projects: list[int] | None = Field(None, description="Calls naming a projectId must name one of these.")
    organizations: list[str] | None = Field(None, description="Calls acting on an organization must use one of these.")
    qcc_per_day: float | None = Field(None, ge=0, description="QCC this agent may commit per UTC day.")
    live_trading: bool | None = Field(None, description="false forbids every live-money tool.")


class PolicyDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    defaults: Rule = Field(default_factory=Rule)
    roles: dict[str, Rule] = Field(default_factory=dict)
    tenants: dict[str, Rule] = Field(default_factory=dict)
    subjects: dict[str, Rule] = Field(default_factory=dict)

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, roles: dict[str, Rule]) -> dict[str, Rule]:
        unknown = sorted(set(roles) - set(ROLES))
        if unknown:
            raise ValueError(f"unknown role(s) {', '.join(unknown)}; roles are {', '.join(ROLES)}")
        return roles


@dataclass
class Effective:
    """The rules that apply to one identity, combined strictest-wins."""

    allow: list[list[str]] = field(default_factory=list)  # every list must match
    deny: list[str] = field(default_factory=list)
    projects: set[int] | None = None
    organizations: set[str] | None = None
    qcc_per_day: float | None = None
    live_trading: bool = True

    def add(self, rule: Rule) -> None:
        if rule.allow_tools is not None:
            self.allow.append(rule.allow_tools)
        self.deny.extend(rule.deny_tools)
        if rule.projects is not None:
            self.projects = set(rule.projects) if self.projects is None else self.projects & set(rule.projects)
        if rule.organizations is not None:
            wanted = set(rule.organizations)
            self.organizations = wanted if self.organizations is None else self.organizations & wanted
        if rule.qcc_per_day is not None:
            self.qcc_per_day = rule.qcc_per_day if self.qcc_per_day is None else min(self.qcc_per_day,
                                                                                      rule.qcc_per_day)
        if rule.live_trading is False:
            self.live_trading = False

    def tool_allowed(self, name: str) -> bool:
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in self.deny):
            return False
        return all(any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns) for patterns in self.allow)


class Policy:
    def __init__(self, document: PolicyDocument) -> None:
        self.document = document

    def effective(self, identity: Caller) -> Effective:
        combined = Effective()
        combined.add(self.document.defaults)
        for section, key in ((self.document.roles, identity.role), (self.document.tenants, identity.tenant),
                             (self.document.subjects, identity.subject)):
            if key is not None and key in section:
                combined.add(section[key])
        return combined


def _line_map(node: yaml.Node, path: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _line_map(value, (*path, key.value), lines)
            lines[(*path, key.value)] = key.start_mark.line + 1  # a key's problems point at the key
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _line_map(item, (*path, index), lines)


def parse_policy(text: str, source: str = "policy file") -> Policy:
    """Parse and validate; every error names the line it is on."""
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else {}
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}" if mark else "somewhere"
        raise PolicyError(f"{source}, {where}: not valid YAML ({error.problem or error.context}).") from None
    if not isinstance(data, dict):
        raise PolicyError(f"{source}, line 1: the policy must be a mapping with keys like 'defaults', 'roles', "
                          "'tenants' and 'subjects'.")
    lines: dict[tuple[Any, ...], int] = {}
    _line_map(node, (), lines)
    try:
        return Policy(PolicyDocument.model_validate(data))
    except ValidationError as error:
        problems = []
        for problem in error.errors(include_url=False, include_input=False):
            location = tuple(part for part in problem["loc"])
            line = next((lines[location[:n]] for n in range(len(location), -1, -1) if location[:n] in lines), 1)
            message = problem["msg"].removeprefix("Value error, ")
            problems.append(f"line {line}: {'.'.join(str(p) for p in location) or '(top level)'}: {message}")
        raise PolicyError(f"{source} is invalid:\n" + "\n".join(problems)) from None


class PolicyFile:
    """The policy at QCMCP_POLICY_FILE, re-read whenever the file changes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp = self._stat()
        self._policy = self._load()  # start-up: a broken policy is fatal
        self.last_error: str | None = None

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            info = os.stat(self.path)
        except OSError:
            return None
        return info.st_mtime_ns, info.st_size, info.st_ino

    def _load(self) -> Policy:
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError as error:
            raise PolicyError(f"Cannot read the policy file {self.path.name} ({error.strerror}).") from None
        return parse_policy(text, self.path.name)

    def current(self) -> Policy:
        stamp = self._stat()
        if stamp == self._stamp:
            return self._policy
        with self._lock:
            if stamp != self._stamp:
                self._stamp = stamp
                try:
                    self._policy = self._load()
                    self.last_error = None
                    log.info("policy reloaded", extra={"file": self.path.name})
                except PolicyError as error:
                    self.last_error = str(error)
                    log.error("policy change rejected; the previous policy stays in force",
                              extra={"file": self.path.name, "reason": str(error)})
        return self._policy
