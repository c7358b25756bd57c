"""A throwaway PostgreSQL server on 127.0.0.1 for the tests that need one.

`.ci/run` installs PostgreSQL from Debian's packages; on a developer machine without it
those tests skip (in CI they fail instead, so a missing install cannot pass silently).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import free_port


def postgres_bindir() -> Path | None:
    initdb = shutil.which("initdb") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))[-1:]), None)
    return Path(initdb).resolve().parent if initdb else None


def start_postgres() -> Iterator[str]:
    bindir = postgres_bindir()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed; .ci/run installs it from Debian's packages")
        pytest.skip("PostgreSQL is not installed here")
    data = Path(tempfile.mkdtemp(prefix="qcmcp-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(data, "postgres", "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    quiet = {"check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run([*run_as, str(bindir / "initdb"), "-D", str(data / "db"), "-U", "qcmcp", "--auth=trust",
                    "-E", "UTF8"], **quiet)
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(data / "db"), "-o", options, "-l",
                    str(data / "server.log"), "-w", "start"], **quiet)
    try:
        yield f"postgresql://qcmcp@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(data / "db"), "-m", "immediate", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(data, ignore_errors=True)
