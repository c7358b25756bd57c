#!/usr/bin/env python3
"""Write the trimmed market-hours database shipped with qcmcp's built-in LEAN sample.

LEAN's ``Data/market-hours/market-hours-database.json`` is about 3 MB, almost all of it futures, options,
indices and foreign exchanges. The built-in sample holds US equities only, and the crypto entries are kept
so that a crypto request against a LEAN folder without its own database still knows the exchange hours.
Entries are copied unchanged, in LEAN's order.

    python scripts/trim_market_hours.py [SOURCE_JSON] [TARGET_JSON]

SOURCE_JSON defaults to ../shared/lean-data/market-hours/market-hours-database.json (relative to the
project root), TARGET_JSON to the sample's market-hours/market-hours-database.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT.parent / "shared" / "lean-data" / "market-hours" / "market-hours-database.json"
DEFAULT_TARGET = ROOT / "src" / "qcmcp" / "marketdata" / "lean_sample" / "market-hours" / "market-hours-database.json"
KEPT_PREFIXES = ("Equity-usa-", "Crypto-")  # "Crypto-" does not match "CryptoFuture-": the dash is part of it


def trimmed(database: dict) -> dict:
    """The same database with only the entries the sample (and crypto requests) need."""
    entries = {key: entry for key, entry in database["entries"].items() if key.startswith(KEPT_PREFIXES)}
    return {"entries": entries}


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    target = Path(argv[2]) if len(argv) > 2 else DEFAULT_TARGET
    database = json.loads(source.read_text(encoding="utf-8"))
    result = trimmed(database)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"Wrote {target}: {len(result['entries'])} of {len(database['entries'])} entries, "
          f"{target.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
