"""The committed models are exactly what the generator makes from the spec."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEC = Path(os.environ.get("QCMCP_SPEC_PATH", ROOT.parent / "shared" / "quantconnect" / "QuantConnect-Platform-2.0.0.yaml"))
COMMITTED = ROOT / "src" / "qcmcp" / "qc" / "models.py"


@pytest.mark.skipif(not SPEC.is_file(), reason=f"the OpenAPI spec is not beside the repository ({SPEC.name} missing from ../shared/quantconnect)")
def test_committed_models_are_not_stale(tmp_path):
    output = tmp_path / "models.py"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "generate_models.py"), "--spec", str(SPEC), "--output", str(output)],
                   check=True, capture_output=True)
    assert output.read_text() == COMMITTED.read_text(), "models.py is stale: run scripts/generate_models.py"


def test_generator_repairs_are_applied():
    from qcmcp.qc import models

    assert not models.ReadProjectRequest.model_fields["projectId"].is_required()
    assert models.BacktestResult.model_validate({"status": "Running: 42%"}).status == "Running: 42%"
    assert models.BacktestReportResponse.model_validate({"report": "<html/>", "success": True})
    assert models.PatchFileRequest.model_fields["patch"].is_required()


def test_committed_tool_schemas_are_not_stale():
    from qcmcp.tools.catalog import CATALOG
    from qcmcp.tools.schema import SCHEMA_FILE, render_all

    assert SCHEMA_FILE.read_text() == render_all(CATALOG), "parameters.json is stale: run scripts/generate_tool_schemas.py"
