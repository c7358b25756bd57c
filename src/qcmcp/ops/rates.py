"""A call rate, ``CALLS/SECONDS``: the one format of QCMCP_RATE_LIMIT and QCMCP_TENANT_RATE_LIMIT."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rate:
    """``calls`` per ``seconds``."""

    calls: int
    seconds: float

    @classmethod
    def parse(cls, text: str, setting: str, form: str = "CALLS/SECONDS (e.g. 120/60)") -> Rate | None:
        """``"120/60"`` (calls/seconds), or ``off``/empty for no limit; anything else is a ValueError naming the
        setting."""
        value = text.strip().lower()
        if value in ("", "off", "none", "0"):
            return None
        match = re.fullmatch(r"(\d+)\s*/\s*(\d+(?:\.\d+)?)", value)
        if not match or int(match[1]) < 1 or float(match[2]) <= 0:
            raise ValueError(f"{setting} must be {form} or off, not {text!r}")
        return cls(int(match[1]), float(match[2]))

    def __str__(self) -> str:
        return f"{self.calls}/{self.seconds:g}"
