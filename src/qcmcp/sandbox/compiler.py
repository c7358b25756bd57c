"""Compile checks for Python projects, done for real.

What a build catches, with file and line: syntax errors, names that are defined nowhere
(pyflakes, knowing what ``from AlgorithmImports import *`` provides), a missing
``main.py`` or ``QCAlgorithm`` subclass, and the classic QuantConnect mistake of
assigning over an API method (``self.sma = self.sma(...)``), which breaks the next call.
C# is stored but not compiled here: that needs the QuantConnect cloud.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass, field
from importlib import resources

from pyflakes import checker, messages

CSHARP_MESSAGE = (
    "C# projects cannot be compiled in the qcmcp sandbox: C# compilation needs the QuantConnect "
    "cloud (set QUANTCONNECT_USER_ID and QUANTCONNECT_API_TOKEN and use the cloud backend)."
)
TOO_DEEP = ("SyntaxError: the code nests too deeply to compile (a very long chain of operators, or brackets "
            "inside brackets); split the expression into smaller ones.")
# pyflakes findings that make the build fail; the rest are reported as warnings.
FATAL = (messages.UndefinedName, messages.ImportStarUsage, messages.UndefinedLocal, messages.UndefinedExport)


@functools.cache
def _names(resource: str) -> frozenset[str]:
    text = resources.files("qcmcp.sandbox.data").joinpath(resource).read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line)


def algorithm_imports() -> frozenset[str]:
    """Every name ``from AlgorithmImports import *`` defines (generated from LEAN's stubs)."""
    return _names("algorithm_imports.txt")


def qcalgorithm_members() -> frozenset[str]:
    """Methods and properties of ``QCAlgorithm`` (generated from LEAN's stubs)."""
    return _names("qcalgorithm_members.txt")


@dataclass
class Problem:
    file: str
    line: int
    column: int
    message: str
    fatal: bool = True

    def log_line(self) -> str:
        kind = "Build Error" if self.fatal else "Build Warning"
        return f"{kind} File: {self.file} Line: {self.line} Column: {self.column} - {self.message}"


@dataclass
class BuildResult:
    problems: list[Problem] = field(default_factory=list)
    parameters: list[dict[str, object]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(p.fatal for p in self.problems)

    def logs(self) -> list[str]:
        lines = [p.log_line() for p in self.problems]
        errors = sum(p.fatal for p in self.problems)
        lines.append("Build Success." if self.ok else f"Build Failed: {errors} error(s).")
        return lines


def _module_name(filename: str) -> str:
    return filename.removesuffix(".py").replace("/", ".")


def _exported(tree: ast.Module) -> set[str]:
    """Top-level names a project file offers to ``from module import *``."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names if a.name != "*")
    return {n for n in names if not n.startswith("_")}


def _is_qcalgorithm(node: ast.ClassDef) -> bool:
    return any(
        (isinstance(base, ast.Name) and base.id in ("QCAlgorithm", "QCAlgorithmFramework"))
        or (isinstance(base, ast.Attribute) and base.attr == "QCAlgorithm")
        for base in node.bases
    )


def _shadowed_members(filename: str, tree: ast.Module) -> list[Problem]:
    """``self.<api member> = ...`` inside a QCAlgorithm subclass hides the API member (settable properties such
    as ``project_id`` or ``name`` excepted: LEAN lets algorithms assign them)."""
    members = qcalgorithm_members() - _names("qcalgorithm_settable.txt")
    problems = []
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and _is_qcalgorithm(n)):
        for node in ast.walk(cls):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
            for target in targets:
                if (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                        and target.value.id == "self" and target.attr in members):
                    problems.append(Problem(
                        filename, target.lineno, target.col_offset + 1,
                        f"'self.{target.attr} = ...' replaces the QCAlgorithm member '{target.attr}', so later "
                        f"calls to self.{target.attr}(...) fail. Store the value under another name, "
                        f"e.g. 'self._{target.attr}' or 'self.{target.attr}_indicator'.",
                    ))
    return problems


def _parameters(filename: str, tree: ast.Module) -> list[dict[str, object]]:
    """``get_parameter("name", ...)`` calls, reported like the cloud's parameter detection."""
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("get_parameter", "GetParameter") and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.append({"line": node.lineno, "type": f"Parameter '{node.args[0].value}' read with {node.func.attr}"})
    return [{"file": filename, "parameters": found}] if found else []


def check_python(files: dict[str, str], *, whole_project: bool = True) -> BuildResult:
    """Build a Python project: every check above, over every ``.py`` file.

    ``whole_project=False`` checks loose files (syntax checking): no main.py or
    QCAlgorithm subclass is required.
    """
    result = BuildResult()
    sources = {name: text for name, text in files.items() if name.endswith(".py")}
    if whole_project and "main.py" not in sources:
        result.problems.append(Problem("main.py", 1, 1, "main.py is missing: a Python project needs a main.py that "
                                       "defines a class deriving from QCAlgorithm."))
        return result
    trees: dict[str, ast.Module] = {}
    for name, text in sorted(sources.items()):
        try:
            trees[name] = ast.parse(text, filename=name)
        except SyntaxError as error:
            result.problems.append(Problem(name, error.lineno or 1, error.offset or 1, f"SyntaxError: {error.msg}"))
        except (RecursionError, MemoryError):  # "parser stack overflow": CPython's compiler refuses such code too
            result.problems.append(Problem(name, 1, 1, TOO_DEEP))
    if not result.ok:
        return result
    modules = {_module_name(name): _exported(tree) for name, tree in trees.items()}
    for name, tree in sorted(trees.items()):
        known: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
                if node.module == "AlgorithmImports":
                    known |= algorithm_imports()
                elif node.module in modules:
                    known |= modules[node.module]
        try:
            findings = checker.Checker(tree, filename=name, builtins=known).messages
        except RecursionError:
            result.problems.append(Problem(name, 1, 1, TOO_DEEP))
            continue
        for finding in findings:
            text = finding.message % finding.message_args
            if isinstance(finding, messages.ImportStarUsage):
                text = f"undefined name '{finding.message_args[0]}'"
            elif isinstance(finding, messages.ImportStarUsed | messages.UnusedImport):
                continue  # star imports are the QuantConnect convention
            result.problems.append(Problem(name, finding.lineno, finding.col + 1, text, isinstance(finding, FATAL)))
        result.problems.extend(_shadowed_members(name, tree))
        result.parameters.extend(_parameters(name, tree))
    if whole_project and not any(isinstance(n, ast.ClassDef) and _is_qcalgorithm(n) for n in trees["main.py"].body):
        result.problems.append(Problem("main.py", 1, 1, "No class in main.py derives from QCAlgorithm. Define "
                                       "'class MyAlgorithm(QCAlgorithm):' with an initialize method."))
    return result


def check_project(language: str, files: dict[str, str]) -> BuildResult:
    if language != "Py":
        return BuildResult([Problem("Main.cs", 1, 1, CSHARP_MESSAGE)])
    return check_python(files)
