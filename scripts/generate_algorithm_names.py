#!/usr/bin/env python3
"""Write the names QuantConnect algorithms get from ``from AlgorithmImports import *``.

The sandbox compiler needs them to tell an undefined name from a LEAN name, and code
completion and PEP8 conversion need the members of ``QCAlgorithm``. Both come from the
``quantconnect-stubs`` package (a dev dependency), read here with ``ast``; the output is
committed so the server does not need the 17 MB stubs at run time.

Outputs (one name per line, sorted):
    src/qcmcp/sandbox/data/algorithm_imports.txt
    src/qcmcp/sandbox/data/qcalgorithm_members.txt
    src/qcmcp/sandbox/data/qcalgorithm_settable.txt   (properties with a setter: assigning them is legal)
    src/qcmcp/sandbox/data/lean_members.txt           (every LEAN class member: unsupported ones refuse clearly)
"""

from __future__ import annotations

import ast
import sys
import typing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "qcmcp" / "sandbox" / "data"


def stubs_root() -> Path:
    for entry in map(Path, sys.path):
        if (entry / "AlgorithmImports" / "__init__.pyi").is_file():
            return entry
    raise SystemExit("quantconnect-stubs is not installed: pip install -e '.[dev]'")


def module_stub(root: Path, module: str) -> Path | None:
    path = root.joinpath(*module.split(".")) / "__init__.pyi"
    return path if path.is_file() else None


def public_names(tree: ast.Module) -> set[str]:
    """Top-level classes, functions and assignments a star import would bring in."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    # Stub-only aliases ("QuantConnect_Indicators_IndicatorBase = typing.Any") and private
    # names are not part of the runtime namespace.
    return {n for n in names if not n.startswith("_") and not n.startswith(("QuantConnect_", "System_"))}


def algorithm_imports(root: Path) -> set[str]:
    tree = ast.parse((root / "AlgorithmImports" / "__init__.pyi").read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if any(alias.name == "*" for alias in node.names):
                if node.module == "typing":
                    names.update(typing.__all__)
                    continue
                stub = module_stub(root, node.module)
                if stub is not None:
                    names |= public_names(ast.parse(stub.read_text(encoding="utf-8")))
            else:
                names.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return {n for n in names if n.isidentifier() and not n.startswith("_")} - {"path", "file", "AddReference"}


def qcalgorithm_members(root: Path) -> set[str]:
    stub = module_stub(root, "QuantConnect.Algorithm")
    assert stub is not None
    for node in ast.parse(stub.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ClassDef) and node.name == "QCAlgorithm":
            members = {item.name for item in node.body if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)}
            members |= {t.id for item in node.body if isinstance(item, ast.Assign) for t in item.targets if isinstance(t, ast.Name)}
            members |= {item.target.id for item in node.body if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)}
            return {m for m in members if not m.startswith("_")}
    raise SystemExit("QCAlgorithm not found in the stubs")


def qcalgorithm_settable(root: Path) -> set[str]:
    """QCAlgorithm properties with a setter (``self.project_id = ...`` is legal in LEAN)."""
    stub = module_stub(root, "QuantConnect.Algorithm")
    assert stub is not None
    for node in ast.parse(stub.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ClassDef) and node.name == "QCAlgorithm":
            return {item.name for item in node.body if isinstance(item, ast.FunctionDef)
                    and any(isinstance(d, ast.Attribute) and d.attr == "setter" for d in item.decorator_list)}
    raise SystemExit("QCAlgorithm not found in the stubs")


def lean_members(root: Path) -> set[str]:
    """Every method and property name of every LEAN class (lower-case names only: not enum constants)."""
    names: set[str] = set()
    for stub in root.glob("QuantConnect/**/*.pyi"):
        for node in ast.walk(ast.parse(stub.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                        names.add(item.name)
                    elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                        names.add(item.target.id)
    return {n for n in names if not n.startswith("_") and any(c.islower() for c in n)}


def main() -> None:
    root = stubs_root()
    OUT.mkdir(parents=True, exist_ok=True)
    for filename, names in (
        ("algorithm_imports.txt", algorithm_imports(root)),
        ("qcalgorithm_members.txt", qcalgorithm_members(root)),
        ("qcalgorithm_settable.txt", qcalgorithm_settable(root)),
        ("lean_members.txt", lean_members(root)),
    ):
        (OUT / filename).write_text("\n".join(sorted(names)) + "\n", encoding="utf-8")
        print(f"Wrote {OUT / filename} ({len(names)} names)")


if __name__ == "__main__":
    main()
