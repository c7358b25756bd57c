"""Every third-party import is declared, every declaration is used, and CI installs what the README says.

deptry reads the imports (by AST) and ``pyproject.toml``. Two passes, because it cannot tell tests from
runtime code: ``src`` alone, where the dev extra counts as development-only (so runtime code importing a
dev tool fails), and the whole tree with every extra counted as a dependency (so an unused dev tool fails).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPTRY = str(Path(sys.executable).with_name("deptry"))
TREE = ["src", "tests", "scripts", "benchmarks"]
NOT_CODE = r"(^|/)(\.venv|__pycache__|\.pytest_cache)(/|$)"


def deptry(*arguments: str, config: Path = ROOT / "pyproject.toml") -> subprocess.CompletedProcess[str]:
    return subprocess.run([DEPTRY, *arguments, "--no-ansi", "--config", str(config), "-e", NOT_CODE],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def runtime_pass(config: Path = ROOT / "pyproject.toml") -> subprocess.CompletedProcess[str]:
    return deptry("src", config=config)


def whole_tree_pass(config: Path = ROOT / "pyproject.toml") -> subprocess.CompletedProcess[str]:
    # An empty dev-group list: every extra is a plain dependency here, so unused dev tools are reported too.
    return deptry(*TREE, "--optional-dependencies-dev-groups", "", config=config)


def test_runtime_code_imports_only_declared_runtime_dependencies() -> None:
    result = runtime_pass()
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_declared_dependency_is_used_and_every_import_declared() -> None:
    result = whole_tree_pass()
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_check_fails_on_a_missing_transitive_or_unused_dependency(tmp_path: Path) -> None:
    """Prove the check can fail: drop ``keyring`` and ``rich`` (still installed, now only transitive or
    absent from the declaration) and declare two packages nothing imports."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    broken = re.sub(r'\n\s*"(keyring|rich)[^"\n]*",[^\n]*', "", pyproject)
    broken = broken.replace('"pytest>=8",', '"pytest>=8", "cowsay",').replace(
        '"holidays>=0.50",', '"holidays>=0.50", "tabulate",')
    assert broken.count("keyring") < pyproject.count("keyring") and "tabulate" in broken
    config = tmp_path / "pyproject.toml"
    config.write_text(broken)
    runtime, tree = runtime_pass(config), whole_tree_pass(config)
    assert runtime.returncode != 0 and tree.returncode != 0
    runtime_report, tree_report = runtime.stdout + runtime.stderr, tree.stdout + tree.stderr
    assert re.search(r"DEP00[13] 'keyring'", runtime_report), runtime_report
    assert re.search(r"DEP00[13] 'rich'", runtime_report), runtime_report
    assert "DEP002 'tabulate'" in runtime_report
    assert "DEP002 'cowsay'" in tree_report


def test_ci_runs_the_readme_test_command_on_the_locked_versions() -> None:
    """The README's Tests command is what `.ci/run` runs, and both install from ``uv.lock`` (``--locked``
    also fails when the lock no longer matches ``pyproject.toml``)."""
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"\*\*(Quick start|Tests)\*\*.*?```bash\n(.+?)\n```", readme, re.S)
    assert [name for name, _ in commands] == ["Quick start", "Tests"]
    for _, command in commands:
        assert "uv run --locked" in command, command
    tests_command = dict(commands)["Tests"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert any(line.strip() == tests_command for line in ci.splitlines()), "the README's Tests command is not in .ci/run"
    assert (ROOT / "uv.lock").is_file()


def test_the_lock_matches_pyproject() -> None:
    uv = os.environ.get("UV") or shutil.which("uv")  # `uv run` says where it is in $UV
    assert uv, "uv is needed to check the lock (pip install uv); the README's commands use it"
    result = subprocess.run([uv, "lock", "--check", "--offline"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
