"""`qcmcp demo` runs green offline with no credentials."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def test_demo_runs_the_loop_on_the_sandbox():
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUANTCONNECT_")}
    env["COLUMNS"] = "200"
    done = subprocess.run([str(Path(sys.executable).with_name("qcmcp")), "demo"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "running on the sandbox" in done.stdout
    assert "replaces the QCAlgorithm member 'sma'" in done.stdout
    assert "BuildSuccess" in done.stdout and "cleaned up" in done.stdout
    assert "SYNTHETIC" not in done.stdout  # real prices out of the box: LEAN's daily sample, shipped
