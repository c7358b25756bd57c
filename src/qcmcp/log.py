"""Structured logging to stderr with secrets redacted at the handler.

Redaction happens once, in a logging filter, so no caller has to remember it. In stdio
mode stdout carries only the MCP protocol, so every log line goes to stderr.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterable

STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


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
        entry.update({k: v for k, v in vars(record).items() if k not in STANDARD_ATTRS})
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, default=str)


# One filter for the process, so secrets that appear later (a sandbox's generated token,
# a tenant's credentials) are redacted from then on.
REDACTOR = RedactingFilter()


def protect(*secrets: str) -> None:
    """Register values that must never appear in any log line."""
    REDACTOR.add(secrets)


def configure(level: str = "INFO", fmt: str = "auto", secrets: Iterable[str] = ()) -> None:
    """Route all logging (ours and the libraries') through one redacting stderr handler."""
    handler = logging.StreamHandler(sys.stderr)
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    handler.setFormatter(JsonFormatter() if use_json else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    REDACTOR.add(secrets)
    handler.addFilter(REDACTOR)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("fastmcp", "mcp", "uvicorn", "uvicorn.access", "uvicorn.error", "httpx", "httpcore"):
        library = logging.getLogger(name)
        library.handlers[:] = []
        library.propagate = True
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))
    logging.getLogger("httpcore").setLevel(max(logging.WARNING, root.level))
