"""An algorithm that attacks the server from inside the jail gets nothing; a benign one still runs.

The hostile algorithm tries, in ``initialize()``, everything a researcher-role agent could do with code before
the jail existed (see the trust-boundaries issue): read the server's secrets from its environment and from
``/proc/<ppid>/environ``, import ``qcmcp.security`` and decrypt the vault, read another tenant's rows from the
sandbox database, read ``~/.ssh/id_rsa``, run a subprocess as root, connect to a port on 127.0.0.1, write outside
its scratch directory, forge an audit row, fork without bound and allocate without bound. It reports what each
attempt got by raising an exception whose message carries its findings, so the report comes back through the
backtest result itself — never through a file, which the jail must stop. The findings are checked here.
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client

from qcmcp.config import load_settings
from qcmcp.sandbox.jail import Jail
from qcmcp.sandbox.store import SandboxStore
from qcmcp.security.audit import AuditLog
from qcmcp.server import build_server
from tests.test_sandbox import SMA, Session, new_project

SECRETS = {
    "QCMCP_VAULT_KEY": "vault-key-JAILTEST-0f3a9c",
    "QCMCP_AUTH_JWT_SECRET": "jwt-secret-JAILTEST-7d21be-0123456789abcdef",
    "QUANTCONNECT_API_TOKEN": "qc-token-JAILTEST-c0ffee",
}
OTHER_TENANT_CODE = "other-tenant-code-JAILTEST-5e5e"
SSH_KEY = "-----BEGIN OPENSSH PRIVATE KEY----- JAILTEST-ssh-9a9a"

ATTACK = '''from AlgorithmImports import *
import os, socket, sqlite3, subprocess, sys, time, json as _json

MARKERS = MARKERS_LITERAL
PATHS = PATHS_LITERAL


def leaked(text):
    return [m for m in MARKERS if m in text]


def environment():
    found = leaked(_json.dumps(dict(os.environ)))
    for pid in ("self", str(os.getppid()), "1"):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                found += leaked(f.read().decode("latin-1"))
        except OSError:
            pass
    return f"LEAK: {found}" if found else "denied: no secret in the environment or /proc/*/environ"


def vault():
    try:
        from qcmcp.security.vault import CredentialVault  # noqa: F401
    except ImportError as e:
        return f"denied: {e}"
    return "LEAK: imported qcmcp.security.vault"


def read_file(path):
    try:
        with open(path, "rb") as f:
            data = f.read().decode("latin-1")
    except OSError as e:
        return f"denied: {e.strerror}"
    return f"LEAK: read {len(data)} bytes, markers {leaked(data)}"


def other_tenant():
    try:
        db = sqlite3.connect(f"file:{PATHS['sandbox_db']}?mode=ro", uri=True)
        rows = db.execute("SELECT content FROM files").fetchall()
    except sqlite3.Error as e:
        return f"denied: {e}"
    return f"LEAK: {len(rows)} rows, markers {leaked(str(rows))}"


def subprocess_as_root():
    try:
        out = subprocess.run([sys.executable, "-c", "import os; print(os.getuid())"], capture_output=True,
                             text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError) as e:
        return f"denied: {e}"
    if os.getuid() == 0 or out == "0":
        return f"LEAK: root (uid {os.getuid()}, child uid {out})"
    return f"denied: not root (uid {os.getuid()}, child uid {out})"


def loopback_socket():
    try:
        socket.create_connection(("127.0.0.1", PATHS["port"]), timeout=3).close()
    except OSError as e:
        return f"denied: {e.strerror or e}"
    return "LEAK: connected to 127.0.0.1"


def write_outside():
    wrote = []
    for path in PATHS["writable_outside"]:
        try:
            with open(path, "w") as f:
                f.write("owned")
            wrote.append(path)
        except OSError:
            pass
    return f"LEAK: wrote {wrote}" if wrote else "denied: every path outside the scratch directory is read-only"


def forge_audit():
    try:
        from qcmcp.security.audit import AuditLog
        AuditLog(PATHS["audit_db"]).append(request_id="r", subject="admin", tenant="local", tool="forged",
                                           arguments={}, outcome="ok", error="", latency_ms=0.0, secrets=[])
        return "LEAK: appended with AuditLog"
    except ImportError:
        pass
    try:
        db = sqlite3.connect(PATHS["audit_db"])
        db.execute("INSERT INTO audit_log (tool) VALUES ('forged')")
        db.commit()
    except sqlite3.Error as e:
        return f"denied: {e}"
    return "LEAK: inserted into the audit table"


def fork_bomb():
    children = []
    outcome = None
    try:
        for _ in range(300):
            pid = os.fork()
            if pid == 0:
                time.sleep(5)
                os._exit(0)
            children.append(pid)
    except OSError as e:
        outcome = f"denied: stopped after {len(children)} processes ({e.strerror})"
    for pid in children:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    return outcome or f"LEAK: forked {len(children)} processes"


def memory_bomb():
    try:
        blob = bytearray(12 * 1024 ** 3)
    except MemoryError:
        return "denied: MemoryError"
    return f"LEAK: allocated {len(blob)} bytes"


class Attack(QCAlgorithm):
    def initialize(self):
        findings = {name: attack() for name, attack in [
            ("environment", environment), ("vault", vault), ("other tenant", other_tenant),
            ("ssh key", lambda: read_file(PATHS["ssh_key"])), ("home", lambda: read_file(os.path.expanduser("~/.ssh/id_rsa"))),
            ("subprocess", subprocess_as_root), ("socket", loopback_socket), ("write", write_outside),
            ("audit", forge_audit), ("fork bomb", fork_bomb), ("memory bomb", memory_bomb)]}
        raise RuntimeError("FINDINGS " + _json.dumps(findings))
'''

@pytest.fixture
def hostile_setup(tmp_path, monkeypatch):
    """A sandbox with another tenant's project in its database, a $HOME with an SSH key, secrets in the server's
    environment and a port listening on 127.0.0.1."""
    assert Jail.detect(required=False).confined, "bubblewrap must work here (.ci/run installs it)"
    db = tmp_path / "state.sqlite3"
    store = SandboxStore(db)
    other = store.register_user("700007", "other-token")
    with store.transaction() as tx:
        tx.execute("INSERT INTO projects (org_id, owner_id, name, language, created, modified) VALUES (?, '700007', "
                   "'Theirs', 'Py', '', '')", (other,))
        project = tx.execute("SELECT last_insert_rowid()").fetchone()[0]
        tx.execute("INSERT INTO files (project_id, name, content, modified) VALUES (?, 'main.py', ?, '')",
                   (project, OTHER_TENANT_CODE))
    store.close()
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text(SSH_KEY)
    monkeypatch.setenv("HOME", str(home))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    paths = {"sandbox_db": str(db), "audit_db": str(tmp_path / "audit.sqlite3"), "ssh_key": str(home / ".ssh" / "id_rsa"),
             "port": listener.getsockname()[1],
             "writable_outside": [str(tmp_path / "owned.txt"), str(Path(sys.prefix) / "owned.txt"), "/owned.txt",
                                  str(home / "owned.txt")]}
    settings = load_settings(QCMCP_SANDBOX_DB=str(db), QCMCP_AUDIT_DB=paths["audit_db"])
    yield settings, paths
    listener.close()


def findings_from(text: str) -> dict[str, str]:
    start = text.find("FINDINGS {")
    assert start >= 0, f"the attack did not report: {text[:500]}"
    return json.JSONDecoder().raw_decode(text, start + len("FINDINGS "))[0]


def assert_all_denied(findings: dict[str, str]) -> None:
    assert len(findings) == 11
    leaks = {name: outcome for name, outcome in findings.items() if not outcome.startswith("denied")}
    assert leaks == {}, leaks


async def test_a_hostile_algorithm_gets_nothing_and_a_benign_one_still_runs(hostile_setup, monkeypatch):
    settings, paths = hostile_setup
    markers = [*SECRETS.values(), OTHER_TENANT_CODE, SSH_KEY]
    source = ATTACK.replace("MARKERS_LITERAL", repr(markers)).replace("PATHS_LITERAL", repr(paths))
    server = build_server(settings)
    for name, value in SECRETS.items():  # in the server's environment from now on, as in a real deployment
        monkeypatch.setenv(name, value)
    async with Client(server) as client:
        session = Session(client)
        project = await new_project(session, "Hostile")
        await session.ok("update_file_contents", projectId=project, name="main.py", content=source)
        compiled = await session.ok("create_compile", projectId=project)
        assert compiled["state"] == "BuildSuccess", compiled

        # 1. check_initialization_errors runs initialize() in the jail.
        checked = await client.call_tool("check_initialization_errors", {
            "language": "Py", "files": [{"name": "main.py", "content": source}]}, raise_on_error=False)
        assert not checked.is_error and checked.structured_content["state"] == "Error"
        assert_all_denied(findings_from(checked.structured_content["payload"]))

        # 2. A backtest runs it in the jail too; its error carries the findings.
        backtest = await session.ok("create_backtest", projectId=project, compileId=compiled["compileId"],
                                    backtestName="attack")
        result = await wait_for_backtest(session, project, backtest["backtest"]["backtestId"])
        assert result["status"] == "Runtime Error"
        assert_all_denied(findings_from(result["error"]))

        # 3. A benign algorithm on the same server still completes with its statistics.
        benign = await new_project(session, "Benign")
        await session.ok("update_file_contents", projectId=benign, name="main.py", content=SMA)
        build = await session.ok("create_compile", projectId=benign)
        started = await session.ok("create_backtest", projectId=benign, compileId=build["compileId"], backtestName="ok")
        done = await wait_for_backtest(session, benign, started["backtest"]["backtestId"])
        assert done["status"] == "Completed." and int(done["statistics"]["Total Orders"]) >= 1

    # Nothing was written where the attack aimed, and the audit chain has no forged row.
    assert not [path for path in paths["writable_outside"] if Path(path).exists()]
    audit = AuditLog(paths["audit_db"])
    assert audit.verify().ok and "forged" not in {row["tool"] for row in audit.rows()}


async def wait_for_backtest(session: Session, project: int, backtest_id: str) -> dict[str, Any]:
    import asyncio

    for _ in range(1200):
        read = (await session.ok("read_backtest", projectId=project, backtestId=backtest_id))["backtest"]
        if read.get("completed") or read["status"] in ("Completed.", "Runtime Error"):
            return read
        await asyncio.sleep(0.1)
    raise AssertionError("the backtest did not finish")


async def test_shared_mode_refuses_to_run_algorithms_without_a_jail(tmp_path, monkeypatch):
    """Where bubblewrap cannot be used, a shared deployment refuses backtests plainly and compiling still works."""
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on the PATH
    from qcmcp.sandbox import jail as jail_module

    jail_module._probe.cache_clear()
    settings = load_settings(QCMCP_SANDBOX_DB=str(tmp_path / "s.sqlite3"))
    async with Client(build_server(settings, shared=True)) as client:
        session = Session(client)
        project = await new_project(session, "NoJail")
        compiled = await session.ok("create_compile", projectId=project)
        text = await session.fails("create_backtest", "only inside a jail", projectId=project,
                                   compileId=compiled["compileId"], backtestName="x")
        assert "bubblewrap" in text
        listed = await session.ok("list_backtests", projectId=project)
        assert listed["backtests"] == []  # refused before anything was recorded
