"""Run the project's DAGs with a local, embedded Airflow: `pcve demo`, `make airflow`, tests.

Everything Airflow keeps lives under `<home>/airflow/` (SQLite metadata DB, logs,
airflow.cfg), so a home is self-contained and two homes never share state.

- `airflow_env(home)`: the environment for any `airflow` subprocess on that home.
- `ensure_db(home)`, `ensure_pool(home)`: migrate once, create the writer pool.
- `dags_test(home, dag_id, conf=None, logical_date=None)`: one `airflow dags test` run.
- `run_pipeline_via_airflow(home)`: office_intake -> warehouse_build -> ministry_extract, in
  order (asset schedules do not fire under `dags test`, so the runner chains them).
- `standalone(home)`: `airflow standalone` on localhost:8080 over the same DAGs (`make airflow`).
- `scale(home, postgres_url)`: `make airflow-scale`: redis, then api-server, scheduler,
  dag-processor, triggerer and two Celery workers, each its own process, with the settings of
  config/airflow-scale.env (which docker-compose.yml's services read too).
- `stop_airflow(home)`: `make airflow-stop`: every process `make airflow` or `make airflow-scale`
  started on that home (each carries PCVE_AIRFLOW_TAG in its environment, whatever its process
  group): SIGTERM, a bounded wait (PCVE_AIRFLOW_STOP_GRACE seconds, 20), then SIGKILL.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from pcve.core.errors import PermanentError
from pcve.core.home import Home
from pcve.core.paths import project_dir, project_root
from pcve.core.settings import settings

REPO = project_root()  # the checkout, or the wheel's pcve/_data (pcve/core/paths.py)
DAGS_FOLDER = project_dir("dags")
WRITER_POOL = "pcve_warehouse_writer"  # the one-slot pool of every warehouse task (dags/_common.py uses it)
PIPELINE_DAGS = ("office_intake", "warehouse_build", "ministry_extract")
# The run's phases (pcve.app.pipeline.PHASES) each DAG carries out, as `pcve demo` names them.
DAG_PHASES = {"office_intake": "intake, validation", "warehouse_build": "warehouse build, publish",
              "ministry_extract": "extracts"}
DEFAULT_PORT = 8080
# Every process started for a home carries this in its environment: `stop_airflow` finds them all,
# also those that left the process group (Airflow's task supervisors, celery's pool, redis).
TAG_ENV = "PCVE_AIRFLOW_TAG"

# Settings we own; inherited values of these are replaced (a developer's own AIRFLOW_HOME
# or a test's AIRFLOW__CORE__UNIT_TEST_MODE must not leak into the project's home).
_DROP = ("AIRFLOW_CONFIG", "AIRFLOW__CORE__SQL_ALCHEMY_CONN", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD",
         "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_SECRET")


class AirflowRunError(PermanentError, RuntimeError):
    """An `airflow` command failed; the message carries the tail of its output, `output` all of it."""

    output: str = ""


def _home(home: str | os.PathLike) -> Path:
    return Path(home).expanduser().resolve()


def _airflow_bin() -> str:
    beside = Path(sys.executable).with_name("airflow")
    return str(beside) if beside.exists() else "airflow"


def airflow_env(home: str | os.PathLike, port: int | None = None, base: dict | None = None) -> dict:
    """The environment of an `airflow` subprocess working on `home` (see the module doc)."""
    h = _home(home)
    af = h / "airflow"
    port = int(port or settings().airflow_port)
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in _DROP}
    all_admins = settings().airflow_all_admins
    env.update(
        {
            TAG_ENV: tag(h),
            "PCVE_HOME": str(h),
            "AIRFLOW_HOME": str(af),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{af / 'airflow.db'}",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__AUTH_MANAGER":
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": str(all_admins),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE":
                str(af / "simple_auth_manager_passwords.json.generated"),
            # The UI/API only on loopback: the embedded setup is for one developer's machine.
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": f"http://localhost:{port}",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{port}/execution/",
            # One developer's machine: a few LocalExecutor workers, not Airflow's default 32.
            "AIRFLOW__CORE__PARALLELISM": settings().airflow_parallelism,
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(af / "logs"),
            "AIRFLOW__LOGGING__DAG_PROCESSOR_CHILD_PROCESS_LOG_DIRECTORY": str(af / "logs" / "dag_processor"),
            "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p),
            # `airflow standalone` starts its components as `airflow ...` found on PATH.
            "PATH": os.pathsep.join(p for p in (str(Path(sys.executable).parent), env.get("PATH", "")) if p),
        }
    )
    return env


def tag(home: str | os.PathLike) -> str:
    return f"pcve-airflow:{_home(home)}"


def _sessions_file(home) -> Path:
    return _home(home) / "airflow" / "supervisor.sessions"


def tagged_pids(home: str | os.PathLike) -> list[int]:
    """Live processes of this home (not this process nor its parent): those whose environment
    carries its tag, and those in a session the runner started (Airflow's api-server and
    scheduler rewrite their process title over their environment, so the tag is not enough)."""
    needle = f"{TAG_ENV}={tag(home)}".encode()
    try:
        sessions = {int(x) for x in _sessions_file(home).read_text().split()}
    except (OSError, ValueError):
        sessions = set()
    mine = {os.getpid(), os.getppid()}
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) in mine:
            continue
        try:
            environ = (d / "environ").read_bytes()  # empty for a zombie: nothing left to stop
            stat = (d / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()  # after "(comm)": state, ppid, pgrp, session, ...
        if fields and fields[0] == "Z":
            continue
        if needle in environ.split(b"\0") or (len(fields) > 3 and int(fields[3]) in sessions):
            out.append(int(d.name))
    return sorted(out)


def _signal_all(pids: list[int], sig) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def stop_airflow(home: str | os.PathLike, grace: float | None = None, reap=None) -> dict:
    """Stop every process started for `home` (see the module doc); returns what was signalled.
    `reap()`, if given, is called while waiting (a parent reaping its child, so it does not linger)."""
    import signal
    import time

    grace = float(settings().airflow_stop_grace if grace is None else grace)
    found = tagged_pids(home)
    supervisor = _supervisor_pid(home)
    out = {"terminated": found, "killed": [], "supervisor": supervisor}
    if supervisor:
        # `make airflow` in another terminal: it stops its children too and exits 0
        _signal_all([supervisor], signal.SIGTERM)
    if not found:
        return out
    _signal_all(found, signal.SIGTERM)
    for sig, wait in ((None, grace), (signal.SIGKILL, 10.0)):
        if sig is not None:
            left = tagged_pids(home)
            if not left:
                break
            out["killed"] = left  # ignored SIGTERM (Airflow's scheduler does) or outlived the grace
            _signal_all(left, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if reap:
                reap()
            if not tagged_pids(home):
                _sessions_file(home).unlink(missing_ok=True)
                return out
            time.sleep(0.3)
    left = tagged_pids(home)
    if left:
        raise AirflowRunError(f"processes of {_home(home)} still alive after SIGKILL: {left}")
    _sessions_file(home).unlink(missing_ok=True)
    return out


def _supervisor_pid(home) -> int | None:
    """The pid of a running `make airflow` / `make airflow-scale` runner of this home, if any."""
    try:
        pid = int((_home(home) / "airflow" / "supervisor.pid").read_text().split()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError, IndexError):
        return None
    return pid if b"pcve.app.airflow_runner" in cmdline and pid != os.getpid() else None


def _run(home, args: list[str], *, env: dict | None = None, timeout: float | None = None,
         check: bool = True, tail: int = 60) -> subprocess.CompletedProcess:
    env = env or airflow_env(home)
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([_airflow_bin(), *args], env=env, cwd=str(REPO), capture_output=True,
                          text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AirflowRunError(f"`airflow {' '.join(args)}` exited {proc.returncode}:\n{_tail(proc, tail)}")
    return proc


def _tail(proc: subprocess.CompletedProcess, lines: int = 60) -> str:
    out = ((proc.stdout or "") + "\n" + (proc.stderr or "")).strip().splitlines()
    return "\n".join(out[-lines:])


def _db_path(home) -> Path:
    return _home(home) / "airflow" / "airflow.db"


def _migrated_marker(home) -> Path:
    return _home(home) / "airflow" / ".pcve-db-migrated"


def ensure_db(home: str | os.PathLike) -> bool:
    """`airflow db migrate` once per home (and again after an Airflow upgrade). True when it ran."""
    import importlib.metadata

    version = importlib.metadata.version("apache-airflow")
    marker = _migrated_marker(home)
    if _db_path(home).exists() and marker.exists() and marker.read_text().strip() == version:
        return False
    _run(home, ["db", "migrate"], timeout=600)
    marker.write_text(version + "\n")
    return True


def ensure_pool(home: str | os.PathLike) -> bool:
    """The 1-slot pool that serialises every task touching the warehouse (once per DB). True when set."""
    marker = _home(home) / "airflow" / ".pcve-pool"
    if not ensure_db(home) and marker.exists():
        return False
    _run(home, ["pools", "set", WRITER_POOL, "1",
                "One task at a time reads or writes the pcve warehouse (DuckDB: one writing process)"],
         timeout=120)
    marker.write_text(WRITER_POOL + "\n")
    return True


# Lines `airflow dags test` prints for a task that ended failed (task runner / dag.test loop).
_TASK_FAILED = re.compile(
    r"(Task failed; ti=|Marking task as FAILED|new_state=failed\b|state=<?TaskInstanceState\.FAILED"
    r"|Task instance in failure state)"
)


def _failure_summary(output: str) -> str:
    """The alert blocks our on_failure_callback logged (which task, which error), if any."""
    lines = output.splitlines()
    blocks = []
    for i, line in enumerate(lines):
        if "PCVE ALERT:" in line:
            blocks.append("\n".join([line.split("PCVE ALERT:", 1)[1].strip(), *lines[i + 1:i + 6]]))
    return "\n".join(blocks)


def dags_test(home: str | os.PathLike, dag_id: str, conf: dict | None = None,
              logical_date: str | None = None, timeout: float = 1800) -> subprocess.CompletedProcess:
    """Run one DAG with `airflow dags test` on `home`; raise AirflowRunError (with the tail of
    the output) when the run failed or any task failed (even one the run tolerated)."""
    ensure_pool(home)
    env = airflow_env(home)
    # dags test waits out retry delays in-process: fail fast instead (see dags/_common.py).
    env.setdefault("PCVE_TASK_RETRIES", "0")
    # `dags test` crashes at the end of a successful run of a DAG with a DeadlineAlert (dags/_common.py)
    env.setdefault("PCVE_DEADLINES", "off")
    args = ["dags", "test", dag_id]
    if logical_date:
        args.append(str(logical_date))
    if conf is not None:
        args += ["--conf", json.dumps(conf)]
    proc = _run(home, args, env=env, timeout=timeout, check=False)
    output = (proc.stdout or "") + "\n" + (proc.stderr or "")
    failed_task = _TASK_FAILED.search(output)
    if proc.returncode != 0 or failed_task:
        what = f"failed (exit {proc.returncode})" if proc.returncode != 0 else "ran, but a task failed"
        summary = _failure_summary(output)
        err = AirflowRunError(
            f"`airflow dags test {dag_id}` {what} on {_home(home)}:\n"
            + (f"{summary}\n" if summary else "")
            + f"--- last lines of the output ---\n{_tail(proc, 40)}"
        )
        err.output = output
        raise err
    return proc


def run_pipeline_via_airflow(home: str | os.PathLike,
                             progress: Callable[[str], None] | None = None) -> dict[str, float]:
    """office_intake, warehouse_build, ministry_extract with `airflow dags test`, in that order.

    Returns the seconds each DAG took. Raises AirflowRunError at the first DAG that failed.
    """
    import time

    h = _home(home)
    (h / "airflow").mkdir(parents=True, exist_ok=True)
    ensure_pool(h)
    took: dict[str, float] = {}
    for dag_id in PIPELINE_DAGS:
        if progress:
            progress(dag_id)
        t0 = time.monotonic()
        dags_test(h, dag_id)
        took[dag_id] = round(time.monotonic() - t0, 1)
    return took


def password_file(home: str | os.PathLike) -> Path:
    return _home(home) / "airflow" / "simple_auth_manager_passwords.json.generated"


def standalone(home: str | os.PathLike, port: int | None = None) -> int:
    """`make airflow`: migrate, create the pool, then `airflow standalone` on localhost.

    This process stays as its parent: `airflow standalone` passes a SIGTERM on to none of its
    components (the scheduler ignores TERM and INT), so Ctrl-C, a SIGTERM or SIGHUP to this
    process, or `make airflow-stop`, stop every process of the home (`stop_airflow`).
    """
    h = _home(home)
    h.mkdir(parents=True, exist_ok=True)
    env = airflow_env(h, port=port)
    ensure_pool(h)
    url = env["AIRFLOW__API__BASE_URL"]
    print(f"Airflow UI: {url}   (DAGs: {DAGS_FOLDER}, home: {h})", flush=True)
    if env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] == "True":
        print("Login: none needed (simple auth manager, all admins, bound to 127.0.0.1). "
              "Set PCVE_AIRFLOW_ALL_ADMINS=false to require the admin password.", flush=True)
    else:
        print(f"Login: user 'admin', password in {password_file(h)} "
              "(written on the first start).", flush=True)
    print("Unpause office_intake, warehouse_build and ministry_extract, then trigger office_intake.",
          flush=True)
    print("Stop: Ctrl-C here, or `make airflow-stop`.", flush=True)
    return _supervise(h, [[_airflow_bin(), "standalone"]], env)


MAX_RESTARTS = 5  # per component, for the scale profile: then the whole cluster stops


def _supervise(home: Path, commands: list[list[str]], env: dict | list[dict], restart: bool = False) -> int:
    """Run commands (each in its own session) until one exits or a stop signal arrives, then
    stop every process of the home. The exit code: the first child's, or 0 after a stop signal.
    With `restart`, a component that dies is started again (up to MAX_RESTARTS times each): a
    scheduler or worker killed mid-run comes back and the run goes on."""
    import signal
    import time

    if (running := _supervisor_pid(home)) is not None:
        raise AirflowRunError(f"Airflow already runs on {home} (pid {running}): `make airflow-stop` first")
    if _sessions_file(home).exists() or tagged_pids(home):
        stop_airflow(home)  # what a killed runner left behind (its sessions are recorded)
    pidfile = home / "airflow" / "supervisor.pid"
    pidfile.write_text(f"{os.getpid()}\n")
    stopping: list[int] = []

    def on_signal(signum, _frame):
        stopping.append(signum)

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    procs: list[subprocess.Popen] = []
    code = 0
    envs = env if isinstance(env, list) else [env] * len(commands)

    def start(argv, e) -> subprocess.Popen:
        proc = subprocess.Popen(argv, env=e, cwd=str(REPO), start_new_session=True)
        # each child leads a session of its own: `stop_airflow` finds its descendants by it
        with _sessions_file(home).open("a") as fh:
            fh.write(f"{proc.pid}\n")
        return proc

    restarts = [0] * len(commands)
    try:
        for argv, e in zip(commands, envs, strict=True):
            procs.append(start(argv, e))
        while not stopping:
            ended = [i for i, p in enumerate(procs) if p.poll() is not None]
            if ended and restart and all(restarts[i] < MAX_RESTARTS for i in ended):
                for i in ended:
                    restarts[i] += 1
                    print(f"{' '.join(commands[i][1:3])} exited with {procs[i].returncode}: "
                          f"restarting it ({restarts[i]}/{MAX_RESTARTS})", flush=True)
                    procs[i] = start(commands[i], envs[i])
            elif ended:
                code = procs[ended[0]].returncode
                print(f"{' '.join(commands[ended[0]][1:3])} exited with {code}: stopping the others", flush=True)
                break
            time.sleep(0.5)
    finally:
        # Ctrl-C again while stopping must not leave half the processes behind
        for s in old:
            signal.signal(s, signal.SIG_IGN)
        stop_airflow(home, reap=lambda: [p.poll() for p in procs])
        for p in procs:
            p.poll()
        pidfile.unlink(missing_ok=True)
        for s, h in old.items():
            signal.signal(s, h)
    return 0 if stopping else code


def start_standalone(home: str | os.PathLike, port: int | None = None,
                     log_path: str | os.PathLike | None = None) -> subprocess.Popen:
    """Start `standalone(home)` in the background, in its own session (tests, scripts).

    Stop it with `stop_standalone(proc)`: `airflow standalone` does not pass a SIGTERM on to
    its components, so the whole process group has to be signalled.
    """
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL
    args = [sys.executable, "-m", "pcve.app.airflow_runner", "standalone", "--home", str(_home(home))]
    if port:
        args += ["--port", str(port)]
    return subprocess.Popen(args, cwd=str(REPO), stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)


def wait_until_healthy(port: int | None = None, timeout: float = 240,
                       proc: subprocess.Popen | None = None) -> dict:
    """Poll /api/v2/monitor/health until the DB, scheduler, triggerer and DAG processor are healthy."""
    import time
    import urllib.request

    port = int(port or settings().airflow_port)
    url = f"http://127.0.0.1:{port}/api/v2/monitor/health"
    deadline = time.monotonic() + timeout
    last: dict | str = "no answer"
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AirflowRunError(f"airflow standalone exited with {proc.returncode} before it was healthy")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                last = json.loads(r.read())
            if all(v.get("status") == "healthy" for v in last.values() if isinstance(v, dict)):
                return last
        except OSError as e:
            last = str(e)
        time.sleep(2)
    raise AirflowRunError(f"Airflow on port {port} not healthy after {timeout:.0f} s: {last}")


def stop_standalone(proc: subprocess.Popen, timeout: float = 40, home: str | os.PathLike | None = None) -> None:
    """Stop what `start_standalone` started: SIGTERM to the runner (which stops every process of
    the home), then, if anything outlived that, `stop_airflow(home)` and SIGKILL to its group."""
    import signal

    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    if home is not None:
        stop_airflow(home)
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the runner's own session, if anything is left in it
    except ProcessLookupError:
        pass
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        pass


# ---------------------------------------------------------------- scale profile (CeleryExecutor)
SCALE_ENV_FILE = project_dir("config") / "airflow-scale.env"
SCALE_WORKERS = ("pcve-worker-1", "pcve-worker-2")


def worker_hostname() -> str:
    """[core] hostname_callable of the scale profile: the worker's name (PCVE_WORKER_NAME), else
    the host's, so task instances say which of two workers on one machine ran them."""
    import socket

    return settings().worker_name or socket.getfqdn()


def read_env_file(path: str | os.PathLike = SCALE_ENV_FILE) -> dict[str, str]:
    """KEY=VALUE lines of an env file (docker compose's env_file syntax, comments and blanks skipped)."""
    out = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def _scale_ports() -> dict[str, int]:
    base = settings().airflow_port
    return {"api": base, "redis": settings().redis_port,
            # two workers on one machine: each its own log server port; the triggerer's too
            "worker_logs": settings().worker_log_port,
            "trigger_logs": settings().trigger_log_port}


def _scale_secrets(home: Path) -> dict[str, str]:
    """Secrets every component must share, generated once per home (never in the repository)."""
    import secrets

    path = home / "airflow" / "scale-secrets.json"
    if not path.exists():
        from cryptography.fernet import Fernet

        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
                "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
                "admin": secrets.token_urlsafe(16)}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh)
    return json.loads(path.read_text())


def scale_env(home: str | os.PathLike, postgres_url: str) -> dict:
    """The environment of every scale-profile process: the embedded defaults of `airflow_env`,
    then config/airflow-scale.env, then the hosts (PostgreSQL for the metadata DB and the
    warehouse, redis on loopback) and the shared secrets."""
    from urllib.parse import urlsplit

    h = _home(home)
    ports = _scale_ports()
    env = airflow_env(h, port=ports["api"])
    env.update(read_env_file())
    u = urlsplit(postgres_url)
    server = f"{u.username}:{u.password}@{u.hostname}:{u.port}"
    secrets_ = _scale_secrets(h)
    env.update({k: v for k, v in secrets_.items() if k.startswith("AIRFLOW__")})
    env.update({
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{server}/{SCALE_METADATA_DB}",
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql+psycopg2://{server}/{SCALE_METADATA_DB}",
        "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{ports['redis']}/0",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(ports["worker_logs"]),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(ports["trigger_logs"]),
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",  # its port (8974) is one per machine
        # the REST API with a login: the admin's password is in <home>/airflow/scale-secrets.json
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "PCVE_WAREHOUSE": f"postgresql://{server}/{SCALE_WAREHOUSE_DB}",
    })
    env["PYTHONPATH"] = os.pathsep.join((str(_scale_pylib(h)), env["PYTHONPATH"]))
    return env


DEBIAN_ASYNCPG = Path("/usr/lib/python3/dist-packages/asyncpg")


def _scale_pylib(home: Path) -> Path:
    """A folder first on the scale processes' PYTHONPATH with what the lock lacks:

    - asyncpg: Airflow 3 opens its PostgreSQL metadata DB with an async driver too, which uv.lock
      does not hold. Debian's python3-asyncpg (built for Python 3.11, installed by
      scripts/install-system-deps.sh) is offered alone (all of dist-packages on the path would
      shadow the locked packages).
    - airflow_local_settings.py: loads pcve.app.celery_compat before any executor is imported."""
    import importlib.util

    folder = home / "airflow" / "pylib"
    folder.mkdir(parents=True, exist_ok=True)
    if importlib.util.find_spec("asyncpg") is None:
        if not DEBIAN_ASYNCPG.is_dir():
            raise AirflowRunError("the PostgreSQL metadata DB needs asyncpg: run `make system-deps` "
                                  "(Debian's python3-asyncpg)")
        link = folder / "asyncpg"
        if not link.is_symlink():
            link.symlink_to(DEBIAN_ASYNCPG, target_is_directory=True)
    (folder / "airflow_local_settings.py").write_text(
        "# written by pcve.app.airflow_runner (make airflow-scale): see pcve/app/celery_compat.py\n"
        "from pcve.app.celery_compat import patch as _patch\n\n_patch()\n__all__ = []  # nothing for airflow.settings\n")
    return folder


SCALE_METADATA_DB = settings().scale_metadata_db
SCALE_WAREHOUSE_DB = settings().scale_warehouse_db


def _ensure_databases(postgres_url: str) -> None:
    """The metadata DB and the warehouse DB on that server (C collation: text sorts by code point,
    as on DuckDB, so extracts are byte-identical)."""
    import psycopg2

    con = psycopg2.connect(postgres_url)
    con.autocommit = True
    try:
        with con.cursor() as cur:
            for db in (SCALE_METADATA_DB, SCALE_WAREHOUSE_DB):
                cur.execute("select 1 from pg_database where datname = %s", (db,))
                if cur.fetchone() is None:
                    cur.execute(f'create database "{db}" template template0 encoding \'UTF8\' '
                                "lc_collate 'C' lc_ctype 'C.UTF-8'")
    finally:
        con.close()


def admin_password(home: str | os.PathLike) -> str:
    return _scale_secrets(_home(home))["admin"]


def scale(home: str | os.PathLike, postgres_url: str) -> int:
    """`make airflow-scale`: see the module doc. Runs until Ctrl-C or `make airflow-stop`."""
    import shutil
    import socket

    h = _home(home)
    (h / "airflow").mkdir(parents=True, exist_ok=True)
    _ensure_databases(postgres_url)
    env = scale_env(h, postgres_url)
    # the admin's password, for the UI and the REST API (simple auth manager)
    pw_file = Path(env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    pw_file.write_text(json.dumps({"admin": admin_password(h)}))
    pw_file.chmod(0o600)
    _run(h, ["db", "migrate"], env=env, timeout=900)
    _run(h, ["pools", "set", WRITER_POOL, "1",
             "One task at a time reads or writes the pcve warehouse (DuckDB: one writing process)"], env=env, timeout=300)

    Home.at(h).ensure()
    redis = shutil.which("redis-server") or "/usr/bin/redis-server"
    ports = _scale_ports()
    (h / "airflow" / "redis").mkdir(exist_ok=True)
    af = _airflow_bin()
    commands = [
        [redis, "--port", str(ports["redis"]), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(h / "airflow" / "redis"), "--protected-mode", "yes"],
        [af, "api-server"], [af, "scheduler"], [af, "dag-processor"], [af, "triggerer"],
    ]
    envs = [env] * len(commands)
    for n, name in enumerate(SCALE_WORKERS):
        commands.append([af, "celery", "worker", "--celery-hostname", f"{name}@{socket.gethostname()}"])
        envs.append({**env, "PCVE_WORKER_NAME": name,
                     "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(ports["worker_logs"] + n)})
    print(f"Airflow UI: {env['AIRFLOW__API__BASE_URL']}   user admin, password in "
          f"{h / 'airflow' / 'scale-secrets.json'} (key \"admin\")", flush=True)
    print(f"CeleryExecutor: redis on 127.0.0.1:{ports['redis']}, workers {', '.join(SCALE_WORKERS)}; "
          f"metadata DB {SCALE_METADATA_DB}, warehouse DB {SCALE_WAREHOUSE_DB}. Stop: Ctrl-C or "
          "`make airflow-stop`.", flush=True)
    return _supervise(h, commands, envs, restart=True)


def main(argv: list[str] | None = None) -> int:
    """python -m pcve.app.airflow_runner {standalone|pipeline|test DAG_ID} [--home DIR]"""
    import argparse

    p = argparse.ArgumentParser(prog="python -m pcve.app.airflow_runner")
    p.add_argument("command", choices=["standalone", "scale", "stop", "pipeline", "test", "init"])
    p.add_argument("dag_id", nargs="?")
    p.add_argument("--home", default=str(settings().home))
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--postgres", default=settings().scale_postgres,
                   help="scale: postgres://user:password@host:port/db of a role that may create databases")
    a = p.parse_args(argv)
    if a.command == "standalone":
        return standalone(a.home, port=a.port)
    if a.command == "scale":
        if not a.postgres:
            p.error("scale needs --postgres URL (scripts/airflow-scale.sh starts one)")
        if a.port:
            os.environ["PCVE_AIRFLOW_PORT"] = str(a.port)
        return scale(a.home, a.postgres)
    if a.command == "stop":
        res = stop_airflow(a.home)
        print(f"stopped {len(res['terminated'])} process(es) of {_home(a.home)}"
              + (f"; {len(res['killed'])} needed SIGKILL" if res["killed"] else "") if res["terminated"]
              else f"nothing of {_home(a.home)} was running")
        return 0
    if a.command == "init":
        ensure_pool(a.home)
        return 0
    if a.command == "pipeline":
        print(json.dumps(run_pipeline_via_airflow(a.home, progress=lambda d: print(f"airflow dags test {d}"))))
        return 0
    if not a.dag_id:
        p.error("test needs a DAG id")
    print(_tail(dags_test(a.home, a.dag_id)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
