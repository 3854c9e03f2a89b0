"""Run the project's DAGs with a local, embedded Airflow: `pcve demo`, `make airflow`, tests.

Everything Airflow keeps lives under `<home>/airflow/` (SQLite metadata DB, logs,
airflow.cfg), so a home is self-contained and two homes never share state.

- `airflow_env(home)`: the environment for any `airflow` subprocess on that home.
- `ensure_db(home)`, `ensure_pool(home)`: migrate once, create the writer pool.
- `dags_test(home, dag_id, conf=None, logical_date=None)`: one `airflow dags test` run.
- `run_pipeline_via_airflow(home)`: office_intake -> warehouse_build -> ministry_extract, in
  order (asset schedules do not fire under `dags test`, so the runner chains them).
- `standalone(home)`: `airflow standalone` on localhost:8080 over the same DAGs (`make airflow`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DAGS_FOLDER = REPO / "dags"
WRITER_POOL = "pcve_warehouse_writer"  # same name as dags/_common.py
PIPELINE_DAGS = ("office_intake", "warehouse_build", "ministry_extract")
DEFAULT_PORT = 8080

# Settings we own; inherited values of these are replaced (a developer's own AIRFLOW_HOME
# or a test's AIRFLOW__CORE__UNIT_TEST_MODE must not leak into the project's home).
_DROP = ("AIRFLOW_CONFIG", "AIRFLOW__CORE__SQL_ALCHEMY_CONN", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD",
         "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_SECRET")


class AirflowRunError(RuntimeError):
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
    port = int(port or os.getenv("PCVE_AIRFLOW_PORT", DEFAULT_PORT))
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in _DROP}
    all_admins = os.getenv("PCVE_AIRFLOW_ALL_ADMINS", "true").strip().lower() not in ("0", "false", "no")
    env.update(
        {
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
            "AIRFLOW__CORE__PARALLELISM": os.getenv("PCVE_AIRFLOW_PARALLELISM", "4"),
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(af / "logs"),
            "AIRFLOW__LOGGING__DAG_PROCESSOR_CHILD_PROCESS_LOG_DIRECTORY": str(af / "logs" / "dag_processor"),
            "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p),
            # `airflow standalone` starts its components as `airflow ...` found on PATH.
            "PATH": os.pathsep.join(p for p in (str(Path(sys.executable).parent), env.get("PATH", "")) if p),
        }
    )
    return env


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
            progress(f"airflow dags test {dag_id}")
        t0 = time.monotonic()
        dags_test(h, dag_id)
        took[dag_id] = round(time.monotonic() - t0, 1)
    return took


def password_file(home: str | os.PathLike) -> Path:
    return _home(home) / "airflow" / "simple_auth_manager_passwords.json.generated"


def standalone(home: str | os.PathLike, port: int | None = None, exec_: bool = True) -> int:
    """`make airflow`: migrate, create the pool, then `airflow standalone` on localhost.

    With exec_ (the default) this process becomes `airflow standalone`, so Ctrl-C or a
    SIGTERM to its pid stops every component; otherwise it waits for the child.
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
    argv = [_airflow_bin(), "standalone"]
    if exec_:
        os.chdir(REPO)
        os.execve(argv[0], argv, env) if os.path.isabs(argv[0]) else os.execvpe(argv[0], argv, env)
    try:
        return subprocess.call(argv, env=env, cwd=str(REPO))
    except KeyboardInterrupt:
        return 0


def start_standalone(home: str | os.PathLike, port: int | None = None,
                     log_path: str | os.PathLike | None = None) -> subprocess.Popen:
    """Start `standalone(home)` in the background, in its own session (tests, scripts).

    Stop it with `stop_standalone(proc)`: `airflow standalone` does not pass a SIGTERM on to
    its components, so the whole process group has to be signalled.
    """
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL
    args = [sys.executable, "-m", "pcve.airflow_runner", "standalone", "--home", str(_home(home))]
    if port:
        args += ["--port", str(port)]
    return subprocess.Popen(args, cwd=str(REPO), stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)


def wait_until_healthy(port: int | None = None, timeout: float = 240,
                       proc: subprocess.Popen | None = None) -> dict:
    """Poll /api/v2/monitor/health until the DB, scheduler, triggerer and DAG processor are healthy."""
    import time
    import urllib.request

    port = int(port or os.getenv("PCVE_AIRFLOW_PORT", DEFAULT_PORT))
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


def stop_standalone(proc: subprocess.Popen, timeout: float = 15) -> None:
    """Stop what `start_standalone` started: SIGINT (as Ctrl-C), then SIGTERM, then SIGKILL,
    each to its whole process group, until no process of the group is left."""
    import signal
    import time

    for sig, grace in ((signal.SIGINT, timeout), (signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            proc.poll()  # reap the leader, or it stays in the group as a zombie
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    """python -m pcve.airflow_runner {standalone|pipeline|test DAG_ID} [--home DIR]"""
    import argparse

    p = argparse.ArgumentParser(prog="python -m pcve.airflow_runner")
    p.add_argument("command", choices=["standalone", "pipeline", "test", "init"])
    p.add_argument("dag_id", nargs="?")
    p.add_argument("--home", default=os.getenv("PCVE_HOME", str(REPO / "demo")))
    p.add_argument("--port", type=int, default=None)
    a = p.parse_args(argv)
    if a.command == "standalone":
        return standalone(a.home, port=a.port)
    if a.command == "init":
        ensure_pool(a.home)
        return 0
    if a.command == "pipeline":
        print(json.dumps(run_pipeline_via_airflow(a.home, progress=print)))
        return 0
    if not a.dag_id:
        p.error("test needs a DAG id")
    print(_tail(dags_test(a.home, a.dag_id)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
