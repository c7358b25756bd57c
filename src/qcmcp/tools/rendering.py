"""The text block of every tool result: a one-line summary, then the answer itself as JSON, within a budget.

Many MCP clients hand the model only the text content, so the data must be there, not only in
``structuredContent`` (the MCP spec: a tool returning structured content SHOULD also return it serialised as
text). A large answer is fitted to the budget by shortening its longest lists and strings — never by cutting
the JSON mid-way — and every shortening is stated, with the path, what is shown and how to get the rest.
"""

from __future__ import annotations

import json
from typing import Any

DEFAULT_MAX_CHARS = 24_000  # about 6,000 tokens of a model's context per result
MIN_LIST_ITEMS = 3
MIN_STRING_CHARS = 200


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def render(summary: str, body: dict[str, Any], max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """``summary``, then ``body`` as compact JSON fitted to ``max_chars`` (with a note on what was shortened)."""
    fitted, notes = fit(body, max(max_chars - len(summary) - 200, 1000))
    text = f"{summary}\n{compact(fitted)}"
    if notes:
        text += ("\nShortened to fit the result size limit (the structured content has the whole answer): "
                 + "; ".join(notes[:10]) + ("; …" if len(notes) > 10 else "")
                 + ". Use the tool's start/end paging parameters, where it has them, to read the rest.")
    return text


def cap_structured(body: dict[str, Any], max_chars: int) -> dict[str, Any]:
    """The structured result within ``max_chars`` of JSON: shortened the same way as the text, with the notes
    in ``shortened`` so a client knows what is missing and pages (or reads the result's resource) for the rest."""
    fitted, notes = fit(body, max_chars)
    if not notes:
        return body
    return {**fitted, "shortened": notes}


def fit(body: Any, budget: int) -> tuple[Any, list[str]]:
    """A copy of ``body`` whose JSON is at most ``budget`` characters, and a note per shortened field.

    Repeatedly halves the largest list (keeping its first items) or cuts the largest string, until it fits or
    nothing is left to shorten.
    """
    if len(compact(body)) <= budget:
        return body, []
    data = json.loads(compact(body))  # a private copy made of plain JSON types
    shortened: dict[str, tuple[Any, Any, int]] = {}  # path -> (parent, key, original length)
    for _ in range(200):
        if len(compact(data)) <= budget:
            break
        target = _largest(data)
        if target is None:
            break
        path, parent, key, value = target
        shortened.setdefault(path, (parent, key, len(value)))
        if isinstance(value, list):
            parent[key] = value[:max(MIN_LIST_ITEMS, len(value) // 2)] if len(value) > MIN_LIST_ITEMS else []
        else:
            parent[key] = value[:max(MIN_STRING_CHARS, len(value) // 2) - 1] + "…"
    notes = []
    for path, (parent, key, total) in shortened.items():
        value = parent[key]
        notes.append(f"{path}: the first {len(value)} of {total} items" if isinstance(value, list)
                     else f"{path}: cut from {total} characters")
    return data, notes


def _largest(data: Any) -> tuple[str, Any, Any, Any] | None:
    """The largest shortenable list or string in ``data`` (by JSON size), with its path and parent."""
    best: tuple[int, str, Any, Any, Any] | None = None
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, node = stack.pop()
        children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in children:
            child = f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}" if path else key
            shortenable = (isinstance(value, list) and len(value) > 0) or (
                isinstance(value, str) and len(value) > MIN_STRING_CHARS + 1)
            if shortenable:
                size = len(compact(value))
                if best is None or size > best[0]:
                    best = (size, child, node, key, value)
            if isinstance(value, dict | list):
                stack.append((child, value))
    return None if best is None else best[1:]
