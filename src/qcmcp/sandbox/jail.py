"""The jail every algorithm runs in: bubblewrap namespaces, a minimal read-only filesystem, a clean environment.

An algorithm is code from an agent, so the worker process that runs it must not reach what the server holds:
its environment (the vault key, the JWT secret, QuantConnect tokens), its files (databases, ``$HOME``), its
network, or its Python packages beyond the engine. The worker is started with bubblewrap:

- new user, PID, mount, IPC, UTS, cgroup and network namespaces (no network at all, loopback included),
  running as ``nobody`` (65534) with every capability dropped and ``no_new_privs``;
- a filesystem of its own holding only the Python runtime, the engine's own modules (the rest of ``qcmcp``
  is hidden under an empty overlay) and the market data, all read-only, plus a private ``/tmp``;
- an environment of a few harmless variables, given to bubblewrap itself, so not even the namespace's
  first process (whose ``/proc/1/environ`` the algorithm could read) carries a secret;
- a cgroup with a process cap where the machine lets the server create one (fork bombs), and rlimits for
  memory, CPU time, processes, open files and file size, set by the worker before any user code runs.

The worker gets its job on stdin and answers on stdout; nothing else crosses. ``Jail.unconfined()`` runs the
worker as a plain child process: allowed only in local mode, with a warning, where bubblewrap is missing.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import qcmcp
from qcmcp.sandbox.errors import SandboxError

log = logging.getLogger("qcmcp.sandbox.jail")

WORKER_MODULE = "qcmcp.sandbox.engine.worker"
NOBODY = "65534"
# Variables a worker may inherit: locale and the numeric libraries' tuning (OPENBLAS_CORETYPE keeps old OpenBLAS
# builds from crashing on some processors). Everything else — QCMCP_*, QUANTCONNECT_*, HOME, … — stays outside.
INHERITED = ("LANG", "LC_ALL", "TZ", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
             "OMP_NUM_THREADS", "MKL_NUM_THREADS")
SCRATCH_BYTES = 256 * 1024 * 1024  # the private /tmp (RAM-backed): the project's files and what it writes
MAX_PROCESSES = 64  # threads included: numpy's pools, the engine, and little else
CGROUP_ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))  # cgroup v1 pids controller, or v2

# The parts of the qcmcp package the engine needs; everything else (security, tools, qc, …) is hidden.
ENGINE_FILES = ("__init__.py", "sandbox/__init__.py", "sandbox/engine", "sandbox/data", "marketdata")  # marketdata: LEAN data handling


class JailUnavailable(SandboxError):
    """Algorithms must run jailed here and no jail can be set up (answered as ``success: false``)."""


@dataclass(frozen=True)
class Jail:
    """How worker processes start. ``bwrap`` is the bubblewrap binary, or None for an unconfined worker."""

    bwrap: str | None
    data_folders: tuple[Path, ...] = ()
    required: bool = False
    reason: str = ""  # why there is no jail, for the refusal message and doctor
    _cgroup_root: Path | None = field(default=None, compare=False)

    @classmethod
    def detect(cls, *, required: bool, data_folders: tuple[Path, ...] = ()) -> Jail:
        """bubblewrap when it is installed and works here; otherwise unconfined (refused when ``required``)."""
        folders = tuple(folder.resolve() for folder in data_folders if folder.is_dir())
        binary = shutil.which("bwrap")
        reason = "" if binary else "bubblewrap (bwrap) is not installed; install the Debian package 'bubblewrap'"
        if binary:
            reason = _probe(binary, folders)
        if reason:
            return cls(None, folders, required, reason)
        return cls(binary, folders, required, "", _writable_cgroup_root())

    @property
    def confined(self) -> bool:
        return self.bwrap is not None

    def describe(self) -> str:
        if self.confined:
            caps = f"cgroup process cap {MAX_PROCESSES}" if self._cgroup_root else "no cgroup (rlimits only)"
            return f"bubblewrap ({self.bwrap}; {caps})"
        return f"none: {self.reason}" + (" — algorithms are refused" if self.required else " — algorithms run UNJAILED")

    def check(self) -> None:
        """Raise :class:`JailUnavailable` when algorithms may not run (shared mode without a jail)."""
        if self.required and not self.confined:
            raise JailUnavailable(
                "This server runs algorithms only inside a jail, and none can be set up here: "
                f"{self.reason}. Ask the operator to install bubblewrap; compiling still works.")

    def spawn(self, **popen: object) -> WorkerProcess:
        """Start one worker (``popen``: the pipes and text mode). Its cgroup goes when it has been waited for."""
        self.check()
        python = [sys.executable, "-I", "-m", WORKER_MODULE]
        argv, cgroup = python, None
        if self.confined:
            assert self.bwrap is not None
            cgroup = _make_cgroup(self._cgroup_root) if self._cgroup_root else None
            argv = [self.bwrap, *_namespace_arguments(), *_filesystem_arguments(self.data_folders), *python]
            if cgroup is not None:
                # Join the cgroup first, then become bubblewrap: every process the algorithm forks inherits the cap.
                argv = ["/bin/sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', str(cgroup), *argv]
        try:
            return WorkerProcess(argv, cgroup, env=_clean_environment(), **popen)
        except OSError as error:
            if cgroup is not None:
                _remove_cgroup(cgroup)
            log.error("could not start an algorithm worker", extra={"error": str(error)})
            raise SandboxError("The sandbox could not start a worker process for the algorithm; try again, and "
                               "if it persists ask the operator to check `qcmcp doctor`.") from None


class WorkerProcess(subprocess.Popen):  # type: ignore[type-arg]
    """A worker process that removes its cgroup once it has been waited for."""

    def __init__(self, argv: list[str], cgroup: Path | None, **popen: object) -> None:
        self._cgroup = cgroup
        super().__init__(argv, **popen)  # type: ignore[call-overload]

    def wait(self, timeout: float | None = None) -> int:
        code = super().wait(timeout)
        if self._cgroup is not None:
            _remove_cgroup(self._cgroup)
            self._cgroup = None
        return code


def _namespace_arguments() -> list[str]:
    return ["--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-net", "--unshare-uts",
            "--unshare-cgroup-try", "--uid", NOBODY, "--gid", NOBODY, "--cap-drop", "ALL",
            "--die-with-parent", "--new-session", "--clearenv",
            *[arg for name, value in _clean_environment().items() for arg in ("--setenv", name, value)]]


def _filesystem_arguments(data_folders: tuple[Path, ...]) -> list[str]:
    """Only the runtime, the engine and the data, read-only; a private /tmp; a fresh /proc and minimal /dev.

    The private /tmp comes first: the server itself may live under /tmp (a checkout, a virtual environment),
    and binds made after it stay visible inside it instead of being hidden by it.
    """
    arguments = ["--proc", "/proc", "--dev", "/dev", "--size", str(SCRATCH_BYTES), "--tmpfs", "/tmp"]
    for path in _runtime_paths():
        arguments += ["--ro-bind", str(path), str(path)]
    for link, target in (("/lib", "usr/lib"), ("/lib64", "usr/lib64"), ("/bin", "usr/bin")):
        if Path(link).is_symlink():
            arguments += ["--symlink", target, link]
        elif Path(link).is_dir():
            arguments += ["--ro-bind", link, link]
    package = Path(qcmcp.__file__).resolve().parent
    arguments += ["--tmpfs", str(package)]  # hides whatever of qcmcp the runtime paths exposed
    for relative in ENGINE_FILES:
        arguments += ["--ro-bind", str(package / relative), str(package / relative)]
    arguments += ["--remount-ro", str(package)]
    for folder in data_folders:
        arguments += ["--ro-bind", str(folder), str(folder)]
    # The jail's own root stays read-only too: /tmp is the only writable place.
    arguments += ["--chdir", "/tmp", "--remount-ro", "/"]
    return arguments


def _runtime_paths() -> list[Path]:
    """The Python installation and virtual environment, and the system's shared libraries — nothing above them."""
    paths = [Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()]
    paths += [Path(p) for p in ("/usr/lib", "/usr/lib64", "/usr/share/zoneinfo", "/etc/ld.so.cache",
                                "/etc/localtime") if Path(p).exists() and not Path(p).is_symlink()]
    if Path("/usr/lib64").is_symlink():
        paths = [p for p in paths if p != Path("/usr/lib64")]
    unique: list[Path] = []
    for path in sorted(set(paths), key=lambda p: len(p.parts)):
        if not any(path.is_relative_to(parent) for parent in unique):
            unique.append(path)
    return unique


def _clean_environment() -> dict[str, str]:
    env = {name: os.environ[name] for name in INHERITED if name in os.environ}
    env.update(PATH="/usr/bin:/bin", HOME="/tmp", PYTHONDONTWRITEBYTECODE="1", PYTHONHASHSEED="0")
    return env


@functools.lru_cache(maxsize=8)
def _probe(binary: str, data_folders: tuple[Path, ...]) -> str:
    """Start the engine inside the jail once; the reason it fails, or '' when it works."""
    argv = [binary, *_namespace_arguments(), *_filesystem_arguments(data_folders),
            sys.executable, "-I", "-c", f"import {WORKER_MODULE}"]
    try:
        done = subprocess.run(argv, env=_clean_environment(), capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bubblewrap could not start ({error})"
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or ["no output"])[-1][:300]
        return f"bubblewrap cannot set up namespaces here ({detail})"
    return ""


def _writable_cgroup_root() -> Path | None:
    """A cgroup folder of ours with a ``pids`` controller, when the machine lets us make one."""
    for root in CGROUP_ROOTS:
        mine = root / "qcmcp-jail"
        try:
            if not (root / "cgroup.procs").exists():
                continue
            mine.mkdir(exist_ok=True)
            if root.name != "pids":  # cgroup v2: the controller must be enabled for children
                (root / "cgroup.subtree_control").write_text("+pids")
            probe = _make_cgroup(mine)
            _remove_cgroup(probe)
            return mine
        except OSError:
            continue
    return None


def _make_cgroup(root: Path) -> Path:
    cgroup = root / uuid.uuid4().hex
    cgroup.mkdir()
    (cgroup / "pids.max").write_text(str(MAX_PROCESSES))
    return cgroup


def _remove_cgroup(cgroup: Path) -> None:
    try:
        cgroup.rmdir()
    except OSError:
        log.debug("cgroup still busy", extra={"cgroup": cgroup.name})
