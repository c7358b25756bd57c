"""lean-cli workspaces: the ``lean.json`` nearest the working directory names the data folder.

lean-cli looks for ``lean.json`` in the working directory and each parent, and takes the data folder from
its ``data-folder`` key, relative to the file's directory (``LeanConfigManager.get_data_directory``). The
file is LEAN's launcher configuration, so it is JSON with ``//`` and ``/* */`` comments.
"""

from __future__ import annotations

import json
from pathlib import Path

from qcmcp.marketdata.errors import MarketDataError

CONFIG_NAME = "lean.json"


def find_lean_json(start: Path) -> Path | None:
    for folder in [start, *start.parents]:
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def strip_comments(text: str) -> str:
    """JSON text without ``//`` and ``/* */`` comments (string contents, URLs included, are kept)."""
    out: list[str] = []
    i, in_string = 0, False
    while i < len(text):
        char, pair = text[i], text[i:i + 2]
        if in_string:
            out.append(char)
            if char == "\\":
                out.append(text[i + 1:i + 2])
                i += 1
            elif char == '"':
                in_string = False
        elif pair == "//":
            newline = text.find("\n", i)
            i = len(text) if newline < 0 else newline
            continue
        elif pair == "/*":
            close = text.find("*/", i + 2)
            i = len(text) if close < 0 else close + 2
            continue
        else:
            in_string = char == '"'
            out.append(char)
        i += 1
    return "".join(out)


def data_folder(lean_json: Path) -> Path:
    """The workspace's data folder; a clear error when the file or its ``data-folder`` is unusable."""
    try:
        config = json.loads(strip_comments(lean_json.read_text(encoding="utf-8")))
    except (OSError, ValueError) as error:
        raise MarketDataError(f"{lean_json} is not readable JSON ({error}): fix it, or set QCMCP_DATA_DIR to "
                              "the data folder") from None
    name = config.get("data-folder") if isinstance(config, dict) else None
    if not isinstance(name, str) or not name:
        raise MarketDataError(f"{lean_json} has no \"data-folder\" key: add one (lean init writes "
                              "\"data-folder\": \"data\"), or set QCMCP_DATA_DIR to the data folder")
    folder = (lean_json.parent / name).resolve()
    if not folder.is_dir():
        raise MarketDataError(f"{lean_json} names the data folder {folder} (\"data-folder\": {name!r}), which does "
                              "not exist: create it (lean data download) or fix the key")
    return folder
