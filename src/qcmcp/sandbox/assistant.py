"""The AI-helper endpoints, done locally where that can be done honestly.

Syntax checking, PEP8 conversion and code completion are real computations; error
enhancement explains the errors the sandbox produces and common Python and LEAN errors, and
otherwise says what the error says and where. Searching QuantConnect's docs and forum cannot
be done offline and says so.
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
    members = sorted(qcalgorithm_members()) if language == "Py" else sorted(pascal_case(m) for m in qcalgorithm_members())
    if head.endswith(("self", "this", "base")):
        pool, stem = members, f"{head}."
    elif language == "Py":
        prefix, stem = sentence, ""
        pool = sorted(algorithm_imports())
    else:  # C# calls QCAlgorithm members without "this.": AddE -> AddEquity, besides LEAN's type names
        prefix, stem = sentence, ""
        pool = sorted(set(members) | {name for name in algorithm_imports() if name[:1].isupper()})
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


# Common Python and LEAN runtime errors, as their messages read in a backtest's error and stack trace.
RUNTIME_EXPLANATIONS: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"market wasn't found in the markets lookup\. Requested: (\w+)"), lambda m: (
        f"'{m.group(1)}' is not a market LEAN knows. The market argument names the exchange or venue (Market.USA, "
        "Market.COINBASE, ...), not a ticker or an option chain's root: for weekly SPX options use "
        "add_index_option(index_symbol, \"SPXW\") with the SPX index symbol as the first argument, or leave the "
        "market out to use the default.")),
    (re.compile(r"[Ii]nsufficient buying power"), lambda m: (
        "The order needs more margin than the portfolio has free. Order a smaller quantity, use set_holdings with a "
        "target below 1 (it leaves a small buffer), wait for open orders to fill, or check the leverage you set.")),
    (re.compile(r"not supported in the sandbox: ([^;.]+)"), lambda m: (
        f"{m.group(1)} is LEAN API the offline sandbox engine does not implement. Run the backtest in the QuantConnect "
        "cloud, or rewrite that part with the API the sandbox documents.")),
    (re.compile(r"(?:is not subscribed|Please add data|not found in the securities)", re.I), lambda m: (
        "The algorithm uses a symbol it has not subscribed to. Call add_equity/add_crypto/... in initialize for it "
        "first, and keep the returned .symbol to use in orders and indicators.")),
    (re.compile(r"KeyError: '?([^'\n]+)'?"), lambda m: (
        f"A dictionary has no entry '{m.group(1)}'. In on_data the slice holds only the symbols with new data at that "
        f"moment: check data.contains_key({m.group(1)!r}) (or use data.bars.get) before reading it, and use the "
        "Symbol returned by add_equity rather than a ticker string where LEAN expects a Symbol.")),
    (re.compile(r"NameError: name '(\w+)' is not defined"), lambda m: (
        f"'{m.group(1)}' is used before anything defines it." + _closest(m.group(1)) +
        " Check the spelling, define it earlier, or import it.")),
    (re.compile(r"AttributeError: '(\w+)' object has no attribute '(\w+)'"), lambda m: (
        f"Objects of type {m.group(1)} have no '{m.group(2)}'." + _closest(m.group(2)) +
        " If it is an attribute you set yourself, make sure initialize sets it before anything reads it; LEAN's "
        "Python API is snake_case (self.add_equity, self.portfolio).")),
    (re.compile(r"TypeError: '(\w+)' object is not callable"), lambda m: (
        f"A {m.group(1)} value is called like a function. Often an attribute hides a QCAlgorithm method of the same "
        "name (self.sma = self.sma(...)), or a property is called with brackets (self.portfolio.cash, not cash()).")),
    (re.compile(r"TypeError: (\w+)\(\) (?:missing|takes|got) (.+)"), lambda m: (
        f"{m.group(1)}() was called with the wrong arguments ({m.group(2)}). Compare the call with the method's "
        "signature in LEAN's documentation.")),
    (re.compile(r"ZeroDivisionError"), lambda m: (
        "A division by zero: a price, a quantity or an indicator value was 0, often before the data or an "
        "indicator is ready. Check is_ready and that the value is non-zero before dividing.")),
    (re.compile(r"IndexError: (.+)"), lambda m: (
        f"A list or array index is out of range ({m.group(1)}). History and rolling windows hold fewer items than "
        "requested until enough data has arrived: check their length (or is_ready) first.")),
    (re.compile(r"(?:ModuleNotFoundError|ImportError): No module named '([\w.]+)'"), lambda m: (
        f"The module '{m.group(1)}' is not available. Import LEAN's API with 'from AlgorithmImports import *', "
        "import your own project files by their file name, and use only the libraries QuantConnect supports.")),
    (re.compile(r"IndentationError: (.+)"), lambda m: (
        f"The indentation is inconsistent ({m.group(1)}). Indent each block with four spaces and do not mix tabs "
        "and spaces.")),
    (re.compile(r"ValueError: (.+)"), lambda m: (
        f"A value had the right type but an unusable content ({m.group(1)}); check the data or parameter it came "
        "from, for example a get_parameter value converted with int() or float().")),
]
WHERE = re.compile(r"in (?:[\w/.-]+/)?([\w.-]+\.py): line (\d+)")
EXCEPTION = re.compile(r"\b(\w+(?:Error|Exception))\b")


def enhance_error(language: str, error: dict[str, Any]) -> dict[str, Any]:
    """Explain an error: the sandbox's own compile errors, common Python and LEAN errors, else what it says where."""
    message = str(error.get("message") or "")
    if not message.strip():
        raise SandboxError("Pass the error's text in error.message (and its stack trace in error.stacktrace, if any).")
    text = f"{message}\n{error.get('stacktrace') or ''}"
    where = WHERE.search(text)
    place = f" It was raised in {where.group(1)} at line {where.group(2)}." if where else ""
    for pattern, explain in EXPLANATIONS + RUNTIME_EXPLANATIONS:
        match = pattern.search(text)
        if match:
            return {"state": "End", "version": VERSION, "payload": explain(match) + place, "payloadType": "String"}
    kind = EXCEPTION.search(text)
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    said = lines[-1] if lines else message.strip()
    payload = (f"The algorithm stopped with {kind.group(1) if kind else 'an error'}: \"{said[:300]}\"." + place +
               " The sandbox has no specific explanation for this message: read the line it names and the values it "
               "uses there; the QuantConnect cloud's assistant may say more.")
    return {"state": "End", "version": VERSION, "payload": payload, "payloadType": "String"}


def search(*_: Any) -> dict[str, Any]:
    raise SandboxError("Searching QuantConnect's documentation, forum and examples needs the QuantConnect cloud; "
                       "the sandbox works offline and has no copy of them.")
