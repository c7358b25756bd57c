#!/usr/bin/env python3
"""Write src/qcmcp/tools/parameters.json: every tool's flat input schema.

The schemas are derived from the generated request models; committing them means the
server can answer ``tools/list`` without building any model at start-up. Run after
changing the catalog or regenerating the models (a test fails when it is stale).
"""

from qcmcp.tools.catalog import CATALOG
from qcmcp.tools.schema import SCHEMA_FILE, render_all

if __name__ == "__main__":
    SCHEMA_FILE.write_text(render_all(CATALOG), encoding="utf-8")
    print(f"Wrote {SCHEMA_FILE} ({len(CATALOG)} tools)")
