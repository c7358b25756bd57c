"""Build the MCPB bundle for Claude Desktop: ``dist/qcmcp-<version>.mcpb``.

Stages ``deploy/mcpb/manifest.json`` with what its ``uv`` server type runs (``pyproject.toml``, ``uv.lock``,
``README.md``, ``LICENSE`` and ``src/qcmcp``, without caches) in a temporary folder, checks the manifest's
version against ``pyproject.toml``, then runs ``mcpb validate`` and ``mcpb pack`` (``npm install -g
@anthropic-ai/mcpb``, or pass ``--mcpb PATH``). Claude Desktop installs the bundle and starts
``uv run --locked qcmcp serve`` in it, so the bundle runs exactly the versions in the lock.

    python scripts/build_mcpb.py [--mcpb PATH] [--output FILE]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "deploy" / "mcpb" / "manifest.json"
FILES = ["pyproject.toml", "uv.lock", "README.md", "LICENSE"]
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")


def stage(folder: Path) -> Path:
    """Copy the manifest and what it runs into ``folder``; returns the staged manifest."""
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    manifest = json.loads(MANIFEST.read_text())
    if manifest["version"] != version:
        raise SystemExit(f"deploy/mcpb/manifest.json says version {manifest['version']}, pyproject.toml {version}")
    for name in FILES:
        shutil.copy2(ROOT / name, folder / name)
    shutil.copytree(ROOT / "src" / "qcmcp", folder / "src" / "qcmcp", ignore=IGNORED)
    shutil.copy2(MANIFEST, folder / "manifest.json")
    shutil.copy2(MANIFEST.with_name(".mcpbignore"), folder / ".mcpbignore")
    return folder / "manifest.json"


def build(mcpb: str, output: Path) -> Path:
    with tempfile.TemporaryDirectory(prefix="qcmcp-mcpb-") as tmp:
        manifest = stage(Path(tmp))
        for arguments in (["validate", str(manifest)], ["pack", tmp, str(output)]):
            result = subprocess.run([mcpb, *arguments], capture_output=True, text=True, timeout=300)
            if result.returncode != 0:
                raise SystemExit(f"mcpb {arguments[0]} failed:\n{result.stdout}{result.stderr}")
    return output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mcpb", default=shutil.which("mcpb"), help="the mcpb program (default: on PATH)")
    parser.add_argument("--output", type=Path, default=None, help="bundle file (default: dist/qcmcp-VERSION.mcpb)")
    arguments = parser.parse_args()
    if not arguments.mcpb:
        sys.exit("mcpb not found: npm install -g @anthropic-ai/mcpb (or pass --mcpb PATH)")
    version = json.loads(MANIFEST.read_text())["version"]
    output = arguments.output or ROOT / "dist" / f"qcmcp-{version}.mcpb"
    output.parent.mkdir(parents=True, exist_ok=True)
    print(build(arguments.mcpb, output.resolve()))


if __name__ == "__main__":
    main()
