#!/usr/bin/env bash
# Runs QuantConnect's own MCP server test suite (../shared/official-mcp-server) against a fresh `qcmcp sandbox`.
#
# Why: the official tests were written against the real cloud, so they measure how faithfully the sandbox
# emulates it. The official code is used unchanged except for BASE_URL, in a throw-away copy with its own venv
# (it imports mcp.server.fastmcp, which mcp 2.x removed, hence mcp<2). Not part of CI: about 20 minutes on 2 cores
# (the tests sleep while backtests and live deployments run).
#
# Usage: scripts/official_suite.sh [test_file.py ...]   (default: every tests/test_*.py, one pytest per file)
# Env:   OFFICIAL_SUITE_PORT (default 5699), OFFICIAL_SUITE_KEEP=1 keeps the temp dir for inspection.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
official="${OFFICIAL_MCP_SERVER:-$repo/../shared/official-mcp-server}"
port="${OFFICIAL_SUITE_PORT:-5699}"
[ -d "$official/tests" ] || { echo "official suite: $official/tests not found" >&2; exit 2; }
command -v uv >/dev/null || { echo "official suite: needs uv (pip install uv)" >&2; exit 2; }

work="$(mktemp -d -t qcmcp-official-XXXXXX)"
sandbox_pid=""
cleanup() {
  if [ -n "$sandbox_pid" ]; then kill "$sandbox_pid" 2>/dev/null || true; wait "$sandbox_pid" 2>/dev/null || true; fi
  if [ "${OFFICIAL_SUITE_KEEP:-0}" = 1 ]; then echo "official suite: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

# A throw-away copy whose only change is where the API lives.
cp -r "$official" "$work/server"
sed -i "s#^BASE_URL = .*#BASE_URL = 'http://127.0.0.1:$port/api/v2'#" "$work/server/src/api_connection.py"
grep -q "127.0.0.1:$port" "$work/server/src/api_connection.py" || { echo "official suite: BASE_URL not patched" >&2; exit 2; }

echo "official suite: preparing its venv (mcp<2)" >&2
uv venv --quiet --python 3.12 "$work/venv" 2>/dev/null || uv venv --quiet "$work/venv"
VIRTUAL_ENV="$work/venv" uv pip install --quiet 'mcp[cli]>=1.9.3,<2' 'httpx>=0.28.1' python-dotenv requests \
  pytest pytest-asyncio jsonschema pydantic

# A sandbox with fresh state and its own credentials. The suite also expects what a real account has: the
# organization's id, and a second user to add as a collaborator (registered in the fresh state, like any user).
export QUANTCONNECT_USER_ID=424242
export QUANTCONNECT_API_TOKEN="official-suite-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
export QUANTCONNECT_COLLABORATOR_ID=424243
QUANTCONNECT_ORGANIZATION_ID="$(cd "$repo" && uv run --locked --quiet python -c "
import secrets, sys
from qcmcp.sandbox.store import SandboxStore
store = SandboxStore(sys.argv[1])
store.register_user(sys.argv[3], secrets.token_hex(20))
print(store.register_user(sys.argv[2], sys.argv[4]))
" "$work/sandbox.db" "$QUANTCONNECT_USER_ID" "$QUANTCONNECT_COLLABORATOR_ID" "$QUANTCONNECT_API_TOKEN")"
export QUANTCONNECT_ORGANIZATION_ID
(cd "$repo" && exec uv run --locked --quiet qcmcp sandbox --host 127.0.0.1 --port "$port" --db "$work/sandbox.db" \
  --user-id "$QUANTCONNECT_USER_ID" --api-token "$QUANTCONNECT_API_TOKEN") >"$work/sandbox.log" 2>&1 &
sandbox_pid=$!
for _ in $(seq 1 120); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  kill -0 "$sandbox_pid" 2>/dev/null || { echo "official suite: sandbox exited:" >&2; tail -20 "$work/sandbox.log" >&2; exit 2; }
  sleep 0.5
done

cd "$work/server"
if [ "$#" -gt 0 ]; then files=("$@"); else files=(tests/test_*.py); fi
for file in "${files[@]}"; do
  name="$(basename "$file" .py)"
  echo "official suite: $name" >&2
  timeout 1800 "$work/venv/bin/python" -m pytest -q -p no:cacheprovider "tests/$name.py" \
    --junitxml="$work/junit-$name.xml" >"$work/out-$name.txt" 2>&1 || true
done

"$work/venv/bin/python" - "$work" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
passed = failed = skipped = 0
failures = []
for path in sorted(glob.glob(f"{sys.argv[1]}/junit-*.xml")):
    for case in ET.parse(path).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        bad = case.find("failure") if case.find("failure") is not None else case.find("error")
        if bad is not None:
            failed += 1
            message = (bad.get("message") or "").splitlines()[0][:160] if bad.get("message") else ""
            failures.append(f"  {name}: {message}")
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
print(f"official suite: {passed} passed, {failed} failed, {skipped} skipped of {passed + failed + skipped}")
print("\n".join(failures))
PY
