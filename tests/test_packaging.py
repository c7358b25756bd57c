"""Packaging and deployment artefacts, checked against the server they package.

- The wheel (``uv build``): it holds every module and data file the server reads at run time, its metadata
  matches ``pyproject.toml``, and once installed **into a fresh environment** (the locked runtime
  dependencies, then the wheel alone, never the source tree) its ``qcmcp`` entry point runs: ``--help``,
  ``version``, a stdio MCP session on the sandbox (``tools/list``, ``health_check``), ``qcmcp demo``, and the
  HTTP probes in shared mode.
- The MCPB bundle for Claude Desktop: ``mcpb validate`` and ``mcpb pack`` (the real ``@anthropic-ai/mcpb``
  tool; ``.ci/run`` installs it), and the unpacked bundle starts its server with ``uv run --locked``.
- ``deploy/``: the Dockerfile, docker-compose.yml, HAProxy, Prometheus and Kubernetes manifests, parsed and
  checked without docker or kubectl: probe paths are the server's, every environment variable they set is a
  setting the server reads, images, ports, users and secret keys agree.
- ``server.json`` for the MCP registry, against the registry's schema (vendored in ``deploy/mcp-registry``).

Skips only when uv (the wheel) or mcpb (the bundle) is absent; building runs once per session.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastmcp import Client
from fastmcp.client.transports import StdioTransport

from qcmcp.config import Settings
from qcmcp.tools.catalog import BY_NAME
from tests.processes import free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
VERSION = PYPROJECT["project"]["version"]
UV = os.environ.get("UV") or shutil.which("uv")
MCPB = os.environ.get("QCMCP_MCPB") or shutil.which("mcpb")
PROBES = {"/healthz", "/readyz"}
MCP_PORT, METRICS_PORT = 8000, 9464


def setting_names() -> set[str]:
    """Every environment variable the server reads (the settings' aliases)."""
    names: set[str] = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        names.update([alias] if isinstance(alias, str) else [str(choice) for choice in alias.choices])
    return names


SETTINGS = setting_names()


def uv_cache() -> dict[str, str]:
    """uv's cache folder as this session sees it (the processes below get a throw-away HOME)."""
    if not UV:
        return {}
    found = subprocess.run([UV, "cache", "dir"], capture_output=True, text=True, timeout=30).stdout.strip()
    return {"UV_CACHE_DIR": found} if found else {}


UV_CACHE = uv_cache()


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a process run from the installed wheel: no credentials or settings of ours, no
    virtual environment or source tree on any path, a throw-away data folder."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("QCMCP_", "QUANTCONNECT_", "VIRTUAL_ENV", "PYTHON", "UV_PROJECT"))}
    env.update(UV_CACHE)
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"), QCMCP_KEYRING="off", QCMCP_LOG_FORMAT="json",
               QCMCP_AUDIT_DB=str(home / "audit.sqlite3"), QCMCP_SANDBOX_DB=str(home / "sandbox.sqlite3"))
    env.update(extra)
    return env


def run(command: list[str], timeout: float = 120, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert result.returncode == 0, f"{command} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


# --------------------------------------------------------------------------------------------------- the wheel

@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    if not UV:
        pytest.skip("uv is not installed (pip install uv): the wheel is built with `uv build`")
    out = tmp_path_factory.mktemp("dist")
    run([UV, "build", "--wheel", "--out-dir", str(out), str(ROOT)], env=clean_env(out), cwd=out)
    (built,) = out.glob("qcmcp-*.whl")
    return built


@pytest.fixture(scope="session")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh virtual environment with the locked runtime dependencies (no extras, no dev tools, from uv's
    cache) and the wheel, installed without its source tree; returns its ``bin`` folder."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    env = clean_env(venv.parent, UV_PROJECT_ENVIRONMENT=str(venv))
    run([UV, "sync", "--locked", "--offline", "--no-install-project", "--no-dev", "--quiet"], env=env, cwd=ROOT)
    env = clean_env(venv.parent, VIRTUAL_ENV=str(venv))
    run([UV, "pip", "install", "--offline", "--no-deps", "--quiet", str(wheel)], env=env, cwd=venv.parent)
    run([UV, "pip", "check", "--offline"], env=env, cwd=venv.parent)  # the wheel's Requires-Dist are met
    return venv / "bin"


def test_the_wheel_holds_every_module_and_data_file_of_the_package(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    package = ROOT / "src" / "qcmcp"
    expected = {f"qcmcp/{path.relative_to(package).as_posix()}" for path in package.rglob("*")
                if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"}
    shipped = {name for name in names if name.startswith("qcmcp/")}
    assert expected - shipped == set(), "files the server needs are missing from the wheel"
    assert shipped - expected == set()
    # What the server reads at run time besides code: named so a packaging change cannot drop them silently.
    for data in ["qcmcp/tools/parameters.json",
                 "qcmcp/marketdata/lean_sample/market-hours/market-hours-database.json",
                 "qcmcp/marketdata/lean_sample/equity/usa/daily/spy.zip",
                 "qcmcp/marketdata/lean_sample/equity/usa/map_files/spy.csv",
                 "qcmcp/marketdata/lean_sample/equity/usa/factor_files/spy.csv",
                 "qcmcp/marketdata/lean_sample/alternative/interest-rate/usa/interest-rate.csv",
                 "qcmcp/marketdata/lean_sample/LICENSE-LEAN",
                 "qcmcp/sandbox/data/algorithm_imports.txt", "qcmcp/sandbox/data/lean_members.txt",
                 "qcmcp/sandbox/data/qcalgorithm_members.txt", "qcmcp/sandbox/data/qcalgorithm_settable.txt",
                 "qcmcp/sandbox/engine/worker.py", "qcmcp/qc/models.py"]:
        assert data in names, data
    assert not [name for name in names if name.startswith(("tests/", "benchmarks/", "scripts/", "deploy/"))]


def test_the_wheel_metadata_is_ready_for_pypi(wheel):
    dist_info = f"qcmcp-{VERSION}.dist-info"
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(f"{dist_info}/METADATA").decode()
        entry_points = archive.read(f"{dist_info}/entry_points.txt").decode()
        names = set(archive.namelist())
    assert re.search(r"^\[console_scripts\]\s*\nqcmcp = qcmcp\.cli:main\s*$", entry_points, re.M), entry_points
    headers = dict(line.split(": ", 1) for line in metadata.split("\n\n", 1)[0].splitlines() if ": " in line)
    assert headers["Name"] == "qcmcp" and headers["Version"] == VERSION
    assert headers["License-Expression"] == "Apache-2.0" and headers["Requires-Python"] == ">=3.11"
    assert f"{dist_info}/licenses/LICENSE" in names
    assert metadata.split("\n\n", 1)[1].lstrip().startswith("# qcmcp")  # the README as long description
    required = {re.split(r"[<>=!~\[; ]", line.split(": ", 1)[1])[0].lower()
                for line in metadata.splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line}
    declared = {re.split(r"[<>=!~\[; ]", dep)[0].lower() for dep in PYPROJECT["project"]["dependencies"]}
    assert required == declared
    extras = {line.split(": ", 1)[1] for line in metadata.splitlines() if line.startswith("Provides-Extra:")}
    assert extras >= {"postgres", "redis", "otel"}


def test_the_installed_entry_point_runs_from_the_wheel_not_the_source_tree(installed, tmp_path):
    env = clean_env(tmp_path)
    where = run([str(installed / "python"), "-c", "import qcmcp, sys; print(qcmcp.__file__); print(sys.path)"],
                env=env, cwd=tmp_path).stdout
    assert "site-packages/qcmcp/__init__.py" in where and str(ROOT / "src") not in where
    help_text = run([str(installed / "qcmcp"), "--help"], env=env, cwd=tmp_path).stdout
    for command in ("serve", "demo", "sandbox", "doctor", "tenant", "audit", "token", "catalog", "version"):
        assert re.search(rf"│ {command}\s", help_text), command
    assert run([str(installed / "qcmcp"), "version"], env=env, cwd=tmp_path).stdout.strip() == VERSION


async def test_the_installed_server_lists_its_tools_on_the_sandbox_over_stdio(installed, tmp_path):
    stderr = tmp_path / "stderr.log"
    transport = StdioTransport(str(installed / "qcmcp"), ["serve"], env=clean_env(tmp_path), cwd=str(tmp_path),
                               log_file=stderr)
    async with Client(transport, timeout=60) as client:
        tools = await client.list_tools()
        assert {tool.name for tool in tools} == set(BY_NAME)  # local mode: every tool
        health = await client.call_tool("health_check", {}, raise_on_error=False)
        account = await client.call_tool("read_account", {}, raise_on_error=False)
    assert not health.is_error and not account.is_error, (health.content, account.content)
    assert "sandbox" in health.content[0].text.lower()
    assert "Traceback" not in stderr.read_text()


def jail_works() -> bool:
    bwrap = shutil.which("bwrap")
    return bool(bwrap) and subprocess.run([bwrap, "--ro-bind", "/", "/", "true"], capture_output=True,
                                          timeout=30).returncode == 0


def test_the_installed_demo_runs_the_agent_loop(installed, tmp_path):
    """Where bubblewrap works, the backtest must run in the jail, which mounts the engine's modules from
    wherever the package is installed (site-packages here, /opt/qcmcp in the image)."""
    env = clean_env(tmp_path, **({"QCMCP_JAIL": "required"} if jail_works() else {}))
    result = run([str(installed / "qcmcp"), "demo"], env=env, cwd=tmp_path, timeout=180)
    for step in ("create_project", "create_compile", "read_backtest", "delete_project"):
        assert step in result.stdout, step
    assert "Traceback" not in result.stdout + result.stderr


def test_the_installed_server_answers_the_probes_the_manifests_use(installed, tmp_path):
    """Shared mode, as deployed: /healthz and /readyz answer without a token when probed with the Host header
    the Kubernetes probes send (and the Dockerfile's HEALTHCHECK, 127.0.0.1); another host name is refused."""
    port = free_port()
    env = clean_env(tmp_path, QCMCP_AUTH_ISSUER="https://idp.test/", QCMCP_AUTH_AUDIENCE="qcmcp",
                    QCMCP_AUTH_JWT_SECRET="packaging-test-secret-of-32-bytes-or-more")
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen([str(installed / "qcmcp"), "serve", "--transport", "http", "--host", "127.0.0.1",
                                "--port", str(port)], env=env, cwd=tmp_path, stdout=log, stderr=log)
    try:
        wait_for_port(process, port)
        base = f"http://127.0.0.1:{port}"
        for probe in kubernetes_probes():
            answer = httpx.get(base + probe["path"], headers={h["name"]: h["value"] for h in probe["httpHeaders"]},
                               timeout=30)
            if probe["path"] == "/healthz":
                assert answer.status_code == 200 and answer.json() == {"status": "ok", "version": VERSION}
            else:  # ready or not depends on the machine (jail, credentials); it answers with its checks
                assert answer.status_code in (200, 503) and "audit log" in answer.json()["checks"]
        assert httpx.get(base + dockerfile_healthcheck_path(), timeout=10).status_code == 200
        assert httpx.get(base + "/healthz", headers={"Host": "10.1.2.3:8000"}, timeout=10).status_code == 421
        assert httpx.post(base + "/mcp", json={}, timeout=10).status_code == 401  # the MCP endpoint wants a token
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


# ---------------------------------------------------------------------------------------------- the MCPB bundle

MANIFEST = json.loads((DEPLOY / "mcpb" / "manifest.json").read_text())


def test_the_mcpb_manifest_asks_for_the_credentials_the_server_reads():
    assert MANIFEST["version"] == VERSION and MANIFEST["name"] == "qcmcp"
    config, env = MANIFEST["user_config"], dict(MANIFEST["server"]["mcp_config"]["env"])
    assert config["quantconnect_api_token"]["sensitive"] is True
    assert not any(field.get("sensitive") for name, field in config.items() if name != "quantconnect_api_token")
    # The repository's pyproject.toml says python-downloads = "never" (CI uses the machine's Python); a desktop
    # without Python 3.11 needs uv to fetch one, and the variable overrides that setting.
    assert env.pop("UV_PYTHON_DOWNLOADS") == "automatic"
    assert set(env) <= SETTINGS, set(env) - SETTINGS
    assert {"QUANTCONNECT_USER_ID", "QUANTCONNECT_API_TOKEN"} <= set(env)
    referenced = {ref for value in env.values() for ref in re.findall(r"\$\{user_config\.(\w+)\}", value)}
    assert referenced == set(config)
    assert env["QUANTCONNECT_API_TOKEN"] == "${user_config.quantconnect_api_token}"
    server = MANIFEST["server"]
    assert (ROOT / server["entry_point"]).is_file()
    assert server["mcp_config"]["args"][-2:] == ["qcmcp", "serve"] and "--locked" in server["mcp_config"]["args"]


@pytest.fixture(scope="session")
def bundle(tmp_path_factory) -> Path:
    if not MCPB:
        pytest.skip("mcpb is not installed (npm install -g @anthropic-ai/mcpb; .ci/run installs it)")
    output = tmp_path_factory.mktemp("mcpb") / f"qcmcp-{VERSION}.mcpb"
    run([sys.executable, str(ROOT / "scripts" / "build_mcpb.py"), "--mcpb", MCPB, "--output", str(output)])
    return output


def test_mcpb_validates_the_manifest(tmp_path):
    if not MCPB:
        pytest.skip("mcpb is not installed (npm install -g @anthropic-ai/mcpb; .ci/run installs it)")
    result = run([MCPB, "validate", str(DEPLOY / "mcpb" / "manifest.json")])
    assert "validation passes" in result.stdout.lower()
    broken = tmp_path / "manifest.json"  # mcpb itself must be able to fail: a server without its command
    broken.write_text(json.dumps(dict(MANIFEST, server={"type": "uv", "entry_point": "x.py"})))
    refused = subprocess.run([MCPB, "validate", str(broken)], capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0, refused.stdout


def test_the_mcpb_bundle_packs_and_its_server_starts(bundle, tmp_path):
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        packed = json.loads(archive.read("manifest.json"))
    assert packed == MANIFEST
    assert {"pyproject.toml", "uv.lock", "README.md", "LICENSE", "src/qcmcp/__main__.py",
            "src/qcmcp/tools/parameters.json", "src/qcmcp/sandbox/data/lean_members.txt"} <= names
    assert not [name for name in names if "__pycache__" in name or name.startswith(("tests/", ".venv/"))]
    if not UV:
        pytest.skip("uv is not installed: the bundle's server runs with `uv run`")
    folder = tmp_path / "bundle"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(folder)
    # What Claude Desktop runs, with ${__dirname} filled in (offline: the lock's packages from uv's cache).
    args = [arg.replace("${__dirname}", str(folder)) for arg in MANIFEST["server"]["mcp_config"]["args"]]
    assert args[:1] == ["run"]
    version = run([UV, "--offline", *args[:-1], "version"], env=clean_env(tmp_path), cwd=tmp_path, timeout=300)
    assert version.stdout.strip() == VERSION


# --------------------------------------------------------------------------------------------------- deploy/

def dockerfile() -> list[str]:
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def final_stage() -> list[str]:
    lines = dockerfile()
    last = max(i for i, line in enumerate(lines) if line.startswith("FROM "))
    return lines[last:]


def dockerfile_healthcheck_path() -> str:
    (check,) = [line for line in final_stage() if line.startswith("HEALTHCHECK")]
    match = re.search(r"http://127\.0\.0\.1:(\d+)(/\w+)", check)
    assert match and int(match.group(1)) == MCP_PORT, check
    return match.group(2)


def test_the_dockerfile_is_multi_stage_non_root_with_bubblewrap_and_a_healthcheck():
    lines, final = dockerfile(), final_stage()
    assert sum(line.startswith("FROM ") for line in lines) >= 2
    assert dockerfile_healthcheck_path() == "/healthz"
    (user,) = [line.split()[1] for line in final if line.startswith("USER ")]
    assert user.split(":")[0] not in ("0", "root")
    assert any("apt-get install" in line and "bubblewrap" in line for line in final)
    assert any(line.startswith("COPY --from=build /opt/qcmcp /opt/qcmcp") for line in final)
    (expose,) = [line for line in final if line.startswith("EXPOSE")]
    assert set(expose.split()[1:]) == {str(MCP_PORT), str(METRICS_PORT)}
    # Every file it copies from the build context exists and is not excluded by .dockerignore.
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    for line in lines:
        if line.startswith("COPY ") and "--from=" not in line:
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists() and source.split("/")[0] not in ignored, source
    # Installs the lock exactly, with the same uv as CI.
    assert any("uv sync --locked" in line for line in lines)
    uv_version = re.search(r"^UV_VERSION=(\S+)", (ROOT / ".ci" / "run").read_text(), re.M).group(1)
    assert any(f"ghcr.io/astral-sh/uv:{uv_version} " in line for line in lines)
    assert any(line.startswith("ENV ") and "QCMCP_" in line and set(re.findall(r"(QCMCP_\w+)=", line)) <= SETTINGS
               for line in final)


def test_the_dockerfile_build_steps_make_a_working_environment(tmp_path):
    """The build stage's `uv sync` commands, run as the Dockerfile runs them (dependencies from pyproject.toml
    and uv.lock alone, then the project from the copied sources), give a non-editable environment that works
    once the build context is gone — what the runtime stage copies. (Offline, from uv's cache; the image build
    itself needs docker and is not run here.)"""
    if not UV:
        pytest.skip("uv is not installed")
    lines = dockerfile()
    build = lines[:[i for i, line in enumerate(lines) if line.startswith("FROM ")][1]]
    env = dict(clean_env(tmp_path))
    for line in build:
        if line.startswith("ENV "):
            env.update(dict(re.findall(r"(\w+)=(\S+)", line)))
    target = tmp_path / "opt" / "qcmcp"
    assert env.pop("UV_PROJECT_ENVIRONMENT") == "/opt/qcmcp"
    # Byte-compiling every dependency (the image's UV_COMPILE_BYTECODE=1) takes most of the time and checks
    # nothing here.
    assert env.pop("UV_COMPILE_BYTECODE") == "1"
    env.update(UV_PROJECT_ENVIRONMENT=str(target), UV_LINK_MODE="hardlink", UV_COMPILE_BYTECODE="0")
    context = tmp_path / "src-context"
    context.mkdir()
    steps = 0
    for line in build:
        if line.startswith("COPY ") and "--from=" not in line:
            *sources, destination = line.split()[1:]
            for source in sources:
                copy = shutil.copytree if (ROOT / source).is_dir() else shutil.copy2
                copy(ROOT / source, context / source, **({"ignore": shutil.ignore_patterns("__pycache__")}
                                                          if (ROOT / source).is_dir() else {}))
        elif line.startswith("RUN "):
            command = re.sub(r"--mount=\S+\s*", "", line[4:]).split()
            assert command[:2] == ["uv", "sync"], line
            run([UV, *command[1:], "--offline", "--quiet"], env=env, cwd=context, timeout=300)
            steps += 1
    assert steps == 2
    shutil.rmtree(context)
    python = target / "bin" / "python"
    where = run([str(python), "-c", "import qcmcp, psycopg, redis, opentelemetry.sdk; print(qcmcp.__file__)"],
                env=clean_env(tmp_path), cwd=tmp_path).stdout
    assert where.strip() == str(next(target.glob("lib/python*/site-packages/qcmcp/__init__.py")))
    assert run([str(target / "bin" / "qcmcp"), "version"], env=clean_env(tmp_path), cwd=tmp_path).stdout.strip() \
        == VERSION


COMPOSE = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
REPLICAS = ["qcmcp-1", "qcmcp-2"]


def test_compose_runs_two_shared_replicas_with_postgres_redis_and_prometheus():
    services = COMPOSE["services"]
    assert set(services) >= {*REPLICAS, "postgres", "redis", "prometheus", "lb"}
    for name in REPLICAS:
        replica = services[name]
        assert replica["build"]["dockerfile"] == "deploy/Dockerfile"
        assert (DEPLOY / replica["build"]["context"] / replica["build"]["dockerfile"]).is_file()
        command = replica["command"]
        assert command[:3] == ["serve", "--transport", "http"] and "--insecure-no-auth" not in command
        assert command[command.index("--port") + 1] == str(MCP_PORT)
        env = replica["environment"]
        assert set(env) <= SETTINGS, set(env) - SETTINGS
        assert {"QCMCP_AUTH_ISSUER", "QCMCP_AUTH_AUDIENCE", "QCMCP_AUTH_JWT_SECRET"} <= set(env)
        for url in (env["QCMCP_AUDIT_DB"], env["QCMCP_VAULT_URL"]):
            assert re.match(r"postgresql://qcmcp:\$\{POSTGRES_PASSWORD[^}]*\}@postgres:5432/qcmcp$", url), url
        assert env["QCMCP_REDIS_URL"].startswith("redis://redis:")
        assert env.get("QCMCP_HTTP_STATELESS", "auto") != "off"  # with Redis: stateless, any replica serves
        assert env["QCMCP_METRICS_HOST"] == "0.0.0.0" and env["QCMCP_METRICS_PORT"] == str(METRICS_PORT)
        # The vault key comes from a compose secret, mounted where QCMCP_VAULT_KEY_FILE points.
        (secret,) = replica["secrets"]
        assert env["QCMCP_VAULT_KEY_FILE"] == f"/run/secrets/{secret}" and secret in COMPOSE["secrets"]
        assert COMPOSE["secrets"][secret]["file"].startswith("./secrets/")
        assert set(replica["expose"]) == {str(MCP_PORT), str(METRICS_PORT)}
        assert "seccomp=unconfined" in replica["security_opt"]  # bubblewrap's user namespaces
    # Prometheus scrapes both replicas' metrics port and loads the alert rules.
    prometheus = services["prometheus"]
    mounts = dict(volume.split(":")[:2] for volume in prometheus["volumes"] if volume.startswith("./"))
    for source in mounts:
        assert (DEPLOY / source).is_file(), source
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    (job,) = config["scrape_configs"]
    assert sorted(job["static_configs"][0]["targets"]) == [f"{name}:{METRICS_PORT}" for name in REPLICAS]
    rules_dir = Path(mounts["./prometheus/prometheus.yml"]).parent
    assert {str(rules_dir / rule) for rule in config["rule_files"]} <= set(mounts.values())
    assert mounts["./prometheus/qcmcp-alerts.yml"] == str(rules_dir / "qcmcp-alerts.yml")
    # Every file a service mounts from the repository exists.
    for service in services.values():
        for volume in service.get("volumes", []):
            if volume.startswith("./"):
                assert (DEPLOY / volume.split(":")[0]).is_file(), volume


def test_the_load_balancer_keeps_sessions_and_checks_readiness():
    config = (DEPLOY / "haproxy" / "haproxy.cfg").read_text()
    servers = re.findall(r"^\s*server (\S+) (\S+):(\d+)", config, re.M)
    assert [(name, host, int(port)) for name, host, port in servers] == [(n, n, MCP_PORT) for n in REPLICAS]
    assert re.search(r"http-check send meth GET uri (/\w+) hdr Host localhost", config).group(1) in PROBES
    assert "stick store-response res.hdr(mcp-session-id)" in config and "stick on req.hdr(mcp-session-id)" in config
    lb = COMPOSE["services"]["lb"]
    assert lb["ports"] == [f"{MCP_PORT}:{MCP_PORT}"] and "./haproxy/haproxy.cfg" in lb["volumes"][0]


def local_haproxy_config(ports: dict[str, int], listen: int, sticky: bool = True) -> str:
    """deploy/haproxy/haproxy.cfg with the replicas on 127.0.0.1 ports instead of compose host names."""
    config = (DEPLOY / "haproxy" / "haproxy.cfg").read_text()
    config = re.sub(r"^resolvers docker\n(?:[ \t]+.*\n)+", "", config, flags=re.M)
    config = config.replace("default-server resolvers docker init-addr last,libc,none", "default-server init-addr none")
    config = config.replace("bind :8000", f"bind 127.0.0.1:{listen}").replace("inter 10s", "inter 1s")
    for name, port in ports.items():
        config = config.replace(f"{name}:{MCP_PORT}", f"127.0.0.1:{port}")
    # Balance every request on its own (HAProxy otherwise keeps a client connection on one server), as when
    # a client's requests arrive over several connections or through another proxy: only the stick rules then
    # keep a session together.
    config = config.replace("    balance roundrobin\n", "    balance roundrobin\n    option http-server-close\n")
    if not sticky:
        config = re.sub(r"^\s*stick .*\n", "", config, flags=re.M)
    assert "qcmcp-1:" not in config and "resolvers" not in config
    return config


def mcp_sessions_through(url: str, sessions: int) -> list[str]:
    """Open ``sessions`` MCP sessions with a 2025-06-18 client (that protocol keeps a session per server,
    named by the ``Mcp-Session-Id`` header; the newer stateless protocol needs no stickiness), each listing
    tools and calling a tool three times; returns the failures."""
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    failures = []

    def answer(response: httpx.Response) -> dict[str, Any]:
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            data = [line[5:] for line in response.text.splitlines() if line.startswith("data:")]
            return json.loads(data[-1])
        return response.json()

    with httpx.Client(timeout=20) as http:
        for _ in range(sessions):
            hello = http.post(url, headers=headers, json={
                "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                    "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "lb", "version": "1"}}})
            assert hello.status_code == 200, hello.text
            session = {**headers, "Mcp-Session-Id": hello.headers["mcp-session-id"],
                       "MCP-Protocol-Version": "2025-06-18"}
            http.post(url, headers=session, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
            calls = [("tools/list", {})] + [("tools/call", {"name": "read_account", "arguments": {}})] * 3
            for number, (method, params) in enumerate(calls, start=2):
                response = http.post(url, headers=session, json={"jsonrpc": "2.0", "id": number, "method": method,
                                                                 "params": params})
                if response.status_code != 200:
                    failures.append(f"{method}: HTTP {response.status_code}")
                elif "error" in answer(response) or answer(response).get("result", {}).get("isError"):
                    failures.append(f"{method}: {answer(response)}")
    return failures


@pytest.mark.skipif(not shutil.which("haproxy"), reason="haproxy (Debian package haproxy) is not installed")
def test_the_compose_load_balancer_keeps_each_session_on_its_replica(tmp_path):
    """The compose file's HAProxy config in front of two real `qcmcp serve` replicas that keep sessions per
    process (no Redis: the fallback the stick rules are for), every request balanced on its own: sessions
    alternate between the replicas and every request of a session reaches the replica that opened it. The same
    config without its stick rules breaks sessions (404), so the test can fail."""
    qcmcp = str(Path(sys.executable).with_name("qcmcp"))
    ports = {name: free_port() for name in REPLICAS}
    processes, logs = [], []
    try:
        for name, port in ports.items():
            home = tmp_path / name
            home.mkdir()
            log = (home / "server.log").open("w")
            logs.append(log)
            processes.append(subprocess.Popen(
                [qcmcp, "serve", "--transport", "http", "--host", "127.0.0.1", "--port", str(port),
                 "--insecure-no-auth"], env=clean_env(home, QCMCP_BACKEND="sandbox", QCMCP_LOG_LEVEL="WARNING",
                                   QCMCP_HTTP_STATELESS="off"),
                cwd=home, stdout=log, stderr=log))
        for process, port in zip(processes, ports.values()):
            wait_for_port(process, port)
        for sticky, expect_failures in ((True, False), (False, True)):
            listen = free_port()
            config = tmp_path / f"haproxy-{sticky}.cfg"
            config.write_text(local_haproxy_config(ports, listen, sticky))
            run(["haproxy", "-c", "-q", "-f", str(config)])
            balancer = subprocess.Popen(["haproxy", "-db", "-f", str(config)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
            try:
                wait_for_port(balancer, listen)
                failures = mcp_sessions_through(f"http://localhost:{listen}/mcp", 4)
            finally:
                balancer.terminate()
                balancer.wait(timeout=10)
            assert bool(failures) == expect_failures, failures
        # Both replicas served sessions (the balancer alternates new sessions between them).
        for port in ports.values():
            scrape = httpx.get(f"http://127.0.0.1:{port}/metrics", headers={"Host": "localhost"}, timeout=10).text
            served = re.search(r'^qcmcp_tool_calls_total\{outcome="ok",tool="read_account"\} (\S+)', scrape, re.M)
            assert served and float(served.group(1)) >= 3, scrape[:2000]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=15)
        for log in logs:
            log.close()


@pytest.mark.skipif(not shutil.which("promtool"), reason="promtool (Debian package prometheus) is not installed")
def test_promtool_accepts_the_compose_prometheus_config():
    run(["promtool", "check", "config", str(DEPLOY / "prometheus" / "prometheus.yml")])


def kubernetes() -> dict[str, dict[str, Any]]:
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    documents: dict[str, dict[str, Any]] = {}
    for resource in kustomization["resources"]:
        for document in yaml.safe_load_all((DEPLOY / "k8s" / resource).read_text()):
            assert {"apiVersion", "kind", "metadata"} <= set(document), resource
            documents[document["kind"]] = document
    return documents


def container() -> dict[str, Any]:
    (main,) = kubernetes()["Deployment"]["spec"]["template"]["spec"]["containers"]
    return main


def kubernetes_probes() -> list[dict[str, Any]]:
    main = container()
    return [main["livenessProbe"]["httpGet"], main["readinessProbe"]["httpGet"]]


def test_the_kubernetes_manifests_fit_the_server():
    docs = kubernetes()
    assert set(docs) == {"Namespace", "ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler"}
    deployment, service, hpa, config = docs["Deployment"], docs["Service"], docs["HorizontalPodAutoscaler"], \
        docs["ConfigMap"]
    assert deployment["apiVersion"] == "apps/v1" and hpa["apiVersion"] == "autoscaling/v2"
    template = deployment["spec"]["template"]
    labels = template["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert service["spec"]["selector"].items() <= labels.items()
    main = container()
    ports = {port["name"]: port["containerPort"] for port in main["ports"]}
    assert ports == {"mcp": MCP_PORT, "metrics": METRICS_PORT}
    assert {port["targetPort"] for port in service["spec"]["ports"]} <= set(ports)
    args = main["args"]
    assert args[:3] == ["serve", "--transport", "http"] and args[args.index("--port") + 1] == str(MCP_PORT)
    # Probes: the server's paths, on the MCP port, with a Host the MCP port accepts.
    assert main["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert main["readinessProbe"]["httpGet"]["path"] == "/readyz"
    allowed = {"localhost", "127.0.0.1"} | set(config["data"].get("QCMCP_ALLOWED_HOSTS", "").split(","))
    for probe in kubernetes_probes():
        assert probe["port"] == "mcp" and probe["path"] in PROBES
        (host,) = [header["value"] for header in probe["httpHeaders"] if header["name"].lower() == "host"]
        assert host.split(":")[0] in allowed
    # Every variable set is a setting the server reads; secrets come from the Secret, the key from a file.
    env_names = set(config["data"]) | {item["name"] for item in main["env"]}
    assert env_names <= SETTINGS, env_names - SETTINGS
    assert main["envFrom"] == [{"configMapRef": {"name": config["metadata"]["name"]}}]
    secret = yaml.safe_load((DEPLOY / "k8s" / "secret.example.yaml").read_text())
    refs = {item["name"]: item["valueFrom"]["secretKeyRef"] for item in main["env"]}
    assert set(refs) == {"QCMCP_AUTH_JWT_SECRET", "QCMCP_AUDIT_DB", "QCMCP_VAULT_URL", "FASTMCP_TASKS_ENCRYPTION_KEY"}
    for ref in refs.values():
        assert ref["name"] == secret["metadata"]["name"] and ref["key"] in secret["stringData"]
    volumes = {volume["name"]: volume for volume in template["spec"]["volumes"]}
    mounts = {mount["name"]: mount["mountPath"] for mount in main["volumeMounts"]}
    key_volume = volumes["vault-key"]["secret"]
    assert key_volume["secretName"] == secret["metadata"]["name"]
    (item,) = key_volume["items"]
    assert item["key"] in secret["stringData"]
    assert config["data"]["QCMCP_VAULT_KEY_FILE"] == f"{mounts['vault-key']}/{item['path']}"
    assert "QCMCP_AUDIT_DB" not in config["data"] and "QCMCP_AUTH_JWT_SECRET" not in config["data"]
    # Replicas without stickiness: Redis set, so streamable HTTP is stateless and the Service needs no affinity.
    assert config["data"]["QCMCP_REDIS_URL"].startswith("redis://")
    assert config["data"].get("QCMCP_HTTP_STATELESS", "auto") != "off" and "sessionAffinity" not in service["spec"]
    # Metrics on their own port, scraped by annotation.
    assert config["data"]["QCMCP_METRICS_PORT"] == str(METRICS_PORT) == template["metadata"]["annotations"][
        "prometheus.io/port"]
    assert config["data"]["QCMCP_METRICS_HOST"] == "0.0.0.0"
    # The image's user, the HPA's target, at least two replicas.
    (user,) = [line.split()[1] for line in final_stage() if line.startswith("USER ")]
    security = template["spec"]["securityContext"]
    assert security["runAsNonRoot"] is True and str(security["runAsUser"]) == user.split(":")[0]
    assert main["securityContext"]["allowPrivilegeEscalation"] is False
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                             "name": deployment["metadata"]["name"]}
    assert hpa["spec"]["minReplicas"] >= 2 and deployment["spec"]["replicas"] >= 2
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    assert [image["name"] for image in kustomization["images"]] == [main["image"]]
    assert kustomization["images"][0]["newTag"] == VERSION


@pytest.mark.skipif(not shutil.which("kubectl"), reason="kubectl is not installed (the checks above need none)")
def test_kustomize_builds_the_manifests():
    built = list(yaml.safe_load_all(run(["kubectl", "kustomize", str(DEPLOY / "k8s")]).stdout))
    assert sorted(document["kind"] for document in built) == sorted(kubernetes())
    assert all(document["metadata"].get("namespace", "qcmcp") == "qcmcp" for document in built)


# ------------------------------------------------------------------------------------------------- server.json

SERVER_JSON = json.loads((ROOT / "server.json").read_text())


def test_server_json_matches_the_registry_schema():
    import jsonschema

    schema = json.loads((DEPLOY / "mcp-registry" / "server.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    validator.check_schema(schema)
    assert [error.message for error in validator.iter_errors(SERVER_JSON)] == []
    broken = json.loads(json.dumps(SERVER_JSON))
    broken["name"], broken["packages"][0]["version"] = "no-slash", "latest"
    assert len(list(validator.iter_errors(broken))) == 2  # the schema can fail


def test_server_json_describes_this_package():
    assert SERVER_JSON["$schema"] == "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
    assert SERVER_JSON["version"] == VERSION
    (package,) = SERVER_JSON["packages"]
    assert package["registryType"] == "pypi" and package["identifier"] == PYPROJECT["project"]["name"]
    assert package["version"] == VERSION and package["transport"] == {"type": "stdio"}
    names = {variable["name"] for variable in package["environmentVariables"]}
    assert names <= SETTINGS and {"QUANTCONNECT_USER_ID", "QUANTCONNECT_API_TOKEN"} <= names
    secrets = {variable["name"] for variable in package["environmentVariables"] if variable.get("isSecret")}
    assert secrets == {"QUANTCONNECT_API_TOKEN"}
    # The registry verifies a PyPI package by this line in its description (the README).
    assert f"mcp-name: {SERVER_JSON['name']}" in (ROOT / "README.md").read_text()
    # The image carries the same name, for an OCI entry once it is published.
    assert f'io.modelcontextprotocol.server.name="{SERVER_JSON["name"]}"' in (DEPLOY / "Dockerfile").read_text()
