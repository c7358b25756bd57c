"""Structured logging to stderr with secrets redacted at the handler.

Redaction happens once, in a logging filter, so no caller has to remember it. In stdio
mode stdout carries only the MCP protocol, so every log line goes to stderr. Libraries that
install handlers of their own (fastmcp's rich console, uvicorn's dictConfig) are routed
through the same handler, so every stderr line is one JSON object when stderr is not a TTY.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from collections.abc import Iterable
from types import TracebackType

STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
# Extra fields libraries add that say nothing a reader of JSON needs (uvicorn's ANSI-coloured copy of the message).
DROPPED_ATTRS = STANDARD_ATTRS | {"color_message"}


class RedactingFilter(logging.Filter):
    """Replace every known secret in the rendered message and extra fields."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        self.secrets.extend(s for s in secrets if s and s not in self.secrets)

    def redact(self, text: str) -> str:
        return str(self._clean(text))

    def _clean(self, value: object) -> object:
        if isinstance(value, str):
            for secret in self.secrets:
                value = value.replace(secret, "***")
        return value

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            record.msg = self._clean(record.getMessage())
            record.args = None
            for key, value in vars(record).items():
                if key not in STANDARD_ATTRS:
                    setattr(record, key, self._clean(value))
            if record.exc_info:
                record.exc_text = self._clean(logging.Formatter().formatException(record.exc_info))  # type: ignore[assignment]
                record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in DROPPED_ATTRS})
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, default=str)


# One filter for the process, so secrets that appear later (a sandbox's generated token,
# a tenant's credentials) are redacted from then on.
REDACTOR = RedactingFilter()


def protect(*secrets: str) -> None:
    """Register values that must never appear in any log line."""
    REDACTOR.add(secrets)


# Log level for a tool error the tool wrapper has already logged (with its outcome): fastmcp logs every
# ToolError again at the error's level, and ``Logger.log`` never emits NOTSET, so the call is logged once.
ALREADY_LOGGED = logging.NOTSET

# Uvicorn settings that keep its own logging configuration out: its loggers then propagate to ours, and
# access lines follow the root level (QCMCP_LOG_LEVEL: shown at INFO and below, not at WARNING).
UVICORN_LOGGING: dict[str, object] = {"log_config": None}

_configured = False

_LIBRARIES = ("fastmcp", "mcp", "uvicorn", "uvicorn.access", "uvicorn.error", "httpx", "httpcore", "docket")


def configure(level: str = "INFO", fmt: str = "auto", secrets: Iterable[str] = ()) -> None:
    """Route all logging (ours and the libraries') through one redacting stderr handler."""
    global _configured
    handler = logging.StreamHandler(sys.stderr)
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    handler.setFormatter(JsonFormatter() if use_json else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    REDACTOR.add(secrets)
    handler.addFilter(REDACTOR)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    _silence_fastmcp_console()
    for name in _LIBRARIES:
        library = logging.getLogger(name)
        library.handlers[:] = []
        library.propagate = True
        library.setLevel(logging.NOTSET)
    # Libraries' DEBUG lines carry raw tool arguments and HTTP traffic (brokerage passwords, Object Store data),
    # which the redactor cannot know to mask: QCMCP_LOG_LEVEL=DEBUG is for our own loggers.
    for name in ("fastmcp", "mcp"):
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))
    logging.getLogger("httpcore").setLevel(max(logging.WARNING, root.level))
    # Docket's INFO lines name each task's key, and a task id is a handle to its result (the audit hashes it).
    logging.getLogger("docket").setLevel(max(logging.WARNING, root.level))
    # Python warnings and uncaught exceptions would otherwise print free text to stderr.
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    threading.excepthook = lambda args: _log_uncaught(args.exc_type, args.exc_value, args.exc_traceback)
    _configured = True


def is_configured() -> bool:
    """Whether :func:`configure` has run in this process (command-line errors then go through the logger)."""
    return _configured


def _silence_fastmcp_console() -> None:
    """fastmcp installs a rich console handler when it is imported and again around ``run``; turn that off.

    Its settings are read when it is first imported (the environment variable), or changed in place when it
    already is. Records from its loggers then reach the root handler like everyone else's.
    """
    os.environ["FASTMCP_LOG_ENABLED"] = "false"
    fastmcp = sys.modules.get("fastmcp")
    if fastmcp is not None and hasattr(fastmcp, "settings"):
        fastmcp.settings.log_enabled = False


def _log_uncaught(kind: type[BaseException], error: BaseException | None, trace: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error if error is not None else kind(), trace)
        return
    logging.getLogger("qcmcp").critical("uncaught exception", exc_info=(kind, error, trace))  # type: ignore[arg-type]
