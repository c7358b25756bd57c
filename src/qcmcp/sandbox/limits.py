"""Every bound the sandbox puts on a request, in one place, and the generic checks that apply them.

The sandbox runs on someone's laptop or a shared host: no request may make it allocate without
bound, run for ever, or hand SQLite a value it cannot store. Each refusal is a ``success: false``
that names the field and the limit, so a caller can fix the request instead of seeing a 500.
"""

from __future__ import annotations

import math
from typing import Any

from qcmcp.sandbox.errors import SandboxError

# --- whole requests ------------------------------------------------------------------------------
MAX_JSON_BODY_BYTES = 4 * 1024 * 1024  # a JSON request body (a project's files, a patch)
MAX_MULTIPART_BODY_BYTES = 64 * 1024 * 1024  # an Object Store upload, with its form framing
MAX_JSON_DEPTH = 32  # nesting of objects and arrays in a body
MAX_LIST_ITEMS = 1000  # items in any one array of a body
MAX_STRING_CHARS = 64 * 1024  # any string field not listed in LONG_TEXT_FIELDS
LONG_TEXT_FIELDS = frozenset({"content", "patch"})  # file contents and unified diffs
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # what SQLite's INTEGER (and the cloud's C# long) holds

# --- answers -------------------------------------------------------------------------------------
MAX_ERROR_CHARS = 2000  # one error message (they may quote what the caller sent)
MAX_LISTED_PROBLEMS = 8  # validation problems named in one answer
MAX_LABEL_CHARS = 200  # a field's path quoted in a message
MAX_QUOTED_CHARS = 80  # an id or a name the caller sent, quoted in a message

# --- what a request may name or store ------------------------------------------------------------
MAX_NAME_CHARS = 255  # project, file and backtest names; Object Store keys
# Checking 1 MB of Python takes pyflakes about 2 s and autopep8 about 13 s here: these keep a compile and a
# PEP8 conversion to seconds.
MAX_FILE_CHARS = 256_000  # one file's content (a long algorithm is a few thousand lines, ~100 kB)
MAX_PROJECT_FILES = 1000  # files in one project, or in one AI-tool request (lean-cli projects of a few hundred)
MAX_PROJECT_CHARS = 2_000_000  # all of a project's (or a request's) file contents together
MAX_PEP8_CHARS = 128_000  # the Python a PEP8 conversion reformats in one request
# autopep8's time grows much faster than its input (10 lines of 2,000 characters: 6 s; 400 nested brackets:
# minutes), so it runs in a process killed after this long.
PEP8_SECONDS = 15.0
MAX_OBJECT_BYTES = 50 * 1024 * 1024  # one Object Store file
MAX_OBJECT_STORE_BYTES = 512 * 1024 * 1024  # all of an organization's Object Store files
MAX_DOWNLOAD_BYTES = 200 * 1024 * 1024  # the files one download zips (in memory)
MAX_PROJECTS = 1000  # projects in one organization

# --- pages (start inclusive, end exclusive; the cloud's documented maxima) -----------------------
MAX_PROJECTS_PAGE = 100
MAX_ORDERS_PAGE = 100  # backtest orders and insights: the spec says "less than 100" beside its own 0..100 example
MAX_LOG_LINES = 250  # live logs: "endLine - startLine <= 250"
MAX_LIVE_ORDERS = 1000  # live orders: "end - start must be <= 1,000"
MAX_STARTING_ENTRIES = 100  # a deployment's starting holdings or cash entries (brokerage settings)
MAX_LIVE_INSIGHTS = 100  # live insights: a page of 100, as for backtests (the tool descriptions say the same)

MAX_PATCH_SEARCH_LINES = 2_000_000  # line comparisons spent looking for a hunk that moved

# --- optimizations -------------------------------------------------------------------------------
MAX_GRID_POINTS = 500  # backtests one optimization may run
MAX_RANDOM_POINTS = 100


def check_body(body: Any) -> None:
    """Refuse a body with an integer SQLite cannot store, a non-finite number, or an oversized list or string.

    Runs on every request body before validation, whatever the endpoint, so no handler sees such a value.
    """
    stack: list[tuple[Any, str, int]] = [(body, "", 0)]
    while stack:
        value, where, depth = stack.pop()
        field = where or "body"
        if depth > MAX_JSON_DEPTH:
            raise SandboxError(f"The request body nests deeper than {MAX_JSON_DEPTH} levels (at '{_label(field)}').")
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int):
            if not INT64_MIN <= value <= INT64_MAX:
                raise SandboxError(f"Invalid field '{_label(field)}': {value} is outside the 64-bit integer range "
                                   f"[{INT64_MIN}, {INT64_MAX}].")
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise SandboxError(f"Invalid field '{_label(field)}': numbers must be finite (got {value}).")
        elif isinstance(value, str):
            limit = MAX_FILE_CHARS if where.rsplit(".", 1)[-1] in LONG_TEXT_FIELDS else MAX_STRING_CHARS
            if len(value) > limit:
                raise SandboxError(f"Invalid field '{_label(field)}': at most {limit} characters (got {len(value)}).")
            if not _is_unicode(value):
                raise SandboxError(f"Invalid field '{_label(field)}': {SURROGATE}")
        elif isinstance(value, dict):
            if len(value) > MAX_LIST_ITEMS:
                raise SandboxError(f"Invalid field '{_label(field)}': at most {MAX_LIST_ITEMS} entries "
                                   f"(got {len(value)}).")
            for key, item in value.items():
                if len(key) > MAX_STRING_CHARS:
                    raise SandboxError(f"A key in '{_label(field)}' is longer than {MAX_STRING_CHARS} characters.")
                if not _is_unicode(key):
                    raise SandboxError(f"A key in '{_label(field)}' is not text: {SURROGATE}")
                stack.append((item, f"{where}.{key}" if where else key, depth + 1))
        elif isinstance(value, list):
            if len(value) > MAX_LIST_ITEMS:
                raise SandboxError(f"Invalid field '{_label(field)}': at most {MAX_LIST_ITEMS} items "
                                   f"(got {len(value)}).")
            stack.extend((item, f"{field}.{index}", depth + 1) for index, item in enumerate(value))


SURROGATE = "it holds a lone UTF-16 surrogate (a \\ud800-\\udfff escape without its pair), which is not valid Unicode."


def _is_unicode(text: str) -> bool:
    """JSON's "\\ud800" escapes decode to lone surrogates, which neither SQLite nor a UTF-8 answer can hold."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shorten(text: object) -> str:
    """A caller's value as quoted in a message: whole if short, otherwise its start."""
    text = str(text)
    return text if len(text) <= MAX_QUOTED_CHARS else text[:MAX_QUOTED_CHARS] + "..."


def _label(field: str) -> str:
    """A field's path for a message, shortened: its keys came from the caller and may be long."""
    return field if len(field) <= MAX_LABEL_CHARS else field[:MAX_LABEL_CHARS] + "..."


def check_name_length(what: str, name: str) -> None:
    """``what`` is e.g. "The file name"; the message quotes only the start of an over-long name."""
    if len(name) > MAX_NAME_CHARS:
        raise SandboxError(f"{what} {name[:40]!r}... is {len(name)} characters long; at most {MAX_NAME_CHARS} "
                           "are allowed.")
