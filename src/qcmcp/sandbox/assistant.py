"""The AI-helper endpoints, done locally where that can be done honestly.

Syntax checking, PEP8 conversion and code completion are real computations; error
enhancement explains the errors the sandbox itself produces. Searching QuantConnect's
docs and forum cannot be done offline and says so.
"""

from __future__ import annotations

import difflib
import json
import re
import subprocess
import sys
from typing import Any

from qcmcp.sandbox.compiler import algorithm_imports, check_python, qcalgorithm_members
from qcmcp.sandbox.errors import SandboxError
from qcmcp.sandbox.files import check_name
from qcmcp.sandbox.limits import MAX_PEP8_CHARS, MAX_PROJECT_CHARS, MAX_PROJECT_FILES, PEP8_SECONDS, shorten

VERSION = 2.0
SELF_ATTRIBUTE = re.compile(r"\bself\.([A-Z][A-Za-z0-9]*)\b")
EVENT_HANDLER = re.compile(r"\bdef ([A-Z][A-Za-z0-9]*)\(")


def snake_case(name: str) -> str:
    """``SetHoldings`` → ``set_holdings``; ``SMA`` → ``sma``; ``SetWarmUp`` → ``set_warm_up``."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def pascal_case(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def _require_python(language: str, what: str) -> None:
    if language != "Py":
        raise SandboxError(f"{what} for C# needs the QuantConnect cloud; the sandbox handles Python only.")


def sources(files: list[dict[str, Any]]) -> dict[str, str]:
    """The request's files as name -> content; a file needs a name, and its content (if given) must be text."""
    if len(files) > MAX_PROJECT_FILES:
        raise SandboxError(f"Pass at most {MAX_PROJECT_FILES} files (got {len(files)}).")
    found: dict[str, str] = {}
    for index, file in enumerate(files):
        name, content = file.get("name"), file.get("content", "")
        if not isinstance(name, str) or not name.strip():
            raise SandboxError(f"files.{index} needs a non-empty 'name', such as 'main.py'.")
        if not isinstance(content, str):
            raise SandboxError(f"files.{index} ('{shorten(name)}'): 'content' must be the file's text.")
        name = check_name(name)
        if name in found:
            raise SandboxError(f"File '{name}' is listed twice; pass each file once.")
        found[name] = content
    total = sum(len(content) for content in found.values())
    if total > MAX_PROJECT_CHARS:
        raise SandboxError(f"The files hold {total} characters together; at most {MAX_PROJECT_CHARS} are allowed.")
    return found


def syntax_check(language: str, files: list[dict[str, Any]]) -> dict[str, Any]:
    _require_python(language, "Syntax checking")
    named = sources(files)
    problems = [p.log_line() for p in check_python(named, whole_project=False).problems if p.fatal]
    return {"state": "Error" if problems else "End", "version": VERSION, "payload": problems, "payloadType": "StringArray"}


def format_python(sources: dict[str, str]) -> dict[str, str]:
    """autopep8 over ``sources``, in a worker process killed at the deadline (its time is not bounded otherwise)."""
    total = sum(len(content) for content in sources.values())
    if total > MAX_PEP8_CHARS:
        raise SandboxError(f"The Python files hold {total} characters; a PEP8 conversion takes at most "
                           f"{MAX_PEP8_CHARS} at a time. Convert the files in smaller groups.")
    if not sources:
        return {}
    try:
        done = subprocess.run([sys.executable, "-I", "-m", "qcmcp.sandbox.pep8_worker"], input=json.dumps(sources),
                              capture_output=True, text=True, timeout=PEP8_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise SandboxError(f"Formatting did not finish within {PEP8_SECONDS:g} s: autopep8 is slow on very long "
                           "lines and deeply nested brackets. Shorten those, or convert fewer files at a "
                           "time.") from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise SandboxError(f"autopep8 could not format the files ({shorten(reason)}). Check that they are "
                           "valid Python.")
    return json.loads(done.stdout)


def pep8_convert(files: list[dict[str, Any]]) -> dict[str, Any]:
    """Rename PascalCase QCAlgorithm calls to their snake_case names, then format with autopep8."""
    members = qcalgorithm_members()

    def rename(match: re.Match[str]) -> str:
        snake = snake_case(match.group(1))
        return f"self.{snake}" if snake in members else match.group(0)

    def rename_handler(match: re.Match[str]) -> str:
        snake = snake_case(match.group(1))
        return f"def {snake}(" if snake in members else match.group(0)

    named = sources(files)
    renamed = {name: EVENT_HANDLER.sub(rename_handler, SELF_ATTRIBUTE.sub(rename, content))
               for name, content in named.items() if name.endswith(".py")}
    converted = {**named, **format_python(renamed)}
    return {"state": "End", "version": VERSION, "payload": converted, "payloadType": "StringDict"}


def complete(language: str, sentence: str, limit: int | None) -> dict[str, Any]:
    """Complete a partial API expression from QCAlgorithm's members or LEAN's names."""
    limit = limit or 10
    head, _, prefix = sentence.rpartition(".")
    if head.endswith("self") or head == "self":
        pool = sorted(qcalgorithm_members()) if language == "Py" else sorted(pascal_case(m) for m in qcalgorithm_members())
        stem = f"{head}."
    else:
        prefix, stem = sentence, ""
        pool = sorted(algorithm_imports())
    matches = [name for name in pool if name.startswith(prefix)]
    matches += [name for name in pool if name.lower().startswith(prefix.lower()) and name not in matches]
    return {"state": "End", "version": VERSION, "payload": [stem + m for m in matches[:limit]], "payloadType": "StringArray"}


def _closest(name: str) -> str:
    candidates = difflib.get_close_matches(name, list(algorithm_imports() | qcalgorithm_members()), n=3)
    return f" Did you mean {', '.join(repr(c) for c in candidates)}?" if candidates else ""


EXPLANATIONS: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"undefined name '(\w+)'"), lambda m: (
        f"'{m.group(1)}' is used but defined nowhere: not in this file, not imported, and not part of the LEAN API "
        "that 'from AlgorithmImports import *' provides." + _closest(m.group(1)) +
        " Check the spelling, import it from the project module that defines it, or define it.")),
    (re.compile(r"SyntaxError: (.+)"), lambda m: (
        f"Python could not parse the file ({m.group(1)}). Look at the reported line and the one before it for a "
        "missing colon, bracket or quote, or inconsistent indentation.")),
    (re.compile(r"replaces the QCAlgorithm member '(\w+)'"), lambda m: (
        f"Assigning to self.{m.group(1)} overwrites the QCAlgorithm method or property of that name, so the next "
        f"self.{m.group(1)}(...) call fails with 'object is not callable'. Keep the result in a differently named "
        f"attribute, e.g. self._{m.group(1)} = self.{m.group(1)}(...).")),
    (re.compile(r"main\.py is missing"), lambda m: (
        "A Python project runs main.py; create it with create_file and define your QCAlgorithm subclass there.")),
    (re.compile(r"derives from QCAlgorithm"), lambda m: (
        "LEAN looks in main.py for a class that subclasses QCAlgorithm. Add 'from AlgorithmImports import *' and "
        "'class MyAlgorithm(QCAlgorithm):' with an initialize(self) method.")),
    (re.compile(r"C# projects cannot be compiled"), lambda m: (
        "The sandbox stores C# projects but cannot build them; configure QuantConnect credentials and use the cloud.")),
]


def enhance_error(language: str, error: dict[str, Any]) -> dict[str, Any]:
    message = str(error.get("message") or "")
    for pattern, explain in EXPLANATIONS:
        match = pattern.search(message)
        if match:
            return {"state": "End", "version": VERSION, "payload": explain(match), "payloadType": "String"}
    raise SandboxError(
        "The sandbox can explain only the errors it produces itself (compile errors: syntax, undefined names, "
        "shadowed API members, missing main.py or QCAlgorithm class). Explaining other errors needs the QuantConnect cloud."
    )


def search(*_: Any) -> dict[str, Any]:
    raise SandboxError("Searching QuantConnect's documentation, forum and examples needs the QuantConnect cloud; "
                       "the sandbox works offline and has no copy of them.")
